package dev.thoughtstream.llm.handle;

import dev.thoughtstream.common.metrics.Metrics;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The consumer side's instruments, registered once on the service's {@link Metrics} (the generation side records
 * the model calls itself):
 *
 * <ul>
 *   <li>{@code llm_thoughts_total{outcome}}: how each thought ended here, one of
 *       {@code answered|skipped_stale|cancelled_stale|duplicate|dead_lettered|failed};</li>
 *   <li>{@code llm_thoughts_retried_total{reason}}: handlings that did not end the thought (it comes back);</li>
 *   <li>{@code llm_in_flight}: generations running now;</li>
 *   <li>{@code llm_redis_errors_total}: Redis calls that failed (each then failed open or waited);</li>
 *   <li>{@code llm_dead_letters_total}: records this service wrote to the dead-letter topic;</li>
 *   <li>{@code llm_claims_taken_over_total}: claims left by this instance's previous process and taken over.</li>
 * </ul>
 */
public final class ProcessorMetrics {
    /** Why a handling did not finish its thought. */
    public enum Retry {
        /** Shutdown or rebalance stopped it; the next owner answers. */
        CANCELLED,
        /** Kafka did not take a part, or the generation failed to hand one over. */
        PRODUCE_FAILED,
        /** Another live handling holds the thought's claim. */
        CLAIMED_ELSEWHERE,
        /** Redis could not say whether the thought is claimed, and {@code LLM_REDIS_OUTAGE=fail-closed}. */
        REDIS_UNAVAILABLE
    }

    private final Map<Disposition, Metrics.Counter> outcomes = new EnumMap<>(Disposition.class);
    private final Map<Retry, Metrics.Counter> retries = new EnumMap<>(Retry.class);
    private final Metrics.Counter redisErrors;
    private final Metrics.Counter deadLetters;
    private final Metrics.Counter claimsTakenOver;
    private final AtomicInteger inFlight = new AtomicInteger();

    public ProcessorMetrics(Metrics metrics) {
        Objects.requireNonNull(metrics, "metrics");
        for (Disposition d : Disposition.values()) {
            if (d.outcomeLabel() != null) {
                outcomes.put(
                        d,
                        metrics.counter(
                                "llm_thoughts_total",
                                "Thoughts the llm-processor finished, by how they ended",
                                "outcome",
                                d.outcomeLabel()));
            }
        }
        for (Retry r : Retry.values()) {
            retries.put(
                    r,
                    metrics.counter(
                            "llm_thoughts_retried_total",
                            "Handlings of a thought that did not finish it (it is tried again)",
                            "reason",
                            r.name().toLowerCase(Locale.ROOT)));
        }
        redisErrors = metrics.counter(
                "llm_redis_errors_total",
                "Redis calls of the llm-processor that failed (staleness check, claim, done marker)");
        deadLetters =
                metrics.counter("llm_dead_letters_total", "Records the llm-processor wrote to the dead-letter topic");
        claimsTakenOver = metrics.counter(
                "llm_claims_taken_over_total",
                "Thought claims left by this instance's previous (crashed) process and taken over at once");
        metrics.gauge("llm_in_flight", "Generations the llm-processor is running now", inFlight::get);
    }

    void finished(Disposition disposition) {
        Metrics.Counter c = outcomes.get(disposition);
        if (c != null) {
            c.increment();
        }
    }

    public long finishedCount(Disposition disposition) {
        Metrics.Counter c = outcomes.get(disposition);
        return c == null ? 0 : c.count();
    }

    void retried(Retry reason) {
        retries.get(reason).increment();
    }

    public void redisError() {
        redisErrors.increment();
    }

    public long redisErrors() {
        return redisErrors.count();
    }

    void deadLettered() {
        deadLetters.increment();
    }

    void claimTakenOver() {
        claimsTakenOver.increment();
    }

    public long claimsTakenOver() {
        return claimsTakenOver.count();
    }

    void generationStarted() {
        inFlight.incrementAndGet();
    }

    void generationEnded() {
        inFlight.decrementAndGet();
    }

    public int inFlight() {
        return inFlight.get();
    }
}
