package dev.thoughtstream.testkit.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.testkit.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The exact bytes {@link FakeLlmServer} puts on the wire, read with a plain JDK HTTP client. */
class FakeLlmServerWireFormatTest {
    /** Generous: each awaited event takes milliseconds on an idle machine. */
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static final String KEY = "sk-wire";
    private static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");
    private static final String OPENAI_CHAT = """
            {"model":"gpt-test","messages":[{"role":"system","content":"Be brief."},
             {"role":"user","content":[{"type":"text","text":"Hello "},{"type":"text","text":"there"}]}]%s}""";
    private static final String OLLAMA_CHAT = """
            {"model":"llama-test","messages":[{"role":"user","content":"Hello there"}]%s}""";
    private static final String REPLY = "Line one.\n\nSecond paragraph, here.\nLast line.";

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private FakeLlmServer server;

    @BeforeEach
    void startServer() {
        server = FakeLlmServer.builder()
                .apiKey(KEY)
                .modelName("listed-model")
                .clock(Clock.fixed(NOW, ZoneOffset.UTC))
                .build()
                .start();
    }

    @AfterEach
    void closeServer() {
        server.close();
    }

    private HttpResponse<String> post(String path, String body, boolean withKey) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.ollamaBaseUrl() + path))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (withKey) {
            request.header("Authorization", "Bearer " + KEY);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path, boolean withKey) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(server.ollamaBaseUrl() + path))
                .timeout(Duration.ofSeconds(10));
        if (withKey) {
            request.header("Authorization", "Bearer " + KEY);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode json(String text) throws IOException {
        return Json.mapper().readTree(text);
    }

    @Test
    void openAiCompletionHasTheChatCompletionShape() throws Exception {
        server.enqueue(Behavior.replying(REPLY));

        HttpResponse<String> response = post("/v1/chat/completions", OPENAI_CHAT.formatted(""), true);

        assertEquals(200, response.statusCode());
        assertEquals(
                "application/json",
                response.headers().firstValue("Content-Type").orElseThrow());
        JsonNode body = json(response.body());
        assertTrue(body.path("id").asText().startsWith("chatcmpl-"));
        assertEquals("chat.completion", body.path("object").asText());
        assertEquals(NOW.getEpochSecond(), body.path("created").asLong());
        assertEquals("gpt-test", body.path("model").asText(), "replies name the requested model");
        JsonNode choice = body.path("choices").path(0);
        assertEquals(0, choice.path("index").asInt());
        assertEquals("assistant", choice.path("message").path("role").asText());
        assertEquals(REPLY, choice.path("message").path("content").asText());
        assertEquals("stop", choice.path("finish_reason").asText());
        JsonNode usage = body.path("usage");
        int prompt = Tokens.count("Be brief.") + Tokens.count("Hello there");
        assertEquals(prompt, usage.path("prompt_tokens").asInt());
        assertEquals(Tokens.count(REPLY), usage.path("completion_tokens").asInt());
        assertEquals(prompt + Tokens.count(REPLY), usage.path("total_tokens").asInt());
    }

    @Test
    void openAiStreamIsServerSentChunksThenUsageThenDone() throws Exception {
        server.enqueue(Behavior.replying(REPLY));

        HttpResponse<String> response = post(
                "/v1/chat/completions",
                OPENAI_CHAT.formatted(",\"stream\":true,\"stream_options\":{\"include_usage\":true}"),
                true);

        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElseThrow().startsWith("text/event-stream"));
        assertTrue(response.body().endsWith("\n\n"));
        List<String> events = Arrays.asList(response.body().split("\n\n"));
        for (String event : events) {
            assertTrue(event.startsWith("data: ") && !event.contains("\n"), "one data line per event: " + event);
        }
        assertEquals("data: [DONE]", events.get(events.size() - 1));
        List<JsonNode> chunks = new ArrayList<>();
        for (String event : events.subList(0, events.size() - 1)) {
            chunks.add(json(event.substring("data: ".length())));
        }
        String id = chunks.get(0).path("id").asText();
        for (JsonNode chunk : chunks) {
            assertEquals("chat.completion.chunk", chunk.path("object").asText());
            assertEquals(id, chunk.path("id").asText(), "all chunks of a reply share the id");
            assertEquals("gpt-test", chunk.path("model").asText());
        }
        JsonNode first = chunks.get(0).path("choices").path(0);
        assertEquals("assistant", first.path("delta").path("role").asText());
        assertTrue(first.has("finish_reason") && first.path("finish_reason").isNull());

        List<JsonNode> tokenChunks = chunks.subList(1, chunks.size() - 2);
        StringBuilder text = new StringBuilder();
        for (JsonNode chunk : tokenChunks) {
            JsonNode choice = chunk.path("choices").path(0);
            assertTrue(choice.path("finish_reason").isNull());
            text.append(choice.path("delta").path("content").asText());
        }
        assertEquals(REPLY, text.toString(), "blank lines survive streaming");
        assertEquals(Tokens.count(REPLY), tokenChunks.size());

        JsonNode last = chunks.get(chunks.size() - 2).path("choices").path(0);
        assertEquals("stop", last.path("finish_reason").asText());
        assertTrue(last.path("delta").isEmpty());
        JsonNode usageChunk = chunks.get(chunks.size() - 1);
        assertTrue(usageChunk.path("choices").isArray()
                && usageChunk.path("choices").isEmpty());
        assertEquals(
                Tokens.count(REPLY),
                usageChunk.path("usage").path("completion_tokens").asInt());
        Await.until("server counts the completed stream", TIMEOUT, () -> server.completedStreams() == 1);
    }

    @Test
    void openAiStreamWithoutIncludeUsageHasNoUsageChunk() throws Exception {
        server.enqueue(Behavior.replying("Short."));

        HttpResponse<String> response = post("/v1/chat/completions", OPENAI_CHAT.formatted(",\"stream\":true"), true);

        List<String> events = Arrays.asList(response.body().split("\n\n"));
        assertEquals("data: [DONE]", events.get(events.size() - 1));
        JsonNode finalChunk = json(events.get(events.size() - 2).substring("data: ".length()));
        assertEquals(
                "stop", finalChunk.path("choices").path(0).path("finish_reason").asText());
        assertFalse(response.body().contains("\"usage\""));
    }

    @Test
    void ollamaCompletionHasTheChatResponseShape() throws Exception {
        server.enqueue(Behavior.replying(REPLY));

        HttpResponse<String> response = post("/api/chat", OLLAMA_CHAT.formatted(",\"stream\":false"), false);

        assertEquals(200, response.statusCode());
        JsonNode body = json(response.body());
        assertEquals("llama-test", body.path("model").asText());
        assertEquals(NOW.toString(), body.path("created_at").asText());
        assertEquals("assistant", body.path("message").path("role").asText());
        assertEquals(REPLY, body.path("message").path("content").asText());
        assertTrue(body.path("done").asBoolean());
        assertEquals("stop", body.path("done_reason").asText());
        assertEquals(Tokens.count("Hello there"), body.path("prompt_eval_count").asInt());
        assertEquals(Tokens.count(REPLY), body.path("eval_count").asInt());
        assertTrue(body.path("total_duration").asLong() > 0);
        assertFalse(server.requests().get(0).stream());
    }

    @Test
    void ollamaStreamsNdjsonWhenTheStreamFlagIsAbsent() throws Exception {
        server.enqueue(Behavior.replying(REPLY));

        HttpResponse<String> response = post("/api/chat", OLLAMA_CHAT.formatted(""), false);

        assertEquals(200, response.statusCode());
        assertEquals(
                "application/x-ndjson",
                response.headers().firstValue("Content-Type").orElseThrow());
        assertTrue(response.body().endsWith("\n"));
        List<String> lines = response.body().lines().collect(Collectors.toList());
        StringBuilder text = new StringBuilder();
        for (String line : lines.subList(0, lines.size() - 1)) {
            JsonNode chunk = json(line);
            assertFalse(chunk.path("done").asBoolean(true));
            assertEquals("llama-test", chunk.path("model").asText());
            text.append(chunk.path("message").path("content").asText());
        }
        assertEquals(REPLY, text.toString(), "blank lines survive streaming");
        JsonNode last = json(lines.get(lines.size() - 1));
        assertTrue(last.path("done").asBoolean());
        assertEquals("stop", last.path("done_reason").asText());
        assertEquals("", last.path("message").path("content").asText());
        assertEquals(Tokens.count(REPLY), last.path("eval_count").asInt());
        assertTrue(server.requests().get(0).stream(), "Ollama streams by default");
    }

    @Test
    void rateLimitHasRetryAfterAndTheOpenAiErrorShape() throws Exception {
        server.enqueue(Behavior.rateLimited(7));

        HttpResponse<String> response = post("/v1/chat/completions", OPENAI_CHAT.formatted(""), true);

        assertEquals(429, response.statusCode());
        assertEquals("7", response.headers().firstValue("Retry-After").orElseThrow());
        JsonNode error = json(response.body()).path("error");
        assertFalse(error.path("message").asText().isBlank());
        assertEquals("requests", error.path("type").asText());
        assertEquals("rate_limit_exceeded", error.path("code").asText());
    }

    @Test
    void ollamaErrorIsAnObjectWithAnErrorString() throws Exception {
        server.enqueue(
                Behavior.builder().status(503).errorMessage("server busy").build());

        HttpResponse<String> response = post("/api/chat", OLLAMA_CHAT.formatted(""), false);

        assertEquals(503, response.statusCode());
        assertEquals("{\"error\":\"server busy\"}", response.body());
    }

    @Test
    void missingOrWrongApiKeyIsRejectedWith401OnOpenAiEndpointsOnly() throws Exception {
        HttpResponse<String> chat = post("/v1/chat/completions", OPENAI_CHAT.formatted(""), false);
        HttpResponse<String> models = get("/v1/models", false);
        HttpResponse<String> ollama = post("/api/chat", OLLAMA_CHAT.formatted(",\"stream\":false"), false);

        assertEquals(401, chat.statusCode());
        assertEquals(
                "invalid_api_key", json(chat.body()).path("error").path("code").asText());
        assertEquals(401, models.statusCode());
        assertEquals(200, ollama.statusCode(), "Ollama has no API keys");
        assertEquals(2, server.requestCount(), "chat requests are recorded even when unauthorised");
        assertFalse(server.requests().get(0).authorizationPresent());
    }

    @Test
    void modelListsNameTheConfiguredModel() throws Exception {
        JsonNode models = json(get("/v1/models", true).body());
        JsonNode tags = json(get("/api/tags", false).body());
        JsonNode version = json(get("/api/version", false).body());

        assertEquals("list", models.path("object").asText());
        assertEquals("listed-model", models.path("data").path(0).path("id").asText());
        assertEquals("model", models.path("data").path(0).path("object").asText());
        assertEquals(1, models.path("data").size());
        // Ollama lists a model pulled without a tag under the tag "latest".
        assertEquals(
                "listed-model:latest", tags.path("models").path(0).path("name").asText());
        assertEquals(
                "listed-model:latest", tags.path("models").path(0).path("model").asText());
        assertEquals(1, tags.path("models").size());
        assertFalse(version.path("version").asText().isBlank());
        assertEquals(0, server.requestCount(), "only chat requests are recorded");
    }

    @Test
    void listedModelsAreWhatBothModelListsShowTaggedOnlyWhereOllamaTagsThem() throws Exception {
        server.close();
        server = FakeLlmServer.builder()
                .apiKey(KEY)
                .listedModels("llama3.2", "qwen3:8b", "library/mistral")
                .build()
                .start();

        JsonNode models = json(get("/v1/models", true).body());
        JsonNode tags = json(get("/api/tags", false).body());

        assertEquals(List.of("llama3.2", "qwen3:8b", "library/mistral"), names(models.path("data"), "id"));
        assertEquals(
                List.of("llama3.2:latest", "qwen3:8b", "library/mistral:latest"), names(tags.path("models"), "name"));
    }

    @Test
    void aServerWithoutModelsListsNone() throws Exception {
        server.close();
        server = FakeLlmServer.builder().listedModels().build().start();

        JsonNode models = json(get("/v1/models", false).body());
        JsonNode tags = json(get("/api/tags", false).body());

        assertEquals("list", models.path("object").asText());
        assertEquals(0, models.path("data").size());
        assertTrue(tags.path("models").isArray());
        assertEquals(0, tags.path("models").size());
    }

    private static List<String> names(JsonNode list, String field) {
        List<String> names = new ArrayList<>();
        list.forEach(entry -> names.add(entry.path(field).asText()));
        return names;
    }

    @Test
    void malformedRequestsGet400InTheirFormatsErrorShapeAndAreRecorded() throws Exception {
        HttpResponse<String> notJson = post("/v1/chat/completions", "{not json", true);
        HttpResponse<String> noMessages = post("/api/chat", "{\"model\":\"m\"}", false);
        HttpResponse<String> noModel = post("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\"}]}", true);

        assertEquals(400, notJson.statusCode());
        assertTrue(json(notJson.body()).path("error").path("message").asText().contains("not valid JSON"));
        assertEquals(400, noMessages.statusCode());
        assertTrue(json(noMessages.body()).path("error").asText().contains("messages"));
        assertEquals(400, noModel.statusCode());
        assertTrue(json(noModel.body()).path("error").path("message").asText().contains("model"));
        assertEquals(3, server.requestCount());
        assertEquals(null, server.requests().get(0).model());
    }

    @Test
    void unknownPathsAre404AndWrongMethodsAre405() throws Exception {
        HttpResponse<String> unknown = get("/v1/embeddings", true);
        HttpResponse<String> wrongMethod = get("/api/chat", false);

        assertEquals(404, unknown.statusCode());
        assertTrue(json(unknown.body()).path("error").path("message").asText().contains("/v1/embeddings"));
        assertEquals(405, wrongMethod.statusCode());
        assertEquals("POST", wrongMethod.headers().firstValue("Allow").orElseThrow());
    }

    @Test
    void queuedBehavioursAreTakenInOrderOnePerRequestThenTheDefaultApplies() throws Exception {
        server.setDefault(Behavior.failing(500));
        server.enqueue(Behavior.replying("first"));
        server.enqueue(Behavior.replying("second"));

        String first = json(post("/api/chat", OLLAMA_CHAT.formatted(",\"stream\":false"), false)
                        .body())
                .path("message")
                .path("content")
                .asText();
        String second = json(post("/api/chat", OLLAMA_CHAT.formatted(",\"stream\":false"), false)
                        .body())
                .path("message")
                .path("content")
                .asText();
        int third = post("/api/chat", OLLAMA_CHAT.formatted(",\"stream\":false"), false)
                .statusCode();

        assertEquals("first", first);
        assertEquals("second", second);
        assertEquals(500, third);
    }

    @Test
    void resetForgetsRequestsQueueAndDefault() throws Exception {
        server.setDefault(Behavior.failing(500));
        server.enqueue(Behavior.failing(400));
        post("/api/chat", OLLAMA_CHAT.formatted(",\"stream\":false"), false);
        server.enqueue(Behavior.failing(400));

        server.reset();

        assertEquals(0, server.requestCount());
        assertEquals(0, server.pendingBehaviors());
        assertEquals(
                200,
                post("/api/chat", OLLAMA_CHAT.formatted(",\"stream\":false"), false)
                        .statusCode());
    }

    @Test
    void onlyTheMostRecentRequestsAreKeptButAllAreCounted() throws Exception {
        try (FakeLlmServer small =
                FakeLlmServer.builder().recordLimit(2).build().start()) {
            for (String text : List.of("first", "second", "third")) {
                http.send(
                        HttpRequest.newBuilder(URI.create(small.ollamaBaseUrl() + "/api/chat"))
                                .POST(HttpRequest.BodyPublishers.ofString("{\"model\":\"m\",\"stream\":false,"
                                        + "\"messages\":[{\"role\":\"user\",\"content\":\"" + text + "\"}]}"))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
            }

            assertEquals(3, small.requestCount());
            assertEquals(
                    List.of("second", "third"),
                    small.requests().stream()
                            .map(RecordedRequest::lastUserMessage)
                            .toList());
        }
    }

    @Test
    void requestsBeyondTheConcurrencyLimitAreDropped() throws Exception {
        try (FakeLlmServer narrow =
                FakeLlmServer.builder().maxConcurrentRequests(1).build().start()) {
            narrow.enqueue(Behavior.hanging());
            HttpRequest request = HttpRequest.newBuilder(URI.create(narrow.ollamaBaseUrl() + "/api/chat"))
                    .POST(HttpRequest.BodyPublishers.ofString(OLLAMA_CHAT.formatted(",\"stream\":false")))
                    .build();
            http.sendAsync(request, HttpResponse.BodyHandlers.ofString());
            Await.until("first request holds the only thread", TIMEOUT, () -> narrow.hungRequests() == 1);

            assertThrows(IOException.class, () -> http.send(request, HttpResponse.BodyHandlers.ofString()));
            assertEquals(1, narrow.requestCount());
        }
    }

    @Test
    void aFailingResponderBecomesA500NamingTheFailure() throws Exception {
        try (FakeLlmServer failing = FakeLlmServer.builder()
                .responder(messages -> {
                    throw new IllegalStateException("responder exploded");
                })
                .build()
                .start()) {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(URI.create(failing.ollamaBaseUrl() + "/api/chat"))
                            .POST(HttpRequest.BodyPublishers.ofString(OLLAMA_CHAT.formatted(",\"stream\":false")))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());

            assertEquals(500, response.statusCode());
            assertTrue(json(response.body()).path("error").asText().contains("responder exploded"));
        }
    }

    @Test
    void aStalledStreamSendsOnlyTokenlessKeepAlivesAfterTheTokens() throws Exception {
        server.enqueue(Behavior.builder()
                .reply("one two three four")
                .stallAfterTokens(2)
                .build());
        HttpRequest request = HttpRequest.newBuilder(URI.create(server.openAiBaseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + KEY)
                .POST(HttpRequest.BodyPublishers.ofString(OPENAI_CHAT.formatted(",\"stream\":true")))
                .build();
        HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());

        try (BufferedReader reader =
                new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
            List<String> dataLines = new ArrayList<>();
            String line;
            // Read until two keep-alives arrived: everything before them is what the stall lets through.
            int keepAlives = 0;
            while (keepAlives < 2 && (line = reader.readLine()) != null) {
                if (line.startsWith(":")) {
                    keepAlives++;
                } else if (line.startsWith("data: ")) {
                    assertEquals(0, keepAlives, "no data after the stall began");
                    dataLines.add(line);
                }
            }
            assertEquals(3, dataLines.size(), "role chunk and two tokens: " + dataLines);
            assertEquals(1, server.stalledResponses());
        }
        Await.until("server notices the client left", TIMEOUT, () -> server.abandonedStreams() == 1);
    }

    @Test
    void closeEndsHungAndStalledRequestsAndStopsEveryServerThread() throws Exception {
        server.enqueue(Behavior.hanging());
        server.enqueue(Behavior.builder().stallAfterTokens(1).build());
        server.enqueue(Behavior.builder().latency(Duration.ofMinutes(5)).build());
        CompletableFuture<HttpResponse<String>> hung =
                http.sendAsync(openAiStreamRequest(), HttpResponse.BodyHandlers.ofString());
        Await.until("request hangs", TIMEOUT, () -> server.hungRequests() == 1);
        CompletableFuture<HttpResponse<String>> stalled =
                http.sendAsync(openAiStreamRequest(), HttpResponse.BodyHandlers.ofString());
        Await.until("stream stalls", TIMEOUT, () -> server.stalledResponses() == 1);
        CompletableFuture<HttpResponse<String>> slow =
                http.sendAsync(openAiStreamRequest(), HttpResponse.BodyHandlers.ofString());
        Await.until("third request arrives", TIMEOUT, () -> server.requestCount() == 3);
        String threadPrefix = "fake-llm-" + server.port() + "-";

        server.close();

        for (CompletableFuture<HttpResponse<String>> call : List.of(hung, stalled, slow)) {
            ExecutionException failure = assertThrows(ExecutionException.class, () -> call.get(10, TimeUnit.SECONDS));
            assertTrue(
                    failure.getCause() instanceof IOException,
                    failure.getCause().toString());
        }
        assertEquals(0, server.hungRequests());
        assertEquals(0, server.stalledResponses());
        assertEquals(0, server.abandonedStreams(), "dropped by the server, not abandoned by the client");
        Await.until(
                "no server thread left",
                TIMEOUT,
                () -> Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.getName().startsWith(threadPrefix)));
    }

    @Test
    void cutOffNonStreamingResponseEndsTheConnectionMidBody() {
        server.enqueue(Behavior.builder().cutOffAfterTokens(0).build());

        assertThrows(IOException.class, () -> post("/v1/chat/completions", OPENAI_CHAT.formatted(""), true));
        Await.until("server counts the cut-off", TIMEOUT, () -> server.cutOffResponses() == 1);
    }

    private HttpRequest openAiStreamRequest() {
        return HttpRequest.newBuilder(URI.create(server.openAiBaseUrl() + "/chat/completions"))
                .header("Authorization", "Bearer " + KEY)
                .POST(HttpRequest.BodyPublishers.ofString(OPENAI_CHAT.formatted(",\"stream\":true")))
                .build();
    }
}
