package dev.thoughtstream.llm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.http.client.HttpMethod;
import dev.langchain4j.http.client.HttpRequest;
import dev.langchain4j.http.client.SuccessfulHttpResponse;
import dev.langchain4j.http.client.sse.DefaultServerSentEventParser;
import dev.langchain4j.http.client.sse.ServerSentEvent;
import dev.langchain4j.http.client.sse.ServerSentEventListener;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.llm.Behavior;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The HTTP client {@link ModelFactory} gives the streaming models: aborting at any stage, and Retry-After. */
class AbortableHttpClientTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String STREAMING_CHAT =
            "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";

    private final AbortableHttpClient client = new AbortableHttpClientBuilder()
            .connectTimeout(Duration.ofSeconds(10))
            .readTimeout(Duration.ofMinutes(5))
            .build();
    private final Recorder listener = new Recorder();
    private FakeLlmServer llm;

    @AfterEach
    void stopServer() {
        if (llm != null) {
            llm.close();
        }
    }

    @Test
    void anAbortWhileWaitingForTheResponseHeadersClosesTheConnection() throws Exception {
        // given a server that has read the request and does not answer
        try (RawServer server = new RawServer()) {
            CallAbort abort = new CallAbort();
            abort.bindDuring(() -> client.execute(request(server.url()), new DefaultServerSentEventParser(), listener));
            Await.until("the server has the request", TIMEOUT, server.requestRead::get);

            // when
            assertTrue(abort.abort(), "the exchange had attached itself");

            // then
            Await.until("the server sees the connection closed", TIMEOUT, server.clientLeft::get);
            Await.until("the listener hears of the abort", TIMEOUT, () -> !listener.errors.isEmpty());
            assertTrue(listener.events.isEmpty());
        }
    }

    @Test
    void anAbortAfterTheHeadersClosesTheStream() {
        llm = FakeLlmServer.builder()
                .probeInterval(Duration.ofMillis(20))
                .build()
                .start();
        llm.enqueue(Behavior.stallingAfter(0));
        CallAbort abort = new CallAbort();
        abort.bindDuring(() -> client.execute(
                request(llm.openAiBaseUrl() + "/chat/completions"), new DefaultServerSentEventParser(), listener));
        Await.until("the stream is open and silent", TIMEOUT, () -> llm.stalledResponses() == 1);
        Await.until("the headers reached the client", TIMEOUT, () -> listener.opened.get() == 1);

        abort.abort();

        Await.until("the server sees the client leave", TIMEOUT, () -> llm.abandonedStreams() == 1);
    }

    @Test
    void anAbortRequestedBeforeTheCallAttachedAbortsItOnAttaching() {
        CallAbort abort = new CallAbort();
        assertFalse(abort.abort(), "nothing attached yet");
        AtomicInteger aborted = new AtomicInteger();

        abort.attach(aborted::incrementAndGet);

        assertEquals(1, aborted.get());
        assertTrue(abort.isAborted());
    }

    @Test
    void anUnboundCallStreamsNormally() {
        llm = FakeLlmServer.builder().build().start();
        llm.enqueue(Behavior.replying("Hello there."));

        client.execute(
                request(llm.openAiBaseUrl() + "/chat/completions"), new DefaultServerSentEventParser(), listener);

        Await.until("the stream ends", TIMEOUT, () -> listener.closed.get());
        assertTrue(listener.events.stream().anyMatch(e -> e.data().contains("Hello")), listener.events::toString);
        assertTrue(listener.events.stream().anyMatch(e -> e.data().equals("[DONE]")));
        assertTrue(listener.errors.isEmpty(), listener.errors::toString);
    }

    @Test
    void anErrorStatusKeepsItsRetryAfterHeader() {
        llm = FakeLlmServer.builder().build().start();
        llm.enqueue(Behavior.rateLimited(7));

        client.execute(
                request(llm.openAiBaseUrl() + "/chat/completions"), new DefaultServerSentEventParser(), listener);

        Await.until("the error", TIMEOUT, () -> !listener.errors.isEmpty());
        HttpStatusException error = assertInstanceOf(HttpStatusException.class, listener.errors.get(0));
        assertEquals(429, error.statusCode());
        assertEquals(Optional.of("7"), error.retryAfter());
        assertEquals(ErrorKind.RATE_LIMITED, ErrorKind.of(error));
    }

    @Test
    void theBlockingCallReportsErrorStatusesTheSameWay() {
        llm = FakeLlmServer.builder().build().start();
        llm.enqueue(Behavior.rateLimited(3));
        HttpRequest blocking = HttpRequest.builder()
                .method(HttpMethod.POST)
                .url(llm.openAiBaseUrl() + "/chat/completions")
                .addHeader("Content-Type", "application/json")
                .body("{\"model\":\"m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}")
                .build();

        HttpStatusException error = assertThrows(HttpStatusException.class, () -> client.execute(blocking));
        assertEquals(Optional.of("3"), error.retryAfter());

        SuccessfulHttpResponse ok = client.execute(blocking);
        assertEquals(200, ok.statusCode());
        assertTrue(ok.body().contains("chat.completion"), ok.body());
    }

    private static HttpRequest request(String url) {
        return HttpRequest.builder()
                .method(HttpMethod.POST)
                .url(url)
                .addHeader("Content-Type", "application/json")
                .body(STREAMING_CHAT)
                .build();
    }

    private static final class Recorder implements ServerSentEventListener {
        final List<ServerSentEvent> events = new CopyOnWriteArrayList<>();
        final List<Throwable> errors = new CopyOnWriteArrayList<>();
        final AtomicInteger opened = new AtomicInteger();
        final AtomicBoolean closed = new AtomicBoolean();

        @Override
        public void onOpen(SuccessfulHttpResponse response) {
            opened.incrementAndGet();
        }

        @Override
        public void onEvent(ServerSentEvent event) {
            events.add(event);
        }

        @Override
        public void onError(Throwable throwable) {
            errors.add(throwable);
        }

        @Override
        public void onClose() {
            closed.set(true);
        }
    }

    /**
     * A bare HTTP/1.1 server for one connection that never answers: reads the request, then reads on until the client
     * closes the connection (which only a closed connection makes {@code read()} report). The JDK's HttpServer cannot
     * tell that a client left before the response started; a plain socket can.
     */
    private static final class RawServer implements AutoCloseable {
        final AtomicBoolean requestRead = new AtomicBoolean();
        final AtomicBoolean clientLeft = new AtomicBoolean();
        private final ServerSocket socket;
        private final Thread thread;

        RawServer() throws IOException {
            socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
            thread = new Thread(this::serve, "raw-llm-server");
            thread.setDaemon(true);
            thread.start();
        }

        String url() {
            return "http://127.0.0.1:" + socket.getLocalPort() + "/v1/chat/completions";
        }

        private void serve() {
            try (Socket connection = socket.accept();
                    InputStream in = connection.getInputStream()) {
                int contentLength = 0;
                String line;
                while (!(line = readLine(in)).isEmpty()) {
                    if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
                        contentLength = Integer.parseInt(
                                line.substring("content-length:".length()).trim());
                    }
                }
                in.readNBytes(contentLength);
                requestRead.set(true);
                while (in.read() >= 0) {
                    // Nothing more is expected from the client; -1 means it closed the connection.
                }
                clientLeft.set(true);
            } catch (IOException e) {
                clientLeft.set(true); // a reset is the client leaving too
            }
        }

        private static String readLine(InputStream in) throws IOException {
            StringBuilder line = new StringBuilder();
            int c;
            while ((c = in.read()) >= 0 && c != '\n') {
                if (c != '\r') {
                    line.append((char) c);
                }
            }
            return line.toString();
        }

        @Override
        public void close() throws IOException {
            socket.close();
            thread.interrupt();
        }
    }
}
