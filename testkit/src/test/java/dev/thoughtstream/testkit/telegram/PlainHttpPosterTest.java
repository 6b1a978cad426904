package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The webhook's plain HTTP/1.1 POST against a scripted server socket: each connection answers the responses queued
 * for it, in the shapes a webhook may answer (no body, a sized body, a chunked body, a body up to the close), and a
 * kept-alive connection the server closed meanwhile is replaced without losing the request.
 */
class PlainHttpPosterTest {
    private final ServerSocket server;
    private final BlockingQueue<String> answers = new LinkedBlockingQueue<>();
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger connections = new AtomicInteger();
    /** After this many requests on a connection, the server closes it without answering the next one. */
    private volatile int requestsPerConnection = Integer.MAX_VALUE;

    private final Thread acceptor;
    private final PlainHttpPoster poster = new PlainHttpPoster(Duration.ofSeconds(5), Duration.ofSeconds(5));

    PlainHttpPosterTest() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        acceptor = new Thread(this::accept, "scripted-webhook");
        acceptor.setDaemon(true);
        acceptor.start();
    }

    @AfterEach
    void stop() throws Exception {
        poster.close();
        server.close();
        acceptor.join(5000);
    }

    private void accept() {
        while (!server.isClosed()) {
            try {
                Socket s = server.accept();
                connections.incrementAndGet();
                Thread t = new Thread(() -> serve(s), "scripted-webhook-connection");
                t.setDaemon(true);
                t.start();
            } catch (IOException e) {
                return;
            }
        }
    }

    private void serve(Socket socket) {
        try (socket;
                BufferedReader in = new BufferedReader(
                        new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1));
                OutputStream out = socket.getOutputStream()) {
            for (int served = 0; ; served++) {
                String requestLine = in.readLine();
                if (requestLine == null) {
                    return;
                }
                int length = 0;
                StringBuilder headers = new StringBuilder();
                for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
                    headers.append(h).append('\n');
                    if (h.toLowerCase().startsWith("content-length:")) {
                        length = Integer.parseInt(h.substring(15).trim());
                    }
                }
                char[] body = new char[length];
                for (int read = 0; read < length; ) {
                    read += in.read(body, read, length - read);
                }
                if (served >= requestsPerConnection) {
                    // Closes a kept-alive connection without answering, as a server that timed it out does.
                    return;
                }
                requests.add(requestLine + "\n" + headers + new String(body));
                String answer = answers.poll(5, TimeUnit.SECONDS);
                out.write(answer.getBytes(StandardCharsets.ISO_8859_1));
                out.flush();
                if (answer.contains("Connection: close")
                        || !answer.contains("Content-Length")
                                && !answer.contains("chunked")
                                && !answer.startsWith("HTTP/1.1 204")) {
                    return;
                }
            }
        } catch (IOException | InterruptedException e) {
            // The test is over, or the client went away.
        }
    }

    private URI url() {
        return URI.create("http://127.0.0.1:" + server.getLocalPort() + "/hook/abc?x=1");
    }

    @Test
    void postsTheUpdateAndReadsEveryShapeOfAnswerOnOneKeptAliveConnection() throws Exception {
        // given answers with no body, a sized body, a chunked body
        answers.add("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        answers.add("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 5\r\n\r\nlater");
        answers.add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n");

        // when three updates are posted
        int first = poster.postJson(
                url(),
                Map.of("X-Telegram-Bot-Api-Secret-Token", "s3cret"),
                "{\"update_id\":1}".getBytes(StandardCharsets.UTF_8));
        int second = poster.postJson(url(), Map.of(), "{\"update_id\":2}".getBytes(StandardCharsets.UTF_8));
        int third = poster.postJson(url(), Map.of(), "{\"update_id\":3}".getBytes(StandardCharsets.UTF_8));

        // then each status is read, over one connection, and the request is what Telegram sends
        assertEquals(List.of(200, 503, 200), List.of(first, second, third));
        assertEquals(1, connections.get());
        String request = requests.get(0);
        assertTrue(request.startsWith("POST /hook/abc?x=1 HTTP/1.1\n"), request);
        assertTrue(request.contains("Content-Type: application/json"), request);
        assertTrue(request.contains("X-Telegram-Bot-Api-Secret-Token: s3cret"), request);
        assertTrue(request.endsWith("{\"update_id\":1}"), request);
    }

    @Test
    void aBodyUpToTheCloseIsReadAndTheConnectionNotReused() throws Exception {
        // given an answer without length or chunks, then a normal one
        answers.add("HTTP/1.1 200 OK\r\n\r\nsee you");
        answers.add("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

        // when / then
        assertEquals(200, poster.postJson(url(), Map.of(), "{}".getBytes(StandardCharsets.UTF_8)));
        assertEquals(200, poster.postJson(url(), Map.of(), "{}".getBytes(StandardCharsets.UTF_8)));
        assertEquals(2, connections.get());
    }

    @Test
    void aKeptAliveConnectionTheServerDroppedIsReplacedAndTheRequestStillDelivered() throws Exception {
        // given a server that answers one request per connection and drops the connection at the next
        requestsPerConnection = 1;
        answers.add("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        answers.add("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");

        // when two updates are posted
        assertEquals(200, poster.postJson(url(), Map.of(), "{\"update_id\":1}".getBytes(StandardCharsets.UTF_8)));
        assertEquals(200, poster.postJson(url(), Map.of(), "{\"update_id\":2}".getBytes(StandardCharsets.UTF_8)));

        // then the second went over a new connection, once
        assertEquals(2, connections.get());
        assertEquals(2, requests.size());
        assertTrue(requests.get(1).endsWith("{\"update_id\":2}"));
    }

    @Test
    void nobodyListeningIsAnError() throws Exception {
        int port;
        try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = closed.getLocalPort();
        }
        assertThrows(
                IOException.class,
                () -> poster.postJson(
                        URI.create("http://127.0.0.1:" + port + "/hook"),
                        Map.of(),
                        "{}".getBytes(StandardCharsets.UTF_8)));
    }
}
