package dev.thoughtstream.ingest.intake;

import java.util.ArrayList;
import java.util.List;

/** Counts each person's messages per fixed time window, shared by every ingest instance. */
public interface FloodWindow {

    /** One message to count: its sender and its update id. */
    record Entry(long userId, long updateId) {}

    /**
     * Records {@code updateId} in {@code userId}'s window {@code window} and returns its 0-based position there,
     * by update id. Recording the same update again (a redelivery) returns the same position, so a redelivered
     * update is judged as before.
     *
     * @throws RuntimeException when the store cannot be reached (the caller fails open)
     */
    long position(long userId, long window, long updateId);

    /**
     * {@link #position} of several messages of one window, in their order (a batch of updates is judged with one
     * round trip on Redis).
     *
     * @throws RuntimeException when the store cannot be reached (the caller fails open for all of them)
     */
    default List<Long> positions(long window, List<Entry> entries) {
        List<Long> positions = new ArrayList<>(entries.size());
        for (Entry e : entries) {
            positions.add(position(e.userId(), window, e.updateId()));
        }
        return positions;
    }
}
