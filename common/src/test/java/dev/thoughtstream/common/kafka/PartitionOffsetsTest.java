package dev.thoughtstream.common.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;

/** Group mode commits only past records that are all finished. */
class PartitionOffsetsTest {
    private static final TopicPartition P0 = new TopicPartition("thoughts", 0);
    private static final TopicPartition P1 = new TopicPartition("thoughts", 1);

    @Test
    void theCommittableOffsetStopsAtTheFirstUnfinishedRecord() {
        // given records 10, 11 and 12 of a partition
        PartitionOffsets offsets = new PartitionOffsets();
        PartitionOffsets.Track track = offsets.received(P0, 10);
        offsets.received(P0, 11);
        offsets.received(P0, 12);

        // when 11 and 12 finish first
        offsets.finished(P0, track, 11);
        offsets.finished(P0, track, 12);

        // then nothing can be committed past 10
        assertEquals(Map.of(P0, new OffsetAndMetadata(10)), offsets.committable(null));

        // and when 10 finishes, everything can
        offsets.finished(P0, track, 10);
        assertEquals(Map.of(P0, new OffsetAndMetadata(13)), offsets.committable(null));
        assertEquals(0, offsets.unfinished());
    }

    @Test
    void anOffsetIsOfferedOnceUntilItMovesAgain() {
        // given a finished record that was committed
        PartitionOffsets offsets = new PartitionOffsets();
        PartitionOffsets.Track track = offsets.received(P0, 5);
        offsets.finished(P0, track, 5);
        offsets.committed(offsets.committable(null));

        // then there is nothing more to commit until another record finishes
        assertTrue(offsets.committable(null).isEmpty());
        offsets.finished(P0, offsets.received(P0, 6), 6);
        assertEquals(Map.of(P0, new OffsetAndMetadata(7)), offsets.committable(null));
    }

    @Test
    void partitionsAreIndependentAndCanBeAskedForSeparately() {
        // given an unfinished record on one partition and a finished one on the other
        PartitionOffsets offsets = new PartitionOffsets();
        offsets.received(P0, 1);
        offsets.finished(P1, offsets.received(P1, 7), 7);

        // then each partition commits what it can
        assertEquals(Map.of(P0, new OffsetAndMetadata(1), P1, new OffsetAndMetadata(8)), offsets.committable(null));
        assertEquals(Map.of(P1, new OffsetAndMetadata(8)), offsets.committable(List.of(P1)));
    }

    @Test
    void aLateCompletionFromAnEarlierAssignmentDoesNotMoveTheNewOne() {
        // given a partition revoked while record 3 was in flight, then assigned again
        PartitionOffsets offsets = new PartitionOffsets();
        PartitionOffsets.Track before = offsets.received(P0, 3);
        offsets.remove(List.of(P0));
        offsets.received(P0, 3);

        // when the old attempt reports record 3 finished
        offsets.finished(P0, before, 3);

        // then the new assignment still waits for its own attempt at record 3
        assertEquals(Map.of(P0, new OffsetAndMetadata(3)), offsets.committable(null));
        assertEquals(1, offsets.unfinished());
    }
}
