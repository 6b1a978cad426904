package dev.thoughtstream.testkit.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link FakeLlmServer} tells a {@link TokenListener} of every token it streams, in order, as it writes it. */
class FakeLlmServerTokenListenerTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final String REPLY = "First paragraph here.\n\nSecond one, a little longer than the first.";

    private record Told(RecordedRequest request, List<String> tokens, int index, Instant at) {}

    @ParameterizedTest
    @EnumSource(WireFormat.class)
    void everyStreamedTokenIsToldInOrderWithItsRequestAndTheWholeReply(WireFormat format) throws Exception {
        List<Told> told = new CopyOnWriteArrayList<>();
        try (FakeLlmServer server = FakeLlmServer.builder()
                .tokenListener((request, tokens, index, at) -> told.add(new Told(request, tokens, index, at)))
                .build()
                .start()) {
            // given a paced stream of a reply of two paragraphs
            server.setDefault(
                    Behavior.builder().reply(REPLY).tokensPerSecond(200).build());

            // when a client asks for it, streamed
            HttpResponse<String> response =
                    HttpClient.newHttpClient().send(chat(server, format, true), HttpResponse.BodyHandlers.ofString());

            // then the listener was told of every token, index by index, with the recorded request and the whole reply
            assertEquals(200, response.statusCode());
            List<String> tokens = Tokens.split(REPLY);
            assertEquals(tokens.size(), told.size());
            RecordedRequest request = server.requests().get(0);
            for (int i = 0; i < told.size(); i++) {
                Told t = told.get(i);
                assertEquals(i, t.index());
                assertEquals(tokens, t.tokens());
                assertSame(request, t.request());
                assertEquals("tell me something", t.request().lastUserMessage());
                assertFalse(t.at().isBefore(request.at()), "a token before its request: " + t);
                assertTrue(i == 0 || !t.at().isBefore(told.get(i - 1).at()), "out of order: " + told);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(WireFormat.class)
    void aReplyThatIsNotStreamedTellsNothing(WireFormat format) throws Exception {
        List<Integer> told = new CopyOnWriteArrayList<>();
        try (FakeLlmServer server = FakeLlmServer.builder()
                .tokenListener((request, tokens, index, at) -> told.add(index))
                .build()
                .start()) {
            // given a reply asked for in one piece
            server.setDefault(Behavior.replying(REPLY));

            // when a client asks for it
            HttpResponse<String> response =
                    HttpClient.newHttpClient().send(chat(server, format, false), HttpResponse.BodyHandlers.ofString());

            // then it is answered and the listener is told of no token
            assertEquals(200, response.statusCode());
            assertTrue(response.body().contains("Second one"), response.body());
            assertEquals(List.of(), told);
        }
    }

    private static HttpRequest chat(FakeLlmServer server, WireFormat format, boolean stream) {
        String url = format == WireFormat.OPENAI
                ? server.openAiBaseUrl() + "/chat/completions"
                : server.ollamaBaseUrl() + "/api/chat";
        String body = "{\"model\":\"m\",\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"tell me something\"}]}";
        return HttpRequest.newBuilder(URI.create(url))
                .timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }
}
