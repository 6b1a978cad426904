package dev.thoughtstream.chunker.deadletter;

import dev.thoughtstream.chunker.ChunkerMetrics;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts the records this service sent to the dead-letter topic, per source topic. The exception handlers are
 * created by Kafka Streams through reflection, so the service hands its counter to them as the value of
 * {@link #CONFIG} in the streams properties. Safe to use from every stream thread.
 */
public final class DeadLetterCounter {
    /** Streams property under which the handlers find the counter; not a Kafka setting. */
    public static final String CONFIG = "thoughtstream.chunker.dead.letter.counter";

    private final LongAdder total = new LongAdder();
    private final ChunkerMetrics metrics;

    public DeadLetterCounter() {
        this(ChunkerMetrics.detached());
    }

    public DeadLetterCounter(ChunkerMetrics metrics) {
        this.metrics = metrics;
    }

    private final ConcurrentMap<String, LongAdder> bySourceTopic = new ConcurrentHashMap<>();

    void record(String sourceTopic) {
        total.increment();
        metrics.deadLetter(sourceTopic);
        bySourceTopic
                .computeIfAbsent(sourceTopic == null ? "unknown" : sourceTopic, t -> new LongAdder())
                .increment();
    }

    public long total() {
        return total.sum();
    }

    public long count(String sourceTopic) {
        LongAdder adder = bySourceTopic.get(sourceTopic);
        return adder == null ? 0 : adder.sum();
    }

    /** A point-in-time copy, source topic to count. */
    public Map<String, Long> bySourceTopic() {
        Map<String, Long> out = new TreeMap<>();
        bySourceTopic.forEach((topic, adder) -> out.put(topic, adder.sum()));
        return out;
    }

    @Override
    public String toString() {
        return "DeadLetterCounter[total=" + total() + ", bySourceTopic=" + bySourceTopic() + "]";
    }
}
