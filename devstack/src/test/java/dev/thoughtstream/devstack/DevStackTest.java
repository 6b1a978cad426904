package dev.thoughtstream.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.llm.model.ScriptedAnswers;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * devstack on its own, as a newcomer runs it: nothing configured, so it starts its own broker, redis-server,
 * Telegram emulator and the scripted model. The person chats through the emulator's HTTP API, as the web page does.
 */
class DevStackTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private final HttpClient http = HttpClient.newHttpClient();

    private static Config offline(Path dataDir) {
        return Config.of(Map.of(
                "DEVSTACK_DATA_DIR", dataDir.toString(),
                "DEVSTACK_KAFKA_PORT", "0",
                "EMULATOR_PORT", "0",
                "HTTP_PORT", "0",
                "CHUNK_GAP_MS", "300",
                "SCRIPTED_LATENCY_MS", "0",
                "SCRIPTED_TOKENS_PER_SECOND", "0",
                "TYPING_MIN_MS", "0",
                "TYPING_MAX_MS", "0",
                "INGEST_POLL_TIMEOUT_S", "5"));
    }

    @Test
    void withNothingConfiguredItRunsEverythingItselfAndAnswersInTheWebChatAcrossARestart(@TempDir Path dataDir)
            throws Exception {
        int answered;
        // Given devstack started with no broker, Redis, bot token or model configured
        try (DevStack stack = DevStack.start(offline(dataDir))) {
            String webChat = stack.webChatUrl().orElseThrow();

            // Then it says it is ready and where the web chat is
            assertTrue(stack.readyLine().startsWith("thoughtstream ready"), stack.readyLine());
            assertTrue(stack.readyLine().contains(webChat), stack.readyLine());
            assertTrue(stack.readyLine().contains("redis-server started by devstack"), stack.readyLine());
            HttpResponse<String> page = http.send(
                    HttpRequest.newBuilder(URI.create(webChat)).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, page.statusCode());
            assertTrue(page.body().contains("<html"), "the web chat page is served");

            // When a person writes in the web chat, the scripted model answers through the pipeline
            say(webChat, 7, "hi, is anyone there?");
            TelegramEmulator emulator = stack.emulator().orElseThrow();
            // (the scripted model's answer, a bubble per paragraph)
            List<String> answer =
                    List.of(ScriptedAnswers.answerTo("hi, is anyone there?").split("\n\n"));
            Await.until("the bot's answer", TIMEOUT, () -> emulator.botTexts(7).equals(answer));
            answered = answer.size();
        }
        assertTrue(Files.isDirectory(dataDir.resolve("kafka")), "the broker keeps its data");
        assertTrue(Files.isDirectory(dataDir.resolve("emulator")), "the emulator keeps its chats");
        assertTrue(Files.isDirectory(dataDir.resolve("chunker-state")), "the chunker keeps its state beside them");

        // When devstack is started again on the same data, the chunker's state in a directory the user names (it
        // is restored there from the changelogs)
        Path ownState = dataDir.resolve("elsewhere");
        try (DevStack again = DevStack.start(offline(dataDir).with(Map.of("STREAMS_STATE_DIR", ownState.toString())))) {
            // Then the web chat still shows the conversation the bot remembers
            TelegramEmulator emulator = again.emulator().orElseThrow();
            assertEquals("hi, is anyone there?", emulator.transcript(7).get(0).text());
            assertEquals(answered, emulator.botTexts(7).size());

            // And the same chat is answered again: new message ids are above the ones the pipeline has seen
            say(again.webChatUrl().orElseThrow(), 7, "I'm back");
            Await.until(
                    "an answer after the restart",
                    TIMEOUT,
                    () -> emulator.botTexts(7).size() > answered);
            assertTrue(Files.isDirectory(ownState), "the user's STREAMS_STATE_DIR is used");
        }
    }

    private void say(String webChat, long chatId, String text) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(
                HttpRequest.newBuilder(URI.create(webChat + "emulator/chats/" + chatId + "/messages"))
                        .POST(HttpRequest.BodyPublishers.ofString("{\"text\":\"" + text + "\",\"firstName\":\"Ann\"}"))
                        .header("Content-Type", "application/json")
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
    }
}
