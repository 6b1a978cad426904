package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.testkit.MutableClock;
import dev.thoughtstream.testkit.process.ManagedProcess;
import dev.thoughtstream.testkit.process.ProcessGroup;
import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An emulator given a state directory keeps its chats across restarts, over real HTTP as the web chat and the bot see
 * it: a restart shows the same chats and continues their ids, even after the process was killed with SIGKILL.
 */
class TelegramEmulatorStateDirectoryTest {
    private static final String BOT = "/bot1:state/";
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T12:00:00Z"));

    @TempDir
    Path state;

    private TelegramEmulator emulatorOn(Path directory) {
        return TelegramEmulator.builder()
                .clock(clock)
                .stateDirectory(directory)
                .build()
                .start();
    }

    @Test
    void aRestartedEmulatorShowsTheSameChatsAndContinuesTheirIds() {
        String chatsBefore;
        String transcriptBefore;
        String groupBefore;
        // Given a conversation: a person and the bot in a private chat, a group with a photo, a blocked chat
        try (TelegramEmulator first = emulatorOn(state)) {
            RawHttp http = new RawHttp(first.baseUrl());
            http.postJson("/emulator/chats/42/messages", "{\"text\":\"hello\",\"firstName\":\"Ann\"}");
            http.postJson(BOT + "sendChatAction", "{\"chat_id\":42,\"action\":\"typing\"}");
            clock.advance(Duration.ofSeconds(2));
            http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"hi *Ann*\",\"parse_mode\":\"MarkdownV2\"}");
            http.postJson(BOT + "editMessageText", "{\"chat_id\":42,\"message_id\":2,\"text\":\"hi Ann!\"}");
            http.postJson(
                    "/emulator/chats/-100/messages",
                    "{\"chatType\":\"group\",\"chatTitle\":\"Team\",\"userId\":7,\"firstName\":\"Bo\","
                            + "\"kind\":\"photo\",\"caption\":\"look\"}");
            http.postJson(BOT + "sendMessage", "{\"chat_id\":-100,\"text\":\"nice\"}");
            http.postJson(BOT + "deleteMessage", "{\"chat_id\":-100,\"message_id\":2}");
            http.postJson("/emulator/chats/77/messages", "{\"text\":\"bye\",\"firstName\":\"Cy\"}");
            http.postJson("/emulator/chats/77/block", "");
            assertEquals(
                    3,
                    RawHttp.json(http.postJson(BOT + "getUpdates", "{}"))
                            .path("result")
                            .size());
            chatsBefore = http.get("/emulator/chats").body();
            transcriptBefore = http.get("/emulator/chats/42/transcript").body();
            groupBefore = http.get("/emulator/chats/-100/transcript").body();
        }

        // When an emulator starts again on the same directory
        try (TelegramEmulator again = emulatorOn(state)) {
            RawHttp http = new RawHttp(again.baseUrl());

            // Then the web chat lists the same chats with the same transcripts
            assertEquals(chatsBefore, http.get("/emulator/chats").body());
            assertEquals(
                    transcriptBefore, http.get("/emulator/chats/42/transcript").body());
            assertEquals(
                    groupBefore, http.get("/emulator/chats/-100/transcript").body());
            assertEquals(List.of("hi Ann"), again.botTexts(42), "the text as first sent; the edit is an entry");

            // And the next message continues the chat's ids and the update ids, replying to a message from before
            HttpResponse<String> next =
                    http.postJson("/emulator/chats/42/messages", "{\"text\":\"still there?\",\"replyToMessageId\":2}");
            assertEquals("{\"updateId\":4,\"messageId\":3}", next.body());
            JsonNode update =
                    RawHttp.json(http.postJson(BOT + "getUpdates", "{}")).at("/result/0");
            assertEquals("hi Ann!", update.at("/message/reply_to_message/text").asText());
            assertEquals(
                    3,
                    RawHttp.json(http.postJson(
                                    "/emulator/chats/-100/messages",
                                    "{\"chatType\":\"group\",\"userId\":7,\"text\":\"more\"}"))
                            .path("messageId")
                            .asInt());

            // And the chat the person blocked stays blocked for the bot
            HttpResponse<String> blocked = http.postJson(BOT + "sendMessage", "{\"chat_id\":77,\"text\":\"hey\"}");
            assertEquals(403, blocked.statusCode(), blocked.body());
        }
    }

    @Test
    void chatsSurviveTheEmulatorProcessBeingKilledWithSigkill(@TempDir Path processes) throws IOException {
        // Given an emulator in a process of its own, on the state directory
        try (ProcessGroup group = new ProcessGroup(processes)) {
            int port = ProcessGroup.freePort();
            ManagedProcess emulator = group.start(
                            "emulator",
                            List.of(
                                    ManagedProcess.javaExecutable(),
                                    "-cp",
                                    System.getProperty("java.class.path"),
                                    EmulatorProcessMain.class.getName(),
                                    state.toString(),
                                    Integer.toString(port)),
                            Map.of(),
                            ManagedProcess.Readiness.logLine(EmulatorProcessMain.READY))
                    .awaitReady(TIMEOUT);
            RawHttp http = new RawHttp("http://127.0.0.1:" + port);
            http.postJson("/emulator/chats/42/messages", "{\"text\":\"one\",\"firstName\":\"Ann\"}");
            http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"two\"}");
            assertEquals(
                    "{\"updateId\":2,\"messageId\":3}",
                    http.postJson("/emulator/chats/42/messages", "{\"text\":\"three\"}")
                            .body());

            // When the process is killed with SIGKILL, right after answering
            emulator.kill9();
        }

        // Then an emulator started on the directory has every message it answered for
        try (TelegramEmulator again = emulatorOn(state)) {
            List<TranscriptEntry> transcript = again.transcript(42);
            assertEquals(
                    List.of("one", "two", "three"),
                    transcript.stream().map(TranscriptEntry::text).toList());
            assertEquals(3, again.nextUpdateId());
            assertEquals(4, again.injectMessage(42, "four").messageId());
        }
    }

    @Test
    void aLastLineCutShortByAKillIsDroppedAndTheRestIsKept() throws IOException {
        // Given a saved chat, and a journal whose last line a kill cut short in the middle of writing it
        try (TelegramEmulator first = emulatorOn(state)) {
            first.injectMessage(42, "kept");
        }
        Path journal = state.resolve(ChatJournal.FILE);
        Files.writeString(
                journal, "{\"r\":\"entry\",\"chat\":42,\"ent", StandardCharsets.UTF_8, StandardOpenOption.APPEND);

        // When an emulator starts on it, and a person writes again
        try (TelegramEmulator again = emulatorOn(state)) {
            again.injectMessage(42, "after");

            // Then the whole lines are restored and the journal is whole again
            assertEquals(List.of("kept", "after"), texts(again.transcript(42)));
        }
        assertTrue(Files.readString(journal).endsWith("}\n"));
        try (TelegramEmulator third = emulatorOn(state)) {
            assertEquals(List.of("kept", "after"), texts(third.transcript(42)));
        }
    }

    @Test
    void aSecondEmulatorOnTheSameDirectoryIsRefusedNamingIt() {
        // Given an emulator running on the state directory
        try (TelegramEmulator first = emulatorOn(state)) {
            first.injectMessage(42, "mine");

            // When a second one is built on it, it is refused, and the first keeps working
            IllegalStateException refused = assertThrows(
                    IllegalStateException.class,
                    () -> TelegramEmulator.builder().stateDirectory(state).build());
            assertTrue(refused.getMessage().contains(state.toString()), refused.getMessage());
            assertTrue(refused.getMessage().contains("in use"), refused.getMessage());
            first.injectMessage(42, "still mine");
            assertEquals(2, first.transcript(42).size());
        }
    }

    @Test
    void aResetForgetsTheSavedChatsButNotTheUpdateIds() {
        // Given a saved chat that the emulator was then told to forget
        try (TelegramEmulator first = emulatorOn(state)) {
            first.injectMessage(42, "forget me");
            first.injectMessage(42, "me too");
            new RawHttp(first.baseUrl()).postJson("/emulator/reset", "");
        }

        // When it starts again, the chat is gone and update ids still go on from where they were
        try (TelegramEmulator again = emulatorOn(state)) {
            assertEquals(List.of(), again.chats());
            assertEquals(3, again.injectMessage(42, "new").updateId());
        }
    }

    @Test
    void idsOfAnEmulatorStartedAboveItsPreviousRunsStayAboveThemForRestoredChats() {
        // Given a chat saved by an emulator whose ids started at 1
        try (TelegramEmulator first = emulatorOn(state)) {
            first.injectMessage(42, "early");
        }

        // When one starts on it above every id an earlier run could have handed out (as devstack starts it)
        try (TelegramEmulator again = TelegramEmulator.builder()
                .stateDirectory(state)
                .idsStartAt(1_000, 5_000)
                .build()
                .start()) {
            // Then the restored chat's next message and the next update get ids above that start
            UserMessage next = again.injectMessage(42, "later");
            assertEquals(5_000, next.messageId());
            assertEquals(1_000, next.updateId());
            assertEquals(List.of("early", "later"), texts(again.transcript(42)));
        }
    }

    private static List<String> texts(List<TranscriptEntry> transcript) {
        return transcript.stream().map(TranscriptEntry::text).toList();
    }
}
