package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's conditions (continuation), the caps that close a thought early, and edits; driven by an explicit
 * wall clock (gap 1500 ms, continuation 2500 ms, punctuation every 50 ms).
 */
class ThoughtRulesTopologyTest {
    private static final long GAP = 1500;
    private static final long CONTINUATION = 2500;
    private static final long TICK = 50;
    private static final long CHAT = 42;

    @TempDir
    Path stateDir;

    // --- continuation -----------------------------------------------------------------------------------------

    @Test
    void aMessageEndingWithACommaExtendsTheWaitByTheContinuation() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given a message that looks unfinished
            long arrival = chunker.now();
            chunker.text(CHAT, 1001, "so I was thinking,");

            // when the gap passes, and then all but one tick of the continuation
            chunker.advance(GAP);
            assertTrue(chunker.thoughts.isEmpty(), "a comma must keep the thought open past the gap");
            assertEquals(
                    arrival + GAP + CONTINUATION,
                    chunker.openThoughts().get(CHAT).deadlineMs());
            chunker.advance(CONTINUATION - TICK);
            assertTrue(chunker.thoughts.isEmpty());

            // then the punctuation at gap + continuation emits it
            chunker.advance(TICK);
            Thought thought = chunker.thoughts.readValue();
            assertEquals("so I was thinking,", thought.text());
            assertEquals(arrival + GAP + CONTINUATION, thought.closedAtMs());
        }
    }

    @Test
    void aFollowUpAfterTheGapButWithinTheContinuationJoinsTheUnfinishedThought() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given a message ending in a dangling "and"
            chunker.text(CHAT, 1001, "I bought milk and");

            // when the next one comes 3 s later: after the gap, within gap + continuation
            chunker.advance(3000);
            long followUp = chunker.now();
            chunker.text(CHAT, 1002, "bread.");
            chunker.advance(GAP);

            // then both are one thought, closed a gap after the finished follow-up (no continuation for it)
            Thought thought = chunker.thoughts.readValue();
            assertEquals("I bought milk and\nbread.", thought.text());
            assertEquals(followUp + GAP, thought.closedAtMs());
            assertTrue(chunker.thoughts.isEmpty());
        }
    }

    @Test
    void aFinishedMessageDoesNotExtendTheWait() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            long arrival = chunker.now();
            chunker.text(CHAT, 1001, "That's all for today.");

            chunker.advance(GAP);

            assertEquals(arrival + GAP, chunker.thoughts.readValue().closedAtMs());
        }
    }

    @Test
    void onlyTheLastMessageDecidesWhetherTheThoughtLooksUnfinished() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given an unfinished message followed by a finished one
            chunker.text(CHAT, 1001, "well...");
            chunker.advance(500);
            long last = chunker.now();
            chunker.text(CHAT, 1002, "never mind 🙂");

            // then the thought closes one gap after the finished message
            chunker.advance(GAP);
            assertEquals(last + GAP, chunker.thoughts.readValue().closedAtMs());
        }
    }

    @Test
    void aContinuationOfZeroTurnsTheRuleOff() {
        try (ChunkerHarness chunker =
                ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CHUNK_CONTINUATION_MS, "0"))) {
            long arrival = chunker.now();
            chunker.text(CHAT, 1001, "and then,");

            chunker.advance(GAP);

            assertEquals(arrival + GAP, chunker.thoughts.readValue().closedAtMs());
        }
    }

    @Test
    void theTimelineOfDocsChunkerHoldsTickByTick() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            long t0 = chunker.now();
            chunker.text(CHAT, 1001, "so I was thinking,");
            assertEquals(t0 + 4000, chunker.openThoughts().get(CHAT).deadlineMs());
            chunker.advance(3000);
            chunker.text(CHAT, 1002, "about the trip");
            assertEquals(t0 + 4500, chunker.openThoughts().get(CHAT).deadlineMs());
            chunker.advance(1500 - TICK);
            assertTrue(chunker.thoughts.isEmpty());
            chunker.advance(TICK);
            Thought first = chunker.thoughts.readValue();
            assertEquals(
                    List.of(1001L, 1002L),
                    first.messages().stream().map(ThoughtMessage::messageId).toList());
            assertEquals(t0 + 4500, first.closedAtMs());

            chunker.advance(1500);
            chunker.text(CHAT, 1003, "and");
            assertEquals(t0 + 10_000, chunker.openThoughts().get(CHAT).deadlineMs());
            chunker.advance(3000);
            chunker.text(CHAT, 1004, "/help");
            assertEquals(1, chunker.directReplies().size());
            assertEquals(t0 + 10_000, chunker.openThoughts().get(CHAT).deadlineMs());
            chunker.advance(1000 - TICK);
            assertTrue(chunker.thoughts.isEmpty());
            chunker.advance(TICK);
            Thought second = chunker.thoughts.readValue();
            assertEquals("42:1003", second.thoughtId());
            assertEquals(List.of("and"), texts(second));
            assertEquals(t0 + 10_000, second.closedAtMs());
        }
    }

    // --- caps ------------------------------------------------------------------------------------------------

    @Test
    void aThoughtThatKeepsGrowingClosesAtMaxWaitAfterItsFirstMessage() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CHUNK_MAX_WAIT_MS, "5000"))) {
            // given a message every second, each within the gap of the one before
            long opened = chunker.now();
            for (int i = 0; i < 5; i++) {
                if (i > 0) {
                    chunker.advance(1000);
                }
                chunker.text(CHAT, 1001 + i, "line " + i);
            }
            // (the last one arrived at opened + 4000; the gap alone would keep the thought open until
            // opened + 5500, but its deadline index entry says opened + 5000)
            assertEquals(CHAT, chunker.deadlineIndex().get(new DeadlineKey(opened + 5000, CHAT)));
            assertEquals(1, count(chunker.deadlineIndex().all()));
            chunker.advance(1000 - TICK);
            assertTrue(chunker.thoughts.isEmpty());

            // when the wall clock reaches opened + max wait
            chunker.advance(TICK);

            // then the punctuation has closed it, with all five messages
            Thought thought = chunker.thoughts.readValue();
            assertEquals(5, thought.messages().size());
            assertEquals(opened + 5000, thought.closedAtMs());
            assertNull(chunker.openThoughts().get(CHAT));

            // and the next message opens a new thought
            chunker.text(CHAT, 1006, "line 5");
            chunker.advance(GAP);
            assertEquals("42:1006", chunker.thoughts.readValue().thoughtId());
        }
    }

    @Test
    void theContinuationNeverPushesTheDeadlinePastMaxWait() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CHUNK_MAX_WAIT_MS, "3000"))) {
            long opened = chunker.now();
            chunker.text(CHAT, 1001, "first");
            chunker.advance(1000);
            chunker.text(CHAT, 1002, "and then,");

            assertEquals(opened + 3000, chunker.openThoughts().get(CHAT).deadlineMs());
            chunker.advance(2000);
            assertEquals(opened + 3000, chunker.thoughts.readValue().closedAtMs());
        }
    }

    @Test
    void theMessageThatReachesMaxMessagesIsIncludedAndClosesTheThoughtAtOnce() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CHUNK_MAX_MESSAGES, "3"))) {
            // given two messages
            chunker.text(CHAT, 1001, "one");
            chunker.advance(100);
            chunker.text(CHAT, 1002, "two");
            chunker.advance(100);
            assertTrue(chunker.thoughts.isEmpty());

            // when the third arrives, and the clock does not move
            long third = chunker.now();
            chunker.text(CHAT, 1003, "three");

            // then the thought is out at once, with the third message, and nothing stays open or indexed
            Thought thought = chunker.thoughts.readValue();
            assertEquals(List.of("one", "two", "three"), texts(thought));
            assertEquals(third, thought.closedAtMs());
            assertNull(chunker.openThoughts().get(CHAT));
            assertEquals(0, count(chunker.deadlineIndex().all()));

            // and the fourth message opens the next thought
            chunker.text(CHAT, 1004, "four");
            chunker.advance(GAP);
            assertEquals(List.of("four"), texts(chunker.thoughts.readValue()));
        }
    }

    @Test
    void theMessageThatReachesMaxCharsIsIncludedAndClosesTheThoughtAtOnce() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CHUNK_MAX_CHARS, "20"))) {
            // given 19 characters in two messages: below the cap, so the thought stays open
            chunker.text(CHAT, 1001, "0123456789");
            chunker.text(CHAT, 1002, "abcdefghi");
            assertTrue(chunker.thoughts.isEmpty());

            // when one more character arrives, reaching 20
            chunker.text(CHAT, 1003, "!");

            // then the thought closes right after it, including it
            assertEquals(List.of("0123456789", "abcdefghi", "!"), texts(chunker.thoughts.readValue()));
            assertNull(chunker.openThoughts().get(CHAT));
            assertEquals(0, count(chunker.deadlineIndex().all()));
        }
    }

    @Test
    void aSingleMessageLongerThanMaxCharsIsEmittedAtOnce() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CHUNK_MAX_CHARS, "20"))) {
            chunker.text(CHAT, 1001, "x".repeat(25));

            assertEquals(List.of("x".repeat(25)), texts(chunker.thoughts.readValue()));
            assertNull(chunker.openThoughts().get(CHAT));
        }
    }

    @Test
    void aLongMessageJoiningAnOpenThoughtClosesItTogetherWithWhatWasThere() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CHUNK_MAX_CHARS, "20"))) {
            chunker.text(CHAT, 1001, "short");
            chunker.text(CHAT, 1002, "y".repeat(25));

            assertEquals(List.of("short", "y".repeat(25)), texts(chunker.thoughts.readValue()));
            assertNull(chunker.openThoughts().get(CHAT));
        }
    }

    // --- edits -----------------------------------------------------------------------------------------------

    @Test
    void anEditOfAMessageInTheOpenThoughtReplacesItsTextInPlaceAndRestartsTheGap() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given an open thought of two messages, the first with a typo
            long sent = chunker.now() / 1000 * 1000;
            chunker.text(CHAT, 1001, "helo");
            chunker.advance(500);
            chunker.text(CHAT, 1002, "how are you?");
            chunker.advance(1000);

            // when the first message is edited
            long editedAt = chunker.now();
            chunker.edit(CHAT, 1001, "hello", sent);

            // then the thought is still open, due a gap after the edit
            assertTrue(chunker.thoughts.isEmpty());
            assertEquals(editedAt + GAP, chunker.openThoughts().get(CHAT).deadlineMs());
            assertEquals(1, count(chunker.deadlineIndex().all()));
            chunker.advance(GAP);

            // and it carries the edited text in the original position, marked as edited
            Thought thought = chunker.thoughts.readValue();
            assertEquals("42:1001", thought.thoughtId());
            assertEquals(
                    List.of(
                            new ThoughtMessage(1001, "hello", sent, null, editedAt / 1000 * 1000),
                            new ThoughtMessage(1002, "how are you?", (sent + 500) / 1000 * 1000)),
                    thought.messages());
            assertEquals(1002, thought.lastMessageId());
            // and the conversation remembers only the corrected text
            assertEquals(
                    List.of("hello", "how are you?"),
                    chunker.contexts().get(CHAT).messages().stream()
                            .map(ContextMessage::text)
                            .toList());
        }
    }

    @Test
    void anEditOfAMessageWhoseThoughtWasEmittedBecomesANewThoughtWithItsOwnId() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given a thought that was emitted
            long sent = chunker.now() / 1000 * 1000;
            chunker.text(CHAT, 1001, "see you at 5");
            chunker.advance(GAP);
            assertEquals("42:1001", chunker.thoughts.readValue().thoughtId());

            // when its message is edited
            chunker.advance(10_000);
            long updateId = chunker.nextUpdateId();
            chunker.edit(CHAT, 1001, "see you at 6", sent);
            chunker.advance(GAP);

            // then the edit is answered as a new thought, whose id cannot collide with the first one's
            Thought thought = chunker.thoughts.readValue();
            assertEquals("42:1001:edit-" + updateId, thought.thoughtId());
            assertEquals("see you at 6", thought.text());
            assertEquals(1001, thought.firstMessageId());
            assertEquals(1001, thought.lastMessageId());
            assertTrue(thought.messages().get(0).editedAtMs() != null);
            // with the original in its context
            assertEquals(
                    List.of("see you at 5"),
                    thought.context().stream().map(ContextMessage::text).toList());
        }
    }

    @Test
    void anEditOfAnEarlierMessageJoinsTheOpenThoughtAndTheThoughtKeepsItsIdAndNewestMessageId() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given an emitted thought, and a new one open
            long sent = chunker.now() / 1000 * 1000;
            chunker.text(CHAT, 1001, "my name is Ada");
            chunker.advance(GAP);
            chunker.thoughts.readValue();
            chunker.text(CHAT, 1002, "what's the weather?");
            chunker.advance(500);

            // when the emitted message is edited while the new thought is open
            chunker.edit(CHAT, 1001, "my name is Ava", sent);
            chunker.advance(GAP);

            // then the edit joins the open thought as a message of its own
            Thought thought = chunker.thoughts.readValue();
            assertEquals("42:1002", thought.thoughtId());
            assertEquals(List.of("what's the weather?", "my name is Ava"), texts(thought));
            assertEquals(1002, thought.firstMessageId());
            assertEquals(1002, thought.lastMessageId());
            assertTrue(chunker.thoughts.isEmpty());
        }
    }

    @Test
    void aThoughtMadeOnlyOfAnEditCarriesTheChatsNewestMessageIdSoItsReplyIsNotStale() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            long sent = chunker.now() / 1000 * 1000;
            chunker.text(CHAT, 1001, "first");
            chunker.text(CHAT, 1002, "second");
            chunker.advance(GAP);
            chunker.thoughts.readValue();

            chunker.edit(CHAT, 1001, "first, corrected", sent);
            chunker.advance(GAP + CONTINUATION);

            Thought thought = chunker.thoughts.readValue();
            assertEquals(1001, thought.firstMessageId());
            assertEquals(1002, thought.lastMessageId());
        }
    }

    @Test
    void aRedeliveredOlderEditDoesNotUndoANewerOne() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            long sent = chunker.now() / 1000 * 1000;
            long seconds = chunker.now() / 1000;
            chunker.text(CHAT, 1001, "draft");
            chunker.update(CHAT, ChunkerHarness.editJson(50, CHAT, 1001, "second draft", sent, seconds + 1));
            chunker.update(CHAT, ChunkerHarness.editJson(51, CHAT, 1001, "final", sent, seconds + 2));
            // the first edit again, as after a crash of ingest between writing it and recording its update id
            chunker.update(CHAT, ChunkerHarness.editJson(50, CHAT, 1001, "second draft", sent, seconds + 1));
            chunker.advance(GAP);

            assertEquals(List.of("final"), texts(chunker.thoughts.readValue()));
        }
    }

    @Test
    void aRedeliveredMessageIsStillSkippedAfterItsThoughtWasEmittedAndEdited() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            long sent = chunker.now() / 1000 * 1000;
            chunker.text(CHAT, 1001, "hello");
            chunker.advance(GAP);
            chunker.edit(CHAT, 1001, "hello there", sent);
            chunker.advance(GAP);
            assertEquals(2, chunker.emitted().size());

            // when the original message is delivered again
            chunker.text(CHAT, 1001, "hello");
            chunker.advance(GAP + CONTINUATION);

            // then it is recognised as a redelivery
            assertTrue(chunker.thoughts.isEmpty());
            assertNull(chunker.openThoughts().get(CHAT));
        }
    }

    private static List<String> texts(Thought thought) {
        return thought.messages().stream().map(ThoughtMessage::text).toList();
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
