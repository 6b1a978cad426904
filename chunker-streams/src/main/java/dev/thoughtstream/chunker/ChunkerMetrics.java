package dev.thoughtstream.chunker;

import dev.thoughtstream.chunker.context.ContextCache;
import dev.thoughtstream.common.metrics.Metrics;

/**
 * What the chunker tells operators on {@code /metrics}: thoughts emitted (by why they closed), how late after
 * their deadline the punctuation closed them, replies sent without the model, and dead letters.
 */
public final class ChunkerMetrics {
    private final Metrics metrics;
    private final Metrics.Counter dueThoughts;
    private final Metrics.Counter cappedThoughts;
    private final Metrics.Counter overdueThoughts;
    private final Metrics.Timer lateness;
    private final Metrics.Counter earlyCommits;

    public ChunkerMetrics(Metrics metrics) {
        this.metrics = metrics;
        String emitted = "Thoughts emitted, by why they closed.";
        this.dueThoughts = metrics.counter("chunker_thoughts_total", emitted, "closed_by", "deadline");
        this.cappedThoughts = metrics.counter("chunker_thoughts_total", emitted, "closed_by", "cap");
        this.overdueThoughts = metrics.counter("chunker_thoughts_total", emitted, "closed_by", "late_message");
        this.lateness = metrics.timer(
                "chunker_emit_lateness_seconds",
                "How long after its deadline the punctuation closed a thought (punctuation interval and poll).");
        this.earlyCommits = metrics.counter(
                "chunker_early_commits_total",
                "Commits asked for right after writing a thought or reply, the input being light"
                        + " (CHUNK_EARLY_COMMIT_BELOW_PER_S); the rest waited for STREAMS_COMMIT_INTERVAL_MS.");
    }

    /** A throwaway registry, for topologies built without a service (tests, tools). */
    public static ChunkerMetrics detached() {
        return new ChunkerMetrics(new Metrics());
    }

    /** Reports how well the instance's context cache ({@code CONTEXT_CACHE_MAX_BYTES}) answers reads. */
    public void watch(ContextCache cache) {
        String reads = "Reads of a chat's context: from the cache (hit), or deserialized from the store (miss).";
        metrics.counter("chunker_context_cache_reads_total", reads, cache::hits, "result", "hit");
        metrics.counter("chunker_context_cache_reads_total", reads, cache::misses, "result", "miss");
        metrics.gauge(
                "chunker_context_cache_bytes",
                "The heap the cached contexts take, estimated; at most CONTEXT_CACHE_MAX_BYTES.",
                cache::estimatedBytes);
    }

    public void closedAtDeadline(long latenessMs) {
        dueThoughts.increment();
        lateness.recordMillis(Math.max(0, latenessMs));
    }

    public void earlyCommitRequested() {
        earlyCommits.increment();
    }

    public void closedByCap() {
        cappedThoughts.increment();
    }

    public void closedByLateMessage() {
        overdueThoughts.increment();
    }

    public void directReply(String what) {
        metrics.counter(
                        "chunker_direct_replies_total",
                        "Replies sent without the model (commands, non-text).",
                        "kind",
                        what)
                .increment();
    }

    public void deadLetter(String sourceTopic) {
        metrics.counter(
                        "dead_letters_total",
                        "Records sent to the dead-letter topic.",
                        "service",
                        "chunker",
                        "source_topic",
                        sourceTopic == null ? "unknown" : sourceTopic)
                .increment();
    }
}
