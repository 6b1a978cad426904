package dev.thoughtstream.ingest.write;

/** How a write with a deadline ended. */
public enum WriteOutcome {
    /** Everything the batch needed is in Kafka. */
    WRITTEN,
    /** The deadline passed first; nothing of the batch is remembered (what Kafka still acknowledges later is). */
    TIMED_OUT,
    /** Closed (or interrupted) first. */
    CLOSED
}
