package dev.thoughtstream.testkit.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thoughtstream.testkit.Await;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link FakeLlmServer} counts the chat requests it handles at once, and can hold them until the test lets go. */
class FakeLlmServerConcurrencyTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final int REQUESTS = 12;

    @ParameterizedTest
    @EnumSource(WireFormat.class)
    void heldRequestsCountAsConcurrentUntilReleased(WireFormat format) throws Exception {
        try (FakeLlmServer server = FakeLlmServer.startOnFreePort()) {
            // given a server that holds every chat request
            server.holdRequests();
            HttpClient http =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

            // when a dozen requests are sent at once
            List<CompletableFuture<HttpResponse<String>>> responses = new ArrayList<>();
            for (int i = 0; i < REQUESTS; i++) {
                responses.add(http.sendAsync(chat(server, format, i), HttpResponse.BodyHandlers.ofString()));
            }

            // then all of them are in the server at the same time, and none is answered while held
            Await.until("all requests held", TIMEOUT, () -> server.activeRequests() == REQUESTS);
            assertEquals(REQUESTS, server.peakConcurrentRequests());
            assertEquals(0, responses.stream().filter(CompletableFuture::isDone).count());

            // when they are released, they are answered, and the peak stays what it was
            server.releaseRequests();
            for (CompletableFuture<HttpResponse<String>> response : responses) {
                assertEquals(200, response.get().statusCode());
            }
            Await.until("no request active", TIMEOUT, () -> server.activeRequests() == 0);
            assertEquals(REQUESTS, server.peakConcurrentRequests());

            // and a reset starts counting the peak again
            server.reset();
            assertEquals(0, server.peakConcurrentRequests());
        }
    }

    @ParameterizedTest
    @EnumSource(WireFormat.class)
    void requestsSentOneAfterAnotherNeverOverlap(WireFormat format) throws Exception {
        try (FakeLlmServer server = FakeLlmServer.startOnFreePort()) {
            HttpClient http =
                    HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

            // when requests are sent one after another, each once the server is done with the one before
            for (int i = 0; i < 3; i++) {
                assertEquals(
                        200,
                        http.send(chat(server, format, i), HttpResponse.BodyHandlers.ofString())
                                .statusCode());
                Await.until("the server is done with the request", TIMEOUT, () -> server.activeRequests() == 0);
            }

            // then the server never had two at once
            assertEquals(1, server.peakConcurrentRequests());
        }
    }

    private static HttpRequest chat(FakeLlmServer server, WireFormat format, int n) {
        String url = format == WireFormat.OPENAI
                ? server.openAiBaseUrl() + "/chat/completions"
                : server.ollamaBaseUrl() + "/api/chat";
        String body =
                "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hello " + n + "\"}]}";
        return HttpRequest.newBuilder(URI.create(url))
                .timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }
}
