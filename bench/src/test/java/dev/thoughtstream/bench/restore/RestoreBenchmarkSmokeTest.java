package dev.thoughtstream.bench.restore;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.chunker.context.ChatContext;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.Thought;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The restore benchmark at tiny scale (50 chats × 20 messages) on a real in-process broker: it runs through, prints
 * its sections, and the store the chunker restored holds every chat's context. Nothing is timed.
 */
class RestoreBenchmarkSmokeTest {
    private static final int CHATS = 50;
    private static final int MESSAGES = 20;

    @Test
    void aRestartedChunkerRestoresEveryChatsContextFromTheChangelogs(@TempDir Path dataDir) throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Map<Long, ChatContext> restored = new HashMap<>();
        RestoreOptions options = new RestoreOptions(CHATS, MESSAGES, 2, 2, Optional.of(dataDir), true);

        RestoreBenchmark.Result result;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            result = new RestoreBenchmark(options, out, store -> {
                        try (KeyValueIterator<Long, ChatContext> it = store.all()) {
                            it.forEachRemaining(kv -> restored.put(kv.key, kv.value));
                        }
                    })
                    .run();
        }
        String printed = bytes.toString(StandardCharsets.UTF_8);

        for (String section : List.of(
                "== machine",
                "cores:",
                "JDK:",
                "== parameters",
                "== fill",
                "== restore: fresh state directory",
                "== state size",
                "== restore: local state directory kept",
                "== against the target")) {
            assertTrue(printed.contains(section), "prints " + section + ":\n" + printed);
        }
        // Every chat's context came back from the changelogs, message for message.
        assertEquals(CHATS, restored.size());
        for (int i = 0; i < CHATS; i++) {
            ChatContext context = restored.get(ContextCorpus.chatId(i));
            assertEquals(MESSAGES, context.messages().size(), "chat " + i);
            assertEquals(ContextMessage.Role.USER, context.messages().get(0).role());
            assertEquals(
                    ContextMessage.Role.ASSISTANT, context.messages().get(1).role());
            assertEquals(2L * MESSAGES, context.lastUserMessageId());
        }
        assertEquals(
                CHATS,
                new HashSet<>(restored.values().stream()
                                .map(c -> c.messages().get(0).text()
                                        + c.messages().get(1).text())
                                .toList())
                        .size(),
                "each chat has its own conversation");
        assertEquals(CHATS, result.chatsVerified());
        assertEquals((long) CHATS * MESSAGES, result.messagesVerified());
        assertTrue(
                result.freshRecordsRestored() >= 2L * CHATS,
                "the fresh start restored every context and prune-index record");
        assertEquals(0, result.keptRecordsRestored(), "a clean restart on its own state directory restores nothing");
        assertTrue(result.changelogBytes() > (long) CHATS * MESSAGES * 20);
        assertTrue(result.rocksDbBytes() > 0);
        // The chunker answered from the restored store: both probe thoughts carry their chat's restored messages.
        assertEquals(2, result.probeThoughts().size());
        for (Thought thought : result.probeThoughts()) {
            List<ContextMessage> stored = restored.get(thought.chatId()).messages();
            assertEquals(stored, thought.context(), "20 short messages fit the snapshot whole");
        }
    }

    @Test
    void badArgumentsAreNamed() {
        IllegalArgumentException unknown =
                assertThrows(IllegalArgumentException.class, () -> RestoreOptions.parse("--chat", "5"));
        assertTrue(unknown.getMessage().contains("--chat"));
        IllegalArgumentException notANumber =
                assertThrows(IllegalArgumentException.class, () -> RestoreOptions.parse("--messages", "many"));
        assertTrue(notANumber.getMessage().contains("--messages"));
        assertEquals(
                new RestoreOptions(1000, 100, 6, 3, Optional.empty(), false), RestoreOptions.parse("--chats", "1_000"));
    }
}
