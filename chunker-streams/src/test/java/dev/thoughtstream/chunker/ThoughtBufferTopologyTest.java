package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.chunker.thought.OpenThought;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The thought buffer's timing, driven by an explicit wall clock (gap 1500 ms, punctuation every 50 ms). */
class ThoughtBufferTopologyTest {
    private static final long GAP = 1500;
    private static final long TICK = 50;
    private static final long CHAT = 42;

    @TempDir
    Path stateDir;

    @Test
    void messagesWithinTheGapBecomeOneThoughtEmittedOnlyOnceTheGapHasPassedOnTheWallClock() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given a first message, and a second one 1000 ms later (within the gap)
            chunker.text(CHAT, 1001, "so I was thinking");
            chunker.advance(1000);
            long lastArrival = chunker.now();
            chunker.text(CHAT, 1002, "about the trip");

            // when the wall clock reaches one tick before the second message's deadline
            chunker.advance(GAP - TICK);

            // then nothing is out yet: the gap restarted with the second message
            assertTrue(chunker.thoughts.isEmpty());

            // when the next punctuation runs at the deadline
            chunker.advance(TICK);

            // then exactly one thought holds both messages, in order, closed at the deadline
            List<Thought> thoughts = chunker.emitted();
            assertEquals(1, thoughts.size());
            Thought thought = thoughts.get(0);
            assertEquals(
                    List.of(1001L, 1002L),
                    thought.messages().stream().map(ThoughtMessage::messageId).toList());
            assertEquals("so I was thinking\nabout the trip", thought.text());
            assertEquals(lastArrival + GAP, thought.closedAtMs());
        }
    }

    @Test
    void nothingIsEmittedAtAnyPunctuationBeforeTheGapHasPassed() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given one message
            long arrival = chunker.now();
            chunker.text(CHAT, 1001, "hello");

            // when every punctuation up to the last one before the deadline runs
            // then none of them emits
            for (long waited = TICK; waited < GAP; waited += TICK) {
                chunker.advance(TICK);
                assertTrue(chunker.thoughts.isEmpty(), "emitted after only " + waited + " ms");
            }

            // and the punctuation at the deadline does
            chunker.advance(TICK);
            Thought thought = chunker.thoughts.readValue();
            assertEquals(arrival + GAP, thought.closedAtMs());
            assertTrue(chunker.thoughts.isEmpty());
        }
    }

    @Test
    void anIdlePartitionEmitsOnWallClockTimeAloneWithoutFurtherInput() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given one message whose record time is an hour old, so stream time is far behind the wall clock
            long arrival = chunker.now();
            chunker.textWithRecordTime(CHAT, 1001, "anyone there?", ChunkerHarness.START.minusSeconds(3600));

            // when only the wall clock moves, in one jump past the deadline, and no record ever arrives again
            chunker.advance(GAP + 3 * TICK);

            // then the thought is emitted, stamped with the wall-clock time of the punctuation that closed it
            TestRecord<Long, Thought> record = chunker.thoughts.readRecord();
            assertEquals(CHAT, record.key());
            assertEquals(
                    List.of(1001L),
                    record.value().messages().stream()
                            .map(ThoughtMessage::messageId)
                            .toList());
            assertEquals(arrival + GAP + 3 * TICK, record.value().closedAtMs());
            assertEquals(record.value().closedAtMs(), record.timestamp());
            assertNull(chunker.openThoughts().get(CHAT));
            assertEquals(0, count(chunker.deadlineIndex().all()));
        }
    }

    @Test
    void messagesFurtherApartThanTheGapBecomeTwoThoughts() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given a message, then a pause longer than the gap, then another message
            chunker.text(CHAT, 1001, "first thought");
            chunker.advance(GAP + TICK);
            chunker.text(CHAT, 1002, "second thought");
            chunker.advance(GAP);

            // then each message is its own thought, in order
            List<Thought> thoughts = chunker.emitted();
            assertEquals(
                    List.of("42:1001", "42:1002"),
                    thoughts.stream().map(Thought::thoughtId).toList());
            assertEquals("first thought", thoughts.get(0).text());
            assertEquals("second thought", thoughts.get(1).text());
        }
    }

    @Test
    void recordTimestampsDoNotDecideTheGapArrivalOnTheWallClockDoes() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given two replayed messages written ten minutes apart but read 100 ms apart
            Instant written = ChunkerHarness.START.minusSeconds(3600);
            chunker.textWithRecordTime(CHAT, 1001, "old one", written);
            chunker.advance(100);
            chunker.textWithRecordTime(CHAT, 1002, "old two", written.plusSeconds(600));

            // when the gap passes on the wall clock
            chunker.advance(GAP);

            // then they form one thought, because they arrived within the gap
            List<Thought> thoughts = chunker.emitted();
            assertEquals(1, thoughts.size());
            assertEquals(2, thoughts.get(0).messages().size());
        }
    }

    @Test
    void aMessageForAnOverdueThoughtClosesItFirstEvenWhenNoPunctuationHasRunYet() {
        // given punctuation far rarer than the gap, so a thought can be overdue with no punctuation having run
        Map<String, String> rarePunctuation = Map.of(ChunkerConfig.CHUNK_PUNCTUATE_INTERVAL_MS, "60000");
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, rarePunctuation)) {
            long firstArrival = chunker.now();
            chunker.text(CHAT, 1001, "before the pause");
            chunker.advance(GAP + 500);
            assertTrue(chunker.thoughts.isEmpty(), "no punctuation has run yet");

            // when the next message arrives after the gap has passed
            long secondArrival = chunker.now();
            chunker.text(CHAT, 1002, "after the pause");

            // then the overdue thought is emitted at once, alone, and the new message opens the next thought
            List<Thought> thoughts = chunker.emitted();
            assertEquals(1, thoughts.size());
            assertEquals("42:1001", thoughts.get(0).thoughtId());
            assertEquals(firstArrival, thoughts.get(0).openedAtMs());
            assertEquals(secondArrival, thoughts.get(0).closedAtMs());
            OpenThought open = chunker.openThoughts().get(CHAT);
            assertEquals("42:1002", open.thoughtId());
            assertEquals(secondArrival + GAP, open.deadlineMs());
            assertEquals(CHAT, chunker.deadlineIndex().get(new DeadlineKey(secondArrival + GAP, CHAT)));
            assertNull(chunker.deadlineIndex().get(new DeadlineKey(firstArrival + GAP, CHAT)));
        }
    }

    @Test
    void theThoughtCarriesItsDeterministicIdMessageIdsTextsAndTimes() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            long opened = chunker.now();
            long firstSent = opened / 1000 * 1000;
            chunker.text(-100_123L, 501, "group hello");
            chunker.advance(500);
            chunker.text(-100_123L, 502, "second line");
            chunker.advance(500);
            chunker.text(-100_123L, 505, "third line");
            long lastArrival = chunker.now();
            chunker.advance(GAP);

            TestRecord<Long, Thought> record = chunker.thoughts.readRecord();
            Thought thought = record.value();
            assertEquals(-100_123L, record.key());
            assertEquals(Thought.SCHEMA_VERSION, thought.schemaVersion());
            assertEquals(Thought.idFor(-100_123L, 501), thought.thoughtId());
            assertEquals("-100123:501", thought.thoughtId());
            assertEquals(-100_123L, thought.chatId());
            assertEquals(501, thought.firstMessageId());
            assertEquals(505, thought.lastMessageId());
            assertEquals(
                    List.of(
                            new ThoughtMessage(501, "group hello", firstSent),
                            new ThoughtMessage(502, "second line", (opened + 500) / 1000 * 1000),
                            new ThoughtMessage(505, "third line", lastArrival / 1000 * 1000)),
                    thought.messages());
            assertEquals(opened, thought.openedAtMs());
            assertEquals(lastArrival + GAP, thought.closedAtMs());
            assertEquals(List.of(), thought.context());
        }
    }

    @Test
    void aRedeliveredMessageIsCountedOnceWhetherItsThoughtIsOpenOrAlreadyEmitted() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given a message delivered twice while its thought is open
            chunker.text(CHAT, 1001, "once");
            chunker.advance(100);
            chunker.text(CHAT, 1001, "once");
            chunker.advance(GAP);

            // then the thought holds it once
            List<Thought> thoughts = chunker.emitted();
            assertEquals(1, thoughts.size());
            assertEquals(1, thoughts.get(0).messages().size());

            // when it is delivered again after the thought was emitted
            chunker.text(CHAT, 1001, "once");
            chunker.advance(GAP + TICK);

            // then no second thought appears and nothing stays open
            assertTrue(chunker.thoughts.isEmpty());
            assertNull(chunker.openThoughts().get(CHAT));
        }
    }

    @Test
    void aPunctuationEmitsOnlyTheDueChatAndLeavesEveryOtherChatAndItsIndexEntryUntouched() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given one group chat whose thought is due first
            long dueChat = -1_000_777L;
            long dueDeadline = chunker.now() + GAP;
            chunker.text(dueChat, 1, "due first");
            chunker.advance(1000);

            // and 2,000 other chats (positive private ids and negative group ids) opened later
            long othersDeadline = chunker.now() + GAP;
            List<Long> others = new ArrayList<>();
            for (long i = 1; i <= 1000; i++) {
                others.add(i);
                others.add(-1_000_000_000_000L - i);
            }
            for (long chat : others) {
                chunker.text(chat, 10, "still typing in " + chat);
            }
            assertEquals(2001, count(chunker.deadlineIndex().all()));

            // when the wall clock reaches the first chat's deadline only
            chunker.advance(dueDeadline - chunker.now());

            // then only that chat's thought is emitted
            List<Thought> thoughts = chunker.emitted();
            assertEquals(
                    List.of(Thought.idFor(dueChat, 1)),
                    thoughts.stream().map(Thought::thoughtId).toList());

            // and its index entry and open thought are gone, while every other chat keeps exactly its own entry
            // with its own deadline and its open thought unchanged
            assertNull(chunker.openThoughts().get(dueChat));
            Set<Long> indexed = new HashSet<>();
            try (KeyValueIterator<DeadlineKey, Long> it =
                    chunker.deadlineIndex().all()) {
                while (it.hasNext()) {
                    KeyValue<DeadlineKey, Long> entry = it.next();
                    assertEquals(othersDeadline, entry.key.deadlineMs());
                    assertEquals(entry.key.chatId(), entry.value);
                    indexed.add(entry.key.chatId());
                }
            }
            assertEquals(new HashSet<>(others), indexed);
            for (long chat : others) {
                OpenThought open = chunker.openThoughts().get(chat);
                assertNotNull(open, "chat " + chat);
                assertEquals(othersDeadline, open.deadlineMs());
                assertEquals(1, open.messages().size());
            }

            // when their deadline comes too, all of them are emitted and both stores are empty
            chunker.advance(othersDeadline - chunker.now());
            assertEquals(2000, chunker.emitted().size());
            assertEquals(0, count(chunker.deadlineIndex().all()));
            assertEquals(0, count(chunker.openThoughts().all()));
        }
    }

    @Test
    void aNewMessageMovesTheChatsDeadlineIndexEntryInsteadOfAddingOne() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            long first = chunker.now();
            chunker.text(CHAT, 1001, "one");
            chunker.advance(700);
            long second = chunker.now();
            chunker.text(CHAT, 1002, "two");

            assertNull(chunker.deadlineIndex().get(new DeadlineKey(first + GAP, CHAT)));
            assertEquals(CHAT, chunker.deadlineIndex().get(new DeadlineKey(second + GAP, CHAT)));
            assertEquals(1, count(chunker.deadlineIndex().all()));
        }
    }

    private static int count(KeyValueIterator<?, ?> iterator) {
        try (iterator) {
            int n = 0;
            while (iterator.hasNext()) {
                iterator.next();
                n++;
            }
            return n;
        }
    }
}
