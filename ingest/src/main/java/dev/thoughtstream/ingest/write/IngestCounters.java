package dev.thoughtstream.ingest.write;

import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.ingest.intake.UpdateJudge;
import java.util.function.LongSupplier;

/**
 * The counts ingest keeps in plain longs (the dedup judge, the staleness recorder and the batch writers have no
 * {@link Metrics} of their own) as counters on {@code /metrics}, read at scrape time. Both modes register them.
 */
public final class IngestCounters {
    private IngestCounters() {}

    /** Registers the counters of {@code judge}, {@code activity} and the writers' {@code writeRetries}. */
    public static void register(
            Metrics metrics, UpdateJudge judge, ActivityRecorder activity, LongSupplier writeRetries) {
        metrics.counter(
                "ingest_dedup_unavailable_total",
                "updates written without (or not remembered for) the duplicate check because Redis failed",
                judge::dedupUnavailable);
        metrics.counter(
                "ingest_activity_recorded_total",
                "user messages recorded in the staleness signal once Kafka had them",
                activity::recorded);
        metrics.counter(
                "ingest_activity_unavailable_total",
                "user messages the staleness signal could not record (Redis failed; each was still written)",
                activity::unavailable);
        metrics.counter(
                "ingest_write_retries_total",
                "failed attempts to write a batch to Kafka, each retried while the batch stays unconfirmed",
                writeRetries);
    }
}
