package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.ContextMessage.Role;
import dev.thoughtstream.common.event.Delivery.Outcome;
import dev.thoughtstream.common.event.Thought;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The context store as thoughts see it: user messages from emitted thoughts, bot messages from SENT deliveries. */
class ContextTopologyTest {
    private static final long GAP = 1500;
    private static final long CHAT = 42;

    @TempDir
    Path stateDir;

    @Test
    void theNextThoughtSeesTheEarlierThoughtAndTheSentRepliesButNotDroppedOrFailedOnes() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given a first thought of two messages
            chunker.text(CHAT, 1001, "hi");
            chunker.advance(200);
            chunker.text(CHAT, 1002, "how are you?");
            chunker.advance(GAP);
            Thought first = chunker.thoughts.readValue();
            assertEquals(List.of(), first.context(), "the first thought has nothing before it");

            // and the emitter's report: two parts sent, one dropped as stale, one failed
            chunker.advance(1000);
            long sentAt = chunker.now();
            chunker.delivery(CHAT, first.thoughtId(), 0, Outcome.SENT, "fine, thanks");
            chunker.delivery(CHAT, first.thoughtId(), 1, Outcome.SENT, "and you?");
            chunker.delivery(CHAT, first.thoughtId(), 2, Outcome.DROPPED_STALE, "never shown");
            chunker.delivery(CHAT, first.thoughtId(), 3, Outcome.FAILED, "never arrived");

            // when the user writes again and that thought closes
            chunker.advance(1000);
            chunker.text(CHAT, 1005, "great");
            chunker.advance(GAP);

            // then its context is the conversation so far, oldest first, with the bot's side as ASSISTANT
            Thought second = chunker.thoughts.readValue();
            assertEquals(
                    List.of(
                            new ContextMessage(
                                    Role.USER, "hi", first.messages().get(0).sentAtMs()),
                            new ContextMessage(
                                    Role.USER,
                                    "how are you?",
                                    first.messages().get(1).sentAtMs()),
                            new ContextMessage(Role.ASSISTANT, "fine, thanks", sentAt),
                            new ContextMessage(Role.ASSISTANT, "and you?", sentAt)),
                    second.context());
            // and the thought's own message is not part of its context
            assertTrue(second.context().stream().noneMatch(m -> m.text().equals("great")));
        }
    }

    @Test
    void aDeliveryReportedTwiceIsRememberedOnce() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            chunker.delivery(CHAT, "42:1", 0, Outcome.SENT, "hello there");
            chunker.delivery(CHAT, "42:1", 0, Outcome.SENT, "hello there");

            chunker.text(CHAT, 1001, "hi");
            chunker.advance(GAP);

            assertEquals(
                    List.of("hello there"),
                    chunker.thoughts.readValue().context().stream()
                            .map(ContextMessage::text)
                            .toList());
        }
    }

    @Test
    void contextKeepsTheMinimumNumberOfMessagesEvenWhenTheyAreOlderThanTheWindowAndDropsOlderOnesBeyondIt() {
        Map<String, String> smallContext = Map.of(
                ChunkerConfig.CONTEXT_WINDOW_MS, "60000",
                ChunkerConfig.CONTEXT_MIN_MESSAGES, "3");
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, smallContext)) {
            // given a thought of five messages
            for (int i = 1; i <= 5; i++) {
                chunker.text(CHAT, 1000 + i, "old " + i);
                chunker.advance(100);
            }
            chunker.advance(GAP);
            chunker.thoughts.readValue();

            // when ten minutes pass (far beyond the one-minute window) and the user writes again
            chunker.advance(600_000);
            chunker.text(CHAT, 2001, "new");
            chunker.advance(GAP);

            // then the new thought still sees the newest three old messages, not the two oldest
            Thought thought = chunker.thoughts.readValue();
            assertEquals(List.of("old 3", "old 4", "old 5"), texts(thought.context()));
            // and the store, pruned on write, keeps three messages: two old ones and the new one
            assertEquals(
                    List.of("old 4", "old 5", "new"),
                    texts(chunker.contexts().get(CHAT).messages()));
        }
    }

    @Test
    void contextKeepsEveryMessageInsideTheWindowEvenBeyondTheMinimum() {
        Map<String, String> smallContext = Map.of(
                ChunkerConfig.CONTEXT_WINDOW_MS, "60000",
                ChunkerConfig.CONTEXT_MIN_MESSAGES, "3");
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, smallContext)) {
            for (int i = 1; i <= 5; i++) {
                chunker.text(CHAT, 1000 + i, "recent " + i);
                chunker.advance(100);
            }
            chunker.advance(GAP);
            chunker.thoughts.readValue();

            chunker.advance(10_000);
            chunker.text(CHAT, 2001, "new");
            chunker.advance(GAP);

            assertEquals(
                    List.of("recent 1", "recent 2", "recent 3", "recent 4", "recent 5"),
                    texts(chunker.thoughts.readValue().context()));
            assertEquals(6, chunker.contexts().get(CHAT).messages().size());
        }
    }

    @Test
    void theSnapshotIsTrimmedToMaxCharsKeepingTheMostRecentWholeMessages() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CONTEXT_MAX_CHARS, "25"))) {
            // given a conversation of three 10-character messages
            chunker.text(CHAT, 1001, "aaaaaaaaaa");
            chunker.text(CHAT, 1002, "bbbbbbbbbb");
            chunker.advance(GAP);
            chunker.thoughts.readValue();
            chunker.delivery(CHAT, "42:1001", 0, Outcome.SENT, "cccccccccc");

            // when the next thought closes
            chunker.text(CHAT, 1003, "next");
            chunker.advance(GAP);

            // then its context holds the newest messages that fit in 25 characters, oldest first
            assertEquals(
                    List.of("bbbbbbbbbb", "cccccccccc"),
                    texts(chunker.thoughts.readValue().context()));
            // and the store itself keeps everything: trimming applies to what a thought carries
            assertEquals(
                    List.of("aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc", "next"),
                    texts(chunker.contexts().get(CHAT).messages()));
        }
    }

    private static List<String> texts(List<ContextMessage> messages) {
        return messages.stream().map(ContextMessage::text).toList();
    }

    @Test
    void givenTheContextCacheOnOrOff_whenTheSameConversationRuns_thenTheThoughtsAndTheStoredContextsAreTheSame(
            @TempDir Path otherStateDir) {
        // The cache only saves deserializing: every thought, and every context left in the store, is what the store
        // alone gives, through redeliveries, a reset, deliveries reported twice and pruning.
        List<Thought> cached;
        List<Thought> uncached;
        Map<Long, Object> cachedContexts = new java.util.TreeMap<>();
        Map<Long, Object> uncachedContexts = new java.util.TreeMap<>();
        Map<String, String> small = Map.of(ChunkerConfig.CONTEXT_MIN_MESSAGES, "3", "CONTEXT_WINDOW_MS", "60000");
        try (ChunkerHarness on = ChunkerHarness.start(stateDir, small)) {
            cached = converse(on);
            on.contexts().all().forEachRemaining(kv -> cachedContexts.put(kv.key, kv.value));
        }
        Map<String, String> off = new java.util.HashMap<>(small);
        off.put(ChunkerConfig.CONTEXT_CACHE_MAX_BYTES, "0");
        try (ChunkerHarness none = ChunkerHarness.start(otherStateDir, off)) {
            uncached = converse(none);
            none.contexts().all().forEachRemaining(kv -> uncachedContexts.put(kv.key, kv.value));
        }

        assertEquals(8, cached.size(), "the conversation closes eight thoughts");
        assertTrue(cached.stream().anyMatch(t -> t.context().size() >= 3), "with context to carry");
        assertEquals(uncached, cached);
        assertEquals(uncachedContexts, cachedContexts);
    }

    private static List<Thought> converse(ChunkerHarness chunker) {
        java.util.ArrayList<Thought> thoughts = new java.util.ArrayList<>();
        long message = 1000;
        for (int round = 0; round < 4; round++) {
            long firstChatsLast = 0;
            for (long chat : new long[] {CHAT, CHAT + 1}) {
                chunker.text(chat, ++message, "round " + round + " in " + chat);
                chunker.text(chat, ++message, "and more.");
                firstChatsLast = chat == CHAT ? message : firstChatsLast;
            }
            chunker.advance(GAP);
            for (Thought thought : chunker.emitted()) {
                thoughts.add(thought);
                chunker.delivery(
                        thought.chatId(), thought.thoughtId(), 0, Outcome.SENT, "answer to " + thought.thoughtId());
                chunker.delivery(
                        thought.chatId(), thought.thoughtId(), 0, Outcome.SENT, "answer to " + thought.thoughtId());
                chunker.delivery(thought.chatId(), thought.thoughtId(), 1, Outcome.DROPPED_STALE, "never shown");
            }
            // an old message delivered again is not taken as new
            chunker.text(CHAT, firstChatsLast, "and more.");
            if (round == 1) {
                chunker.text(CHAT + 1, ++message, "/reset");
            }
            // past the window, so the next write and the pruning punctuation drop the oldest
            chunker.advance(40_000);
        }
        return thoughts;
    }
}
