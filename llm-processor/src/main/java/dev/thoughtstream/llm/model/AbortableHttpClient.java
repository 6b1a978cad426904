package dev.thoughtstream.llm.model;

import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.http.client.HttpClient;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import dev.thoughtstream.common.service.NamedThreads;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse.BodySubscribers;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.Flow;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LangChain4j's HTTP client contract on the JDK's {@link java.net.http.HttpClient}, behaving like LangChain4j's own
 * {@code JdkHttpClient} (same timeouts: {@code connectTimeout} for the connection, {@code readTimeout} for the
 * response headers; same callbacks: {@code onOpen}, the parser's events, {@code onError} for an I/O failure while
 * reading, then {@code onClose}) with two additions the reply generation needs:
 * <ul>
 *   <li>a streaming call made while a {@link CallAbort} is bound to the calling thread can be aborted through it at
 *       any time: while waiting for the response headers, {@code cancel(true)} on the JDK's future ends the exchange
 *       (JDK 16 and later; on 17 an abort before the connection exists means none is made, after it the connection
 *       is closed); while the body streams, the body is closed, which closes the connection and wakes the reader;
 *   <li>an error status is reported as {@link HttpStatusException}, which keeps the {@code Retry-After} header.
 * </ul>
 * Multipart form data (file uploads) is not supported; chat requests never use it.
 *
 * <p>Threads: a streamed body is read (blocking) on a named daemon thread of this client's own cached pool
 * ({@code llm-http-stream-N}, idle threads end after a minute). The stock client reads on whatever thread completes
 * the JDK's future, which is the common {@code ForkJoinPool} (or a new unnamed thread per response on a machine with
 * two cores): blocking the common pool for the length of every stream.
 */
final class AbortableHttpClient implements HttpClient {
    private static final Logger LOG = LoggerFactory.getLogger(AbortableHttpClient.class);
    /** Error bodies are read up to this size: a provider's error message, not a download. */
    private static final int MAX_ERROR_BODY_BYTES = 64 * 1024;

    private final java.net.http.HttpClient jdk;
    private final Duration readTimeout;
    private final Executor streamReaders = Executors.newCachedThreadPool(NamedThreads.factory("llm-http-stream", true));

    AbortableHttpClient(Duration connectTimeout, Duration readTimeout) {
        java.net.http.HttpClient.Builder builder = java.net.http.HttpClient.newBuilder();
        if (connectTimeout != null) {
            builder.connectTimeout(connectTimeout);
        }
        this.jdk = builder.build();
        this.readTimeout = readTimeout;
    }

    @Override
    public SuccessfulHttpResponse execute(HttpRequest request) {
        CompletableFuture<HttpResponse<byte[]>> exchange = jdk.sendAsync(toJdk(request), BodyHandlers.ofByteArray());
        CallAbort abort = CallAbort.bound();
        if (abort != null) {
            abort.attach(() -> exchange.cancel(true));
        }
        HttpResponse<byte[]> response;
        try {
            response = exchange.get();
        } catch (InterruptedException e) {
            exchange.cancel(true);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + request.url(), e);
        } catch (ExecutionException e) {
            throw failure(e.getCause());
        } catch (CancellationException e) {
            throw new IllegalStateException("request to " + request.url() + " aborted", e);
        }
        if (!successful(response)) {
            throw new HttpStatusException(response.statusCode(), new String(response.body(), StandardCharsets.UTF_8),
                    response.headers().firstValue("Retry-After").orElse(null));
        }
        return toResponse(response, response.body());
    }

    @Override
    public void execute(HttpRequest request, ServerSentEventParser parser, ServerSentEventListener listener) {
        CallAbort abort = CallAbort.bound();
        GuardedBody guard = new GuardedBody(abort);
        CompletableFuture<HttpResponse<InputStream>> exchange = jdk.sendAsync(toJdk(request), guard);
        if (abort != null) {
            abort.attach(() -> {
                // Waiting for the headers: the JDK ends the exchange and closes its connection. Streaming: the
                // future is done (a no-op then), and closing the body closes the connection.
                exchange.cancel(true);
                guard.cancel();
            });
        }
        exchange.thenAcceptAsync(response -> {
            if (!successful(response)) {
                HttpStatusException error = new HttpStatusException(response.statusCode(), readError(response),
                        response.headers().firstValue("Retry-After").orElse(null));
                notify(() -> listener.onError(error));
                return;
            }
            notify(() -> listener.onOpen(toResponse(response, null)));
            try (InputStream in = response.body()) {
                parser.parse(in, listener);
                notify(listener::onClose);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, streamReaders).exceptionally(error -> {
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            notify(() -> listener.onError(failure(cause)));
            return null;
        });
    }

    /**
     * The JDK's input-stream body, plus a way to end it from outside whatever the state of the exchange: closing the
     * stream cancels its subscription (which closes the connection) and wakes a reader blocked on it with
     * {@code IOException("closed")}. It is also closed when the headers arrive after an abort, should the JDK ever
     * deliver a response to an exchange whose future was cancelled.
     */
    private static final class GuardedBody implements BodyHandler<InputStream> {
        private final CallAbort abort;
        private volatile InputStream stream;
        private volatile boolean cancelled;

        GuardedBody(CallAbort abort) {
            this.abort = abort;
        }

        void cancel() {
            cancelled = true;
            InputStream in = stream;
            if (in != null) {
                closeQuietly(in);
            }
        }

        @Override
        public BodySubscriber<InputStream> apply(HttpResponse.ResponseInfo info) {
            BodySubscriber<InputStream> body = BodySubscribers.ofInputStream();
            return new BodySubscriber<>() {
                @Override
                public CompletionStage<InputStream> getBody() {
                    return body.getBody();
                }

                @Override
                public void onSubscribe(Flow.Subscription s) {
                    body.onSubscribe(s);
                    InputStream in = body.getBody().toCompletableFuture().getNow(null);
                    stream = in;
                    // An abort that came before there was a stream found nothing to close: close it now.
                    if (in != null && (cancelled || (abort != null && abort.isAborted()))) {
                        closeQuietly(in);
                    }
                }

                @Override
                public void onNext(List<ByteBuffer> item) {
                    body.onNext(item);
                }

                @Override
                public void onError(Throwable throwable) {
                    body.onError(throwable);
                }

                @Override
                public void onComplete() {
                    body.onComplete();
                }
            };
        }
    }

    private java.net.http.HttpRequest toJdk(HttpRequest request) {
        if (!request.formDataFields().isEmpty() || !request.formDataFiles().isEmpty()) {
            throw new UnsupportedOperationException("multipart form data is not supported by this client");
        }
        java.net.http.HttpRequest.Builder builder = java.net.http.HttpRequest.newBuilder(URI.create(request.url()));
        request.headers().forEach((name, values) -> {
            if (values != null) {
                values.forEach(value -> builder.header(name, value));
            }
        });
        builder.method(request.method().name(), request.body() == null
                ? java.net.http.HttpRequest.BodyPublishers.noBody()
                : java.net.http.HttpRequest.BodyPublishers.ofString(request.body()));
        if (readTimeout != null) {
            builder.timeout(readTimeout);
        }
        return builder.build();
    }

    /** The exception LangChain4j's own client would report: its {@code TimeoutException} for a timeout. */
    private static RuntimeException failure(Throwable cause) {
        if (cause instanceof HttpTimeoutException) {
            return new TimeoutException(cause);
        }
        if (cause instanceof RuntimeException runtime) {
            return runtime;
        }
        return new UncheckedIOException(cause instanceof IOException io ? io : new IOException(cause));
    }

    private static boolean successful(HttpResponse<?> response) {
        return response.statusCode() >= 200 && response.statusCode() < 300;
    }

    private static SuccessfulHttpResponse toResponse(HttpResponse<?> response, byte[] body) {
        return SuccessfulHttpResponse.builder()
                .statusCode(response.statusCode())
                .headers(response.headers().map())
                .body(body)
                .build();
    }

    private static String readError(HttpResponse<InputStream> response) {
        try (InputStream in = response.body()) {
            return new String(in.readNBytes(MAX_ERROR_BODY_BYTES), StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(error body unreadable: " + e.getMessage() + ")";
        }
    }

    private static void closeQuietly(InputStream in) {
        try {
            in.close();
        } catch (IOException e) {
            // The connection is being thrown away; a failure to close it cleanly changes nothing.
            LOG.debug("closing an aborted response body failed: {}", e.toString());
        }
    }

    /** Listener failures must not stop the stream's bookkeeping, as in LangChain4j's own client. */
    private static void notify(Runnable callback) {
        try {
            callback.run();
        } catch (RuntimeException e) {
            LOG.warn("a model's HTTP listener failed; ignored", e);
        }
    }
}
