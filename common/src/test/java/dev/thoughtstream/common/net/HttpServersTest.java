package dev.thoughtstream.common.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.sun.net.httpserver.HttpServer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class HttpServersTest {
    private String before;

    @BeforeEach
    void remember() {
        before = System.getProperty(HttpServers.NO_DELAY);
    }

    @AfterEach
    void restore() {
        if (before == null) {
            System.clearProperty(HttpServers.NO_DELAY);
        } else {
            System.setProperty(HttpServers.NO_DELAY, before);
        }
    }

    @Test
    void aServerCreatedHereTurnsNaglesDelayOffUnlessTheOperatorChoseOtherwise() throws Exception {
        // given nothing chosen, when a server is created, then TCP_NODELAY is on for the JVM's servers
        System.clearProperty(HttpServers.NO_DELAY);
        HttpServer server = HttpServers.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        try {
            assertEquals("true", System.getProperty(HttpServers.NO_DELAY));
            // and it serves as any JDK server does
            server.createContext("/", exchange -> {
                byte[] body = "ok".getBytes();
                exchange.sendResponseHeaders(200, body.length);
                exchange.getResponseBody().write(body);
                exchange.close();
            });
            server.start();
            HttpResponse<String> answer = HttpClient.newHttpClient()
                    .send(
                            HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                                            + server.getAddress().getPort() + "/"))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
            assertEquals("ok", answer.body());
        } finally {
            server.stop(0);
        }

        // given the operator's explicit choice, then it is kept
        System.setProperty(HttpServers.NO_DELAY, "false");
        HttpServers.noDelay();
        assertEquals("false", System.getProperty(HttpServers.NO_DELAY));
    }
}
