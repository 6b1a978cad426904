package dev.thoughtstream.llm.model;

import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.http.client.HttpClient;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.DefaultServerSentEventParser;
import dev.langchain4j.http.client.sse.ServerSentEvent;
import dev.langchain4j.http.client.sse.ServerSentEventContext;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.langchain4j.http.client.sse.ServerSentEventListenerUtils;
import dev.langchain4j.http.client.sse.ServerSentEventParser;
import dev.langchain4j.http.client.sse.ServerSentEventParsingHandle;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpResponse.BodySubscriber;
import java.net.http.HttpResponse.BodySubscribers;
import java.net.http.HttpResponse.ResponseInfo;
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
import java.util.concurrent.Flow;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LangChain4j's HTTP client contract on the JDK's {@link java.net.http.HttpClient}, asynchronous from end to end: no
 * thread is held while a stream is open, so one instance can keep hundreds of model calls streaming at once. It
 * behaves like LangChain4j's own {@code JdkHttpClient} (same timeouts, same callbacks), except that:
 * <ul>
 *   <li>the body arrives as lines ({@link BodySubscribers#fromLineSubscriber}) and each complete event is handed to
 *       the listener as it arrives; OpenAI's server-sent events are framed by {@link DefaultServerSentEventParser}'s
 *       exact rules ({@link SseFraming});</li>
 *   <li>one {@link ServerSentEventContext} serves the whole stream, and its handle's {@code cancel()} ends it;</li>
 *   <li>a {@link CallAbort} bound to the calling thread can end the call before any token, and the listener then
 *       hears {@code onError} with a {@link CancellationException};</li>
 *   <li>an error status is an {@link HttpStatusException}, which keeps {@code Retry-After};</li>
 *   <li>it speaks HTTP/1.1, because over HTTP/2 the JDK client fails requests beyond the server's concurrent-stream
 *       limit instead of queuing them (JDK-8225647).</li>
 * </ul>
 * Why each of these, in detail: docs/llm-processor.md, "Timeouts". Multipart form data (file uploads) is not
 * supported; chat requests never use it.
 */
public final class AbortableHttpClient implements HttpClient {
    private static final Logger LOG = LoggerFactory.getLogger(AbortableHttpClient.class);
    /** Error bodies are read up to this size: a provider's error message, not a download. */
    private static final int MAX_ERROR_BODY_BYTES = 64 * 1024;

    private final java.net.http.HttpClient jdk;
    private final Duration readTimeout;

    /**
     * @param connectTimeout the connection's timeout; null for the JDK's default
     * @param readTimeout    how long to wait for the response headers; null for none
     * @param executor       where the JDK client runs its tasks and our callbacks: short ones only, nothing blocks
     *                       on it for long
     */
    AbortableHttpClient(Duration connectTimeout, Duration readTimeout, Executor executor) {
        java.net.http.HttpClient.Builder builder = java.net.http.HttpClient.newBuilder()
                .version(java.net.http.HttpClient.Version.HTTP_1_1)
                .executor(executor);
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
        if (!successful(response.statusCode())) {
            throw new HttpStatusException(
                    response.statusCode(),
                    new String(response.body(), StandardCharsets.UTF_8),
                    response.headers().firstValue("Retry-After").orElse(null));
        }
        return toResponse(response.statusCode(), response.headers(), response.body());
    }

    @Override
    public void execute(HttpRequest request, ServerSentEventParser parser, ServerSentEventListener listener) {
        Exchange exchange = new Exchange(parser, listener);
        CallAbort abort = CallAbort.bound();
        java.net.http.HttpRequest jdkRequest;
        try {
            jdkRequest = toJdk(request);
        } catch (RuntimeException e) {
            exchange.fail(e);
            return;
        }
        CompletableFuture<HttpResponse<Void>> sent = jdk.sendAsync(jdkRequest, exchange);
        exchange.sent = sent;
        if (abort != null) {
            abort.attach(exchange::abort);
        }
        sent.whenComplete((response, error) -> {
            if (error != null) {
                exchange.fail(unwrap(error));
            }
        });
    }

    /** The body subscriber of a successful streaming response, on its own: tests feed it bytes. */
    static BodySubscriber<Void> eventBody(ServerSentEventParser parser, ServerSentEventListener listener) {
        return new Exchange(parser, listener).eventBody();
    }

    /**
     * One streaming exchange: the body handler, the one context the listener sees, and the end, which happens once
     * (completion, failure or abort, whichever comes first); nothing reaches the listener after it.
     */
    private static final class Exchange implements BodyHandler<Void>, ServerSentEventParsingHandle {
        private final ServerSentEventParser parser;
        private final ServerSentEventListener listener;
        private final ServerSentEventContext context = new ServerSentEventContext(this);
        private final AtomicBoolean ended = new AtomicBoolean();
        private volatile boolean cancelled;
        private volatile CompletableFuture<HttpResponse<Void>> sent;
        private volatile Flow.Subscription subscription;

        Exchange(ServerSentEventParser parser, ServerSentEventListener listener) {
            this.parser = parser;
            this.listener = listener;
        }

        @Override
        public BodySubscriber<Void> apply(ResponseInfo info) {
            if (ended.get()) {
                return BodySubscribers.replacing(null);
            }
            if (!successful(info.statusCode())) {
                return new ErrorBody(this, info);
            }
            notify(() -> listener.onOpen(toResponse(info.statusCode(), info.headers(), null)));
            return eventBody();
        }

        /** A successful response's body: lines, framed into events for the listener. */
        BodySubscriber<Void> eventBody() {
            Framing framing = parser instanceof DefaultServerSentEventParser
                    ? new SseFraming(this::event)
                    : new ParserPerLine(parser, this::event);
            return BodySubscribers.fromLineSubscriber(
                    new Lines(this, framing), lines -> null, StandardCharsets.UTF_8, null);
        }

        /** An event for the listener, unless the stream has ended or was cancelled. */
        void event(ServerSentEvent event) {
            if (!ended.get() && !cancelled) {
                notify(() -> listener.onEvent(event, context));
            }
        }

        /** The body ended normally. */
        void complete() {
            if (ended.compareAndSet(false, true)) {
                notify(listener::onClose);
            }
        }

        /** The exchange failed: before the headers (no onClose, as the stock client), or while reading. */
        void fail(Throwable error) {
            if (ended.compareAndSet(false, true)) {
                notify(() -> listener.onError(failure(error)));
            }
        }

        void failWhileReading(Throwable error) {
            if (ended.compareAndSet(false, true)) {
                notify(() -> listener.onError(error));
                notify(listener::onClose);
            }
        }

        /** Whoever holds the call's {@link CallAbort} gave up on it. */
        void abort() {
            boolean first = ended.compareAndSet(false, true);
            stop();
            if (first) {
                notify(() -> listener.onError(new CancellationException("the model call was aborted")));
            }
        }

        /** The parsing handle's cancel (LangChain4j's {@code StreamingHandle.cancel()}): no more events. */
        @Override
        public void cancel() {
            cancelled = true;
            boolean first = ended.compareAndSet(false, true);
            stop();
            if (first) {
                // The stock client closes the parser's stream; the listener then hears the close and, seeing its
                // handle cancelled, completes nothing.
                notify(listener::onClose);
            }
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        /** Ends the exchange whatever its state: the future before the headers, the subscription after them. */
        private void stop() {
            CompletableFuture<HttpResponse<Void>> f = sent;
            if (f != null) {
                f.cancel(true);
            }
            Flow.Subscription s = subscription;
            if (s != null) {
                s.cancel();
            }
        }

        void subscribed(Flow.Subscription s) {
            subscription = s;
            if (ended.get()) {
                // An abort that came before there was a body found nothing to cancel: cancel it now.
                s.cancel();
            } else {
                s.request(Long.MAX_VALUE);
            }
        }

        /** Listener failures must not stop the stream's bookkeeping, as in LangChain4j's own client. */
        private static void notify(Runnable callback) {
            ServerSentEventListenerUtils.ignoringExceptions(callback);
        }
    }

    /** The lines of a successful response's body, fed to the framing. */
    private static final class Lines implements Flow.Subscriber<String> {
        private final Exchange exchange;
        private final Framing framing;

        Lines(Exchange exchange, Framing framing) {
            this.exchange = exchange;
            this.framing = framing;
        }

        @Override
        public void onSubscribe(Flow.Subscription subscription) {
            exchange.subscribed(subscription);
        }

        @Override
        public void onNext(String line) {
            framing.line(line);
        }

        @Override
        public void onError(Throwable error) {
            exchange.failWhileReading(
                    error instanceof IOException || error instanceof RuntimeException ? error : new IOException(error));
        }

        @Override
        public void onComplete() {
            framing.end();
            exchange.complete();
        }
    }

    /** How lines become events. */
    interface Framing {
        void line(String line);

        /** The body ended: what is left becomes an event if the format says so. */
        void end();
    }

    /**
     * Server-sent events by the rules of LangChain4j's {@link DefaultServerSentEventParser} (checked against it by
     * {@code AbortableHttpClientFramingTest}): {@code event:} sets the type, {@code data:} lines are trimmed and
     * joined with line breaks, a blank line dispatches what was gathered (nothing when no data), other lines (SSE
     * comments, {@code id:}) are ignored, and data left at the end of the body is dispatched too.
     */
    static final class SseFraming implements Framing {
        private final java.util.function.Consumer<ServerSentEvent> events;
        private final StringBuilder data = new StringBuilder();
        private String type;

        SseFraming(java.util.function.Consumer<ServerSentEvent> events) {
            this.events = events;
        }

        @Override
        public void line(String line) {
            if (line.isEmpty()) {
                if (data.length() > 0) {
                    events.accept(new ServerSentEvent(type, data.toString()));
                    type = null;
                    data.setLength(0);
                }
            } else if (line.startsWith("event:")) {
                type = line.substring("event:".length()).trim();
            } else if (line.startsWith("data:")) {
                if (data.length() > 0) {
                    data.append('\n');
                }
                data.append(line.substring("data:".length()).trim());
            }
        }

        @Override
        public void end() {
            if (data.length() > 0) {
                events.accept(new ServerSentEvent(type, data.toString()));
                data.setLength(0);
            }
        }
    }

    /**
     * Any other parser, given one line at a time: exact for a parser that makes one event of every line (Ollama's
     * newline-delimited JSON). The events it reports go to the listener with the stream's own context rather than
     * the one the parser makes for each line, so that cancelling through it ends the real exchange.
     */
    static final class ParserPerLine implements Framing {
        private final ServerSentEventParser parser;
        private final ServerSentEventListener events;

        ParserPerLine(ServerSentEventParser parser, java.util.function.Consumer<ServerSentEvent> sink) {
            this.parser = parser;
            this.events = new ServerSentEventListener() {
                @Override
                public void onEvent(ServerSentEvent event, ServerSentEventContext ignored) {
                    sink.accept(event);
                }

                @Override
                public void onEvent(ServerSentEvent event) {
                    sink.accept(event);
                }

                @Override
                public void onError(Throwable error) {
                    // Reading a line from memory cannot fail; a parser that reports anything else is logged.
                    LOG.warn("the stream parser failed on a line; skipped", error);
                }
            };
        }

        @Override
        public void line(String line) {
            parser.parse(new ByteArrayInputStream((line + "\n").getBytes(StandardCharsets.UTF_8)), events);
        }

        @Override
        public void end() {
            // Every line was handed over as it came.
        }
    }

    /** An error status's body, read up to {@link #MAX_ERROR_BODY_BYTES}, then reported with its Retry-After. */
    private static final class ErrorBody implements BodySubscriber<Void> {
        private final Exchange exchange;
        private final ResponseInfo info;
        private final ByteArrayOutputStream body = new ByteArrayOutputStream();
        private final CompletableFuture<Void> done = new CompletableFuture<>();
        private Flow.Subscription subscription;

        ErrorBody(Exchange exchange, ResponseInfo info) {
            this.exchange = exchange;
            this.info = info;
        }

        @Override
        public CompletionStage<Void> getBody() {
            return done;
        }

        @Override
        public void onSubscribe(Flow.Subscription s) {
            subscription = s;
            exchange.subscription = s;
            s.request(Long.MAX_VALUE);
        }

        @Override
        public void onNext(List<ByteBuffer> buffers) {
            for (ByteBuffer buffer : buffers) {
                int take = Math.min(buffer.remaining(), MAX_ERROR_BODY_BYTES - body.size());
                byte[] bytes = new byte[take];
                buffer.get(bytes);
                body.write(bytes, 0, take);
            }
            if (body.size() >= MAX_ERROR_BODY_BYTES) {
                subscription.cancel();
                report();
            }
        }

        @Override
        public void onError(Throwable error) {
            report();
        }

        @Override
        public void onComplete() {
            report();
        }

        private void report() {
            done.complete(null);
            exchange.fail(new HttpStatusException(
                    info.statusCode(),
                    body.toString(StandardCharsets.UTF_8),
                    info.headers().firstValue("Retry-After").orElse(null)));
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
        builder.method(
                request.method().name(),
                request.body() == null
                        ? java.net.http.HttpRequest.BodyPublishers.noBody()
                        : java.net.http.HttpRequest.BodyPublishers.ofString(request.body()));
        if (readTimeout != null) {
            builder.timeout(readTimeout);
        }
        return builder.build();
    }

    private static Throwable unwrap(Throwable error) {
        return error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
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

    private static boolean successful(int status) {
        return status >= 200 && status < 300;
    }

    private static SuccessfulHttpResponse toResponse(int status, HttpHeaders headers, byte[] body) {
        return SuccessfulHttpResponse.builder()
                .statusCode(status)
                .headers(headers.map())
                .body(body)
                .build();
    }
}
