package dev.thoughtstream.testkit.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.testkit.Await;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link FakeLlmServer.Builder#pacingTick}: paced tokens written together once per tick by one thread, seen on the
 * wire as the HTTP chunks of the streamed body (each flush is one chunk of the chunked transfer encoding).
 */
class FakeLlmServerPacingTickTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    /** 30 tokens: "w0 w1 … w29". */
    private static final String REPLY = String.join(" ", numbered(30));

    /** What only a token's event has: a delta with nothing but content (the first event also names the role). */
    private static final String TOKEN_EVENT = "\"delta\":{\"content\":";

    private record Told(RecordedRequest request, int index, Instant at) {}

    @Test
    void withoutAPacingTickEveryPacedTokenTravelsInAChunkOfItsOwn() throws Exception {
        try (FakeLlmServer server = FakeLlmServer.startOnFreePort()) {
            // given a paced stream, each token written when it is due
            server.setDefault(
                    Behavior.builder().reply(REPLY).tokensPerSecond(500).build());

            // when a client reads it chunk by chunk
            List<String> chunks = streamChunks(server);

            // then every chunk that carries a token carries exactly one, and they make up the reply
            List<String> tokenChunks =
                    chunks.stream().filter(c -> c.contains(TOKEN_EVENT)).toList();
            assertEquals(30, tokenChunks.size(), chunks.toString());
            for (String chunk : tokenChunks) {
                assertEquals(1, events(chunk).size(), chunk);
            }
            assertEquals(REPLY, text(String.join("", chunks)));
        }
    }

    @Test
    void withAPacingTickTheTokensDueAtATickTravelTogetherAndTheStreamIsTheSame() throws Exception {
        List<Told> told = new CopyOnWriteArrayList<>();
        try (FakeLlmServer server = FakeLlmServer.builder()
                .pacingTick(Duration.ofMillis(200))
                .tokenListener((request, tokens, index, at) -> told.add(new Told(request, index, at)))
                .build()
                .start()) {
            // given a stream whose 30 tokens all fall due within 30 ms, far less than one tick
            server.setDefault(
                    Behavior.builder().reply(REPLY).tokensPerSecond(1000).build());

            // when a client reads it chunk by chunk
            List<String> chunks = streamChunks(server);

            // then tokens travelled several to a chunk, the events being those of an unpaced stream
            String body = String.join("", chunks);
            assertTrue(
                    chunks.stream()
                            .anyMatch(c -> events(c).stream()
                                            .filter(e -> e.contains(TOKEN_EVENT))
                                            .count()
                                    > 1),
                    chunks.toString());
            assertEquals(REPLY, text(body));
            assertTrue(body.endsWith("data: [DONE]\n\n"), body);
            Await.until("server counts the completed stream", TIMEOUT, () -> server.completedStreams() == 1);
            assertEquals(30, server.tokensStreamed());

            // and the listener was told of every token in order, those written together with one time
            assertEquals(30, told.size());
            RecordedRequest request = server.requests().get(0);
            for (int i = 0; i < told.size(); i++) {
                assertEquals(i, told.get(i).index());
                assertSame(request, told.get(i).request());
                assertFalse(told.get(i).at().isBefore(request.at()), told.toString());
                assertTrue(i == 0 || !told.get(i).at().isBefore(told.get(i - 1).at()), told.toString());
            }
            long writes = told.stream().map(Told::at).distinct().count();
            assertTrue(writes < 30, "one write per token: " + told);
        }
    }

    @Test
    void withAPacingTickAStalledOrCutOffStreamStillStallsOrIsCutOffAfterItsTokens() throws Exception {
        try (FakeLlmServer server = FakeLlmServer.builder()
                .pacingTick(Duration.ofMillis(20))
                .build()
                .start()) {
            // given a paced stream cut off after 5 tokens
            server.enqueue(Behavior.builder()
                    .reply(REPLY)
                    .tokensPerSecond(200)
                    .cutOffAfterTokens(5)
                    .build());

            // when a client reads it, the connection drops after exactly those tokens
            IOException cut = assertThrows(IOException.class, () -> streamChunks(server));
            assertTrue(cut.getMessage().contains("w4"), cut.getMessage());
            assertFalse(cut.getMessage().contains("w5"), cut.getMessage());
            Await.until("server counts the cut-off", TIMEOUT, () -> server.cutOffResponses() == 1);
        }
    }

    @Test
    void closeEndsAPacedStreamMidwayAndStopsEveryServerThreadThePacerIncluded() throws Exception {
        FakeLlmServer server = FakeLlmServer.builder()
                .pacingTick(Duration.ofMillis(20))
                .build()
                .start();
        String threadPrefix = "fake-llm-" + server.port() + "-";
        try {
            // given a stream paced at 2 tokens/s, under way
            server.setDefault(Behavior.builder().reply(REPLY).tokensPerSecond(2).build());
            HttpClient http = HttpClient.newHttpClient();
            CompletableFuture<HttpResponse<String>> call =
                    http.sendAsync(openAiStream(server), HttpResponse.BodyHandlers.ofString());
            Await.until("the first token is written", TIMEOUT, () -> server.tokensStreamed() >= 1);
            assertTrue(
                    Thread.getAllStackTraces().keySet().stream()
                            .anyMatch(t -> t.getName().equals(threadPrefix + "pacer")),
                    "the pacer runs");

            // when the server closes
            server.close();

            // then the client sees its stream dropped, unfinished, and no server thread is left
            ExecutionException failure = assertThrows(ExecutionException.class, () -> call.get(10, TimeUnit.SECONDS));
            assertTrue(
                    failure.getCause() instanceof IOException,
                    failure.getCause().toString());
            assertEquals(0, server.completedStreams());
            assertEquals(0, server.abandonedStreams(), "dropped by the server, not abandoned by the client");
            Await.until(
                    "no server thread left",
                    TIMEOUT,
                    () -> Thread.getAllStackTraces().keySet().stream()
                            .noneMatch(t -> t.getName().startsWith(threadPrefix)));
        } finally {
            server.close();
        }
    }

    /**
     * Posts a streamed OpenAI chat request over a plain socket and returns the response body's HTTP chunks (the
     * chunked transfer encoding's data, one string per chunk); an IOException carries what arrived if the body ends
     * unfinished.
     */
    private static List<String> streamChunks(FakeLlmServer server) throws IOException {
        byte[] body = chatBody().getBytes(StandardCharsets.UTF_8);
        try (Socket socket = new Socket("127.0.0.1", server.port())) {
            socket.setSoTimeout((int) TIMEOUT.toMillis());
            OutputStream out = socket.getOutputStream();
            out.write(("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                            + "Content-Type: application/json\r\nContent-Length: " + body.length
                            + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
            out.write(body);
            out.flush();
            InputStream in = socket.getInputStream();
            String status = line(in);
            assertTrue(status.startsWith("HTTP/1.1 200"), status);
            boolean chunked = false;
            for (String header = line(in); !header.isEmpty(); header = line(in)) {
                chunked |= header.equalsIgnoreCase("Transfer-Encoding: chunked");
            }
            assertTrue(chunked, "a streamed body is chunked");
            List<String> chunks = new ArrayList<>();
            while (true) {
                String sizeLine = line(in);
                if (sizeLine == null) {
                    throw new IOException("the body ended unfinished after: " + String.join("", chunks));
                }
                int size = Integer.parseInt(sizeLine.trim(), 16);
                if (size == 0) {
                    return chunks;
                }
                byte[] data = in.readNBytes(size);
                if (data.length < size || line(in) == null) {
                    throw new IOException("the body ended unfinished after: " + String.join("", chunks));
                }
                chunks.add(new String(data, StandardCharsets.UTF_8));
            }
        }
    }

    /** One CRLF-terminated line without its terminator; null at the end of the stream. */
    private static String line(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        for (int b = in.read(); b != '\n'; b = in.read()) {
            if (b < 0) {
                return null;
            }
            if (b != '\r') {
                line.write(b);
            }
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    private static List<String> events(String chunk) {
        List<String> events = new ArrayList<>();
        for (String event : chunk.split("\n\n")) {
            if (event.startsWith("data: ")) {
                events.add(event);
            }
        }
        return events;
    }

    /** The content of every token chunk of an SSE body, concatenated. */
    private static String text(String body) throws IOException {
        StringBuilder text = new StringBuilder();
        for (String event : body.split("\n\n")) {
            String data = event.substring("data: ".length());
            if (!data.equals("[DONE]")) {
                JsonNode chunk = Json.mapper().readTree(data);
                text.append(chunk.path("choices")
                        .path(0)
                        .path("delta")
                        .path("content")
                        .asText());
            }
        }
        return text.toString();
    }

    private static HttpRequest openAiStream(FakeLlmServer server) {
        return HttpRequest.newBuilder(URI.create(server.openAiBaseUrl() + "/chat/completions"))
                .timeout(TIMEOUT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(chatBody()))
                .build();
    }

    private static String chatBody() {
        return "{\"model\":\"m\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    }

    private static List<String> numbered(int n) {
        List<String> words = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            words.add("w" + i);
        }
        return words;
    }
}
