package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.chunker.context.ChatContext;
import dev.thoughtstream.chunker.context.ContextBytes;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.ContextMessage.Role;
import dev.thoughtstream.common.event.Delivery.Outcome;
import dev.thoughtstream.common.event.Thought;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention of the context store beyond what a write prunes: the byte cap, pruning of chats that stopped writing
 * by the wall-clock punctuation and its index, and the idle TTL. Every test drives the wall clock explicitly.
 */
class ContextRetentionTopologyTest {
    private static final long GAP = 1500;
    private static final long CHAT = 42;
    private static final long MINUTE = 60_000;
    private static final long HOUR = 60 * MINUTE;
    private static final long DAY = 24 * HOUR;

    @TempDir
    Path stateDir;

    // --- byte cap --------------------------------------------------------------------------------------------

    @Test
    void
            givenMessagesHeavierThanTheByteCap_whenTheyEnterTheContext_thenTheOldestGoEvenBelowTheMinimumAndTheSnapshotFits() {
        // given a cap of 1024 bytes, the default minimum of 100 messages and a 6 h window (nothing expires by age)
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CONTEXT_MAX_BYTES, "1024"))) {
            assertEquals(100, chunker.config.context().minMessages());
            // and messages of 300 bytes each (236 characters plus 64 for role, time and JSON): three fit, four don't
            chunker.text(CHAT, 1001, heavy('a'));
            chunker.text(CHAT, 1002, heavy('b'));
            chunker.advance(GAP);
            Thought first = chunker.thoughts.readValue();
            chunker.delivery(CHAT, first.thoughtId(), 0, Outcome.SENT, heavy('c'));

            // when a fourth message enters the context
            chunker.delivery(CHAT, first.thoughtId(), 1, Outcome.SENT, heavy('d'));

            // then the oldest is gone, though only four messages were ever stored
            assertEquals(
                    List.of('b', 'c', 'd'),
                    initials(chunker.contexts().get(CHAT).messages()));
            assertTrue(chunker.contexts().get(CHAT).bytes() <= 1024);

            // when the next thought closes
            chunker.text(CHAT, 1003, heavy('e'));
            chunker.advance(GAP);

            // then its context snapshot is within the cap too
            Thought second = chunker.thoughts.readValue();
            assertEquals(List.of('b', 'c', 'd'), initials(second.context()));
            assertTrue(new ChatContext(second.context(), 0).bytes() <= 1024);
            // and the store, with the thought's own message appended, dropped the next oldest
            assertEquals(
                    List.of('c', 'd', 'e'),
                    initials(chunker.contexts().get(CHAT).messages()));
        }
    }

    @Test
    void givenOneReplyHeavierThanTheWholeCap_whenItIsDelivered_thenTheContextKeepsItAloneCutToFit() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CONTEXT_MAX_BYTES, "1024"))) {
            chunker.text(CHAT, 1001, "tell me everything");
            chunker.advance(GAP);
            Thought thought = chunker.thoughts.readValue();

            chunker.delivery(CHAT, thought.thoughtId(), 0, Outcome.SENT, "everything ".repeat(400));

            List<ContextMessage> stored = chunker.contexts().get(CHAT).messages();
            assertEquals(1, stored.size());
            assertEquals(Role.ASSISTANT, stored.get(0).role());
            assertTrue(stored.get(0).text().startsWith("everything everything"));
            assertTrue(stored.get(0).text().endsWith(ContextBytes.TRUNCATION_MARKER));
            assertTrue(chunker.contexts().get(CHAT).bytes() <= 1024);
        }
    }

    // --- pruning of idle chats -------------------------------------------------------------------------------

    @Test
    void
            givenAChatThatStoppedWriting_whenItsMessagesLeaveTheWindow_thenThePunctuationPrunesUserAndBotMessagesDownToTheMinimum() {
        // given a one-minute window, a minimum of one message and pruning every second
        Map<String, String> settings = Map.of(
                ChunkerConfig.CONTEXT_WINDOW_MS, Long.toString(MINUTE),
                ChunkerConfig.CONTEXT_MIN_MESSAGES, "1",
                ChunkerConfig.CONTEXT_PRUNE_INTERVAL_MS, "1000");
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, settings)) {
            long t0 = chunker.now();
            // and a conversation: two user messages and two replies at about t0, one of each 30 s later
            chunker.text(CHAT, 1001, "u1");
            chunker.text(CHAT, 1002, "u2");
            chunker.advance(GAP);
            Thought first = chunker.thoughts.readValue();
            chunker.delivery(CHAT, first.thoughtId(), 0, Outcome.SENT, "b1");
            chunker.delivery(CHAT, first.thoughtId(), 1, Outcome.SENT, "b2");
            chunker.advance(30_000 - GAP);
            chunker.text(CHAT, 1003, "u3");
            chunker.advance(GAP);
            Thought second = chunker.thoughts.readValue();
            chunker.delivery(CHAT, second.thoughtId(), 0, Outcome.SENT, "b3");
            ChatContext written = chunker.contexts().get(CHAT);
            assertEquals(List.of("u1", "u2", "b1", "b2", "u3", "b3"), texts(written.messages()));
            long lastWrite = chunker.now();
            assertEquals(lastWrite, written.touchedAtMs());
            // (the index holds the chat once: due when u1, sent at t0, has been a window old)
            assertEquals(List.of(new DeadlineKey(t0 + MINUTE + 1, CHAT)), pruneIndex(chunker));
            assertEquals(t0 + MINUTE + 1, written.pruneAtMs());

            // when the chat writes nothing more and the wall clock reaches t0 + 60 s (nothing is older yet)
            chunker.advance(t0 + MINUTE - chunker.now());

            // then nothing is pruned
            assertEquals(written, chunker.contexts().get(CHAT));

            // when the wall clock passes the window for the first four messages (user and bot alike)
            chunker.advance(t0 + MINUTE + GAP + 1000 - chunker.now());

            // then the punctuation has pruned them, and only them, though the chat never wrote again
            ChatContext pruned = chunker.contexts().get(CHAT);
            assertEquals(List.of("u3", "b3"), texts(pruned.messages()));
            // and pruning is not activity: the idle TTL still counts from the last write
            assertEquals(lastWrite, pruned.touchedAtMs());
            // and the index moved on to u3's expiry
            long u3SentAt = second.messages().get(0).sentAtMs();
            assertEquals(List.of(new DeadlineKey(u3SentAt + MINUTE + 1, CHAT)), pruneIndex(chunker));

            // when both remaining messages are older than the window too
            chunker.advance(u3SentAt + MINUTE + GAP + 1000 - chunker.now());

            // then the newest (the minimum of one) stays, and only the idle TTL is left in the index
            ChatContext atMinimum = chunker.contexts().get(CHAT);
            assertEquals(List.of("b3"), texts(atMinimum.messages()));
            assertEquals(
                    List.of(new DeadlineKey(
                            lastWrite + chunker.config.context().idleTtl().toMillis(), CHAT)),
                    pruneIndex(chunker));
            assertTrue(chunker.thoughts.isEmpty(), "pruning emits nothing");
        }
    }

    @Test
    void
            givenChatsWhoseIndexEntriesAreNotDue_whenThePunctuationRuns_thenItLeavesThemUntouchedAndPrunesOnlyTheDueChat() {
        Map<String, String> settings = Map.of(
                ChunkerConfig.CONTEXT_WINDOW_MS, Long.toString(MINUTE),
                ChunkerConfig.CONTEXT_MIN_MESSAGES, "2",
                ChunkerConfig.CONTEXT_PRUNE_INTERVAL_MS, "1000");
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, settings)) {
            // given 2,000 chats (private and group ids) whose contexts hold four day-old messages, but which were
            // indexed under a longer window (as after a settings change) and so are due only tomorrow
            long now = chunker.now();
            long tomorrow = now + DAY;
            Map<Long, ChatContext> notDue = new HashMap<>();
            for (long i = 1; i <= 1000; i++) {
                for (long chat : new long[] {i, -1_000_000_000_000L - i}) {
                    List<ContextMessage> old = new ArrayList<>();
                    for (int m = 0; m < 4; m++) {
                        old.add(new ContextMessage(m % 2 == 0 ? Role.USER : Role.ASSISTANT, "old " + m, now - DAY));
                    }
                    ChatContext context = new ChatContext(old, 10, now, tomorrow);
                    chunker.contexts().put(chat, context);
                    pruneIndexStore(chunker).put(new DeadlineKey(tomorrow, chat), chat);
                    notDue.put(chat, context);
                }
            }
            // and one chat, written through the topology, whose four messages leave the window in a minute
            long dueChat = 5_000_000L;
            for (int m = 1; m <= 4; m++) {
                chunker.text(dueChat, m, "recent " + m);
            }
            chunker.advance(GAP);
            chunker.thoughts.readValue();
            assertEquals(4, chunker.contexts().get(dueChat).messages().size());

            // when the wall clock passes that chat's prune time and the punctuation runs
            chunker.advance(MINUTE + 1000);

            // then that chat is pruned to the minimum
            assertEquals(
                    List.of("recent 3", "recent 4"),
                    texts(chunker.contexts().get(dueChat).messages()));
            // and none of the others was visited: each still holds exactly what it held, expired messages included
            for (Map.Entry<Long, ChatContext> entry : notDue.entrySet()) {
                assertEquals(entry.getValue(), chunker.contexts().get(entry.getKey()), "chat " + entry.getKey());
            }

            // when their own time comes
            chunker.advance(tomorrow - chunker.now());

            // then they are pruned too: the first thousand in this run (CONTEXT_PRUNE_MAX_CHATS defaults to 1000),
            int prunedAfterOneDay = 0;
            for (long chat : notDue.keySet()) {
                if (chunker.contexts().get(chat).messages().size() == 2) {
                    prunedAfterOneDay++;
                }
            }
            assertEquals(1000, prunedAfterOneDay, "at most CONTEXT_PRUNE_MAX_CHATS chats per run");
            // and the rest in the next
            chunker.advance(1000);
            for (long chat : notDue.keySet()) {
                assertEquals(
                        List.of("old 2", "old 3"),
                        texts(chunker.contexts().get(chat).messages()),
                        "chat " + chat);
            }
        }
    }

    @Test
    void givenMoreDueChatsThanOneRunMayHandle_whenThePunctuationRuns_thenEachRunHandlesAtMostTheLimitOldestFirst() {
        Map<String, String> settings = Map.of(
                ChunkerConfig.CONTEXT_WINDOW_MS, Long.toString(MINUTE),
                ChunkerConfig.CONTEXT_MIN_MESSAGES, "1",
                ChunkerConfig.CONTEXT_PRUNE_INTERVAL_MS, "1000",
                ChunkerConfig.CONTEXT_PRUNE_MAX_CHATS, "10");
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, settings)) {
            // given 25 chats (group ids are negative) each with two messages, all due at the same moment
            List<Long> chats = new ArrayList<>();
            for (long chat = -12; chat <= 12; chat++) {
                chats.add(chat == 0 ? 100 : chat);
            }
            for (long chat : chats) {
                chunker.text(chat, 1, "one");
                chunker.text(chat, 2, "two");
            }
            chunker.advance(GAP);
            assertEquals(25, chunker.emitted().size());
            TreeSet<Long> byId = new TreeSet<>(chats);

            // when the first punctuation after their prune time runs
            chunker.advance(MINUTE);

            // then it pruned ten chats, the first ten in index order (same time, so by chat id)
            assertEquals(byId.stream().limit(10).collect(Collectors.toSet()), prunedChats(chunker, chats));

            // and each further run takes the next ten, then the rest
            chunker.advance(1000);
            assertEquals(byId.stream().limit(20).collect(Collectors.toSet()), prunedChats(chunker, chats));
            chunker.advance(1000);
            assertEquals(byId, new TreeSet<>(prunedChats(chunker, chats)));
        }
    }

    @Test
    void givenAnIndexEntryWithoutAMatchingContext_whenItIsDue_thenThePunctuationRemovesIt() {
        try (ChunkerHarness chunker =
                ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CONTEXT_PRUNE_INTERVAL_MS, "1000"))) {
            DeadlineKey orphan = new DeadlineKey(chunker.now() + 10, 77L);
            pruneIndexStore(chunker).put(orphan, 77L);

            chunker.advance(1000);

            assertNull(pruneIndexStore(chunker).get(orphan));
            assertNull(chunker.contexts().get(77L));
        }
    }

    // --- idle TTL --------------------------------------------------------------------------------------------

    @Test
    void givenAChatWithNoActivityForTheIdleTtl_whenThePunctuationRuns_thenItsWholeContextIsDeletedAndOthersStay() {
        // given an idle TTL of one hour, pruning every minute (the default), and the default 100-message minimum:
        // nothing here ever leaves by age
        try (ChunkerHarness chunker =
                ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CONTEXT_IDLE_TTL_MS, Long.toString(HOUR)))) {
            long t0 = chunker.now();
            long gone = 501;
            long active = 502;
            // and two chats that each had a thought at t0
            chunker.text(gone, 1, "anyone?");
            chunker.text(active, 1, "hello");
            chunker.advance(GAP);
            Map<Long, Thought> firsts = chunker.emitted().stream().collect(Collectors.toMap(Thought::chatId, t -> t));
            // and the active chat got a reply 30 minutes later (activity), the other nothing ever again
            chunker.advance(30 * MINUTE - GAP);
            chunker.delivery(active, firsts.get(active).thoughtId(), 0, Outcome.SENT, "hi there");
            long activeLastWrite = chunker.now();

            // when an hour has passed since the first chat's last write, but not yet a minute more
            chunker.advance(t0 + HOUR - chunker.now());

            // then both contexts are still there
            assertNotNull(chunker.contexts().get(gone));
            assertNotNull(chunker.contexts().get(active));

            // when the next punctuation after the hour runs
            chunker.advance(MINUTE);

            // then the idle chat's context is gone with its index entry, and the active one is untouched
            assertNull(chunker.contexts().get(gone));
            assertEquals(
                    List.of("hello", "hi there"),
                    texts(chunker.contexts().get(active).messages()));
            assertEquals(List.of(new DeadlineKey(activeLastWrite + HOUR, active)), pruneIndex(chunker));

            // when the idle chat writes again, its next thought starts from nothing
            chunker.text(gone, 2, "back again");
            chunker.advance(GAP);
            assertEquals(List.of(), chunker.thoughts.readValue().context());

            // and the active chat goes the same way an hour after its own last write
            chunker.advance(activeLastWrite + HOUR + MINUTE - chunker.now());
            assertNull(chunker.contexts().get(active));
            assertEquals(1, pruneIndex(chunker).size(), "only the chat that came back is indexed");
        }
    }

    // --- helpers ---------------------------------------------------------------------------------------------

    /** 300 bytes as a context message: an initial, 235 more characters, and 64 bytes of overhead. */
    private static String heavy(char initial) {
        return initial + "x".repeat(235);
    }

    private static List<Character> initials(List<ContextMessage> messages) {
        return messages.stream().map(m -> m.text().charAt(0)).toList();
    }

    private static List<String> texts(List<ContextMessage> messages) {
        return messages.stream().map(ContextMessage::text).toList();
    }

    private static KeyValueStore<DeadlineKey, Long> pruneIndexStore(ChunkerHarness chunker) {
        return chunker.driver.getKeyValueStore(ChunkerTopology.CONTEXT_PRUNE_INDEX_STORE);
    }

    private static List<DeadlineKey> pruneIndex(ChunkerHarness chunker) {
        List<DeadlineKey> keys = new ArrayList<>();
        try (KeyValueIterator<DeadlineKey, Long> it = pruneIndexStore(chunker).all()) {
            it.forEachRemaining(entry -> {
                assertEquals(entry.key.chatId(), entry.value);
                keys.add(entry.key);
            });
        }
        return keys;
    }

    private static Set<Long> prunedChats(ChunkerHarness chunker, List<Long> chats) {
        return chats.stream()
                .filter(chat -> chunker.contexts().get(chat).messages().size() == 1)
                .collect(Collectors.toSet());
    }
}
