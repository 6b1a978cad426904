package dev.thoughtstream.ingest;

/** Counts each person's messages per fixed time window, shared by every ingest instance. */
public interface FloodWindow {

    /**
     * Records {@code updateId} in {@code userId}'s window {@code window} and returns its 0-based position there,
     * by update id. Recording the same update again (a redelivery) returns the same position, so a redelivered
     * update is judged as before.
     *
     * @throws RuntimeException when the store cannot be reached (the caller fails open)
     */
    long position(long userId, long window, long updateId);
}
