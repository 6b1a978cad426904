package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.topic.Topics;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A chunker rebuilt after {@code thoughtstream reprocess --emit none}: the input below the fence (the offsets the old
 * chunker had processed) rebuilds open thoughts and context, and nothing from it is sent again.
 */
class ReprocessFenceTopologyTest {
    private static final long GAP = 1500;
    private static final long CHAT = 42;

    @TempDir
    Path stateDir;

    /** The driver's updates topic has one partition; its records get offsets 0, 1, 2... in the order piped. */
    private static ReprocessFence fenceAt(long firstNewOffset) {
        return new ReprocessFence(Map.of(ChunkerHarness.PREFIX + Topics.UPDATES, Map.of(0, firstNewOffset)));
    }

    @Test
    void oldInputRebuildsTheContextButNeitherItsThoughtsNorItsDirectRepliesAreSentAgain() {
        // given a fence after the first three updates: a command and two messages the old chunker answered
        try (ChunkerHarness chunker = ChunkerHarness.startFenced(stateDir, fenceAt(3))) {
            // when they are processed again and their thoughts' deadlines pass
            chunker.text(CHAT, 1001, "/start");
            chunker.text(CHAT, 1002, "the old question");
            chunker.advance(GAP + 100);
            chunker.text(CHAT, 1003, "and its follow-up");
            chunker.advance(GAP + 100);

            // then nothing is sent: no thought, no greeting
            assertTrue(chunker.thoughts.isEmpty(), "a thought of old input was sent again");
            assertTrue(chunker.replies.isEmpty(), "a direct reply to old input was sent again");

            // when a new message arrives
            chunker.text(CHAT, 1004, "a new question");
            chunker.advance(GAP + 100);

            // then it alone is answered, with the rebuilt conversation as its context
            List<Thought> thoughts = chunker.emitted();
            assertEquals(1, thoughts.size());
            Thought thought = thoughts.get(0);
            assertEquals(
                    List.of(1004L),
                    thought.messages().stream().map(ThoughtMessage::messageId).toList());
            assertEquals(
                    List.of("the old question", "and its follow-up"),
                    thought.context().stream().map(ContextMessage::text).toList());
        }
    }

    @Test
    void theFirstNewMessageClosesAThoughtRebuiltFromOldInputWithoutSendingItAndIsAnsweredOnItsOwn() {
        // given an old message whose thought was still open when the fence was taken
        try (ChunkerHarness chunker = ChunkerHarness.startFenced(stateDir, fenceAt(1))) {
            chunker.text(CHAT, 1001, "half a thought");

            // when a new message follows within the gap, and the gap then passes
            chunker.text(CHAT, 1002, "the new part");
            chunker.advance(GAP + 100);

            // then only the new message is sent, the old one being its context
            List<Thought> thoughts = chunker.emitted();
            assertEquals(1, thoughts.size());
            assertEquals(
                    List.of(1002L),
                    thoughts.get(0).messages().stream()
                            .map(ThoughtMessage::messageId)
                            .toList());
            assertEquals(
                    List.of("half a thought"),
                    thoughts.get(0).context().stream().map(ContextMessage::text).toList());
        }
    }

    @Test
    void withoutAFenceEveryThoughtIsSent() {
        try (ChunkerHarness chunker = ChunkerHarness.startFenced(stateDir, ReprocessFence.NONE)) {
            chunker.text(CHAT, 1001, "hello");
            chunker.advance(GAP + 100);
            assertEquals(1, chunker.emitted().size());
        }
    }

    @Test
    void aFenceCoversOnlyTheOffsetsBelowItOnTheTopicsAndPartitionsItNames() {
        ReprocessFence fence = new ReprocessFence(Map.of("t", Map.of(0, 5L)));
        assertTrue(fence.covers(at("t", 0, 4)));
        assertFalse(fence.covers(at("t", 0, 5)));
        assertFalse(fence.covers(at("t", 1, 0)));
        assertFalse(fence.covers(at("u", 0, 0)));
        assertEquals(fence, ReprocessFence.parse("{\"offsets\":{\"t\":{\"0\":5}},\"writtenBy\":\"a newer ops\"}"));
    }

    private static RecordMetadata at(String topic, int partition, long offset) {
        return new RecordMetadata() {
            @Override
            public String topic() {
                return topic;
            }

            @Override
            public int partition() {
                return partition;
            }

            @Override
            public long offset() {
                return offset;
            }
        };
    }
}
