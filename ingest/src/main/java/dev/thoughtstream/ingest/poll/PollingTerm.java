package dev.thoughtstream.ingest.poll;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.ingest.IngestConfig;
import dev.thoughtstream.ingest.intake.UpdateJudge;
import dev.thoughtstream.ingest.write.ActivityRecorder;
import dev.thoughtstream.ingest.write.IngestProducers;
import dev.thoughtstream.ingest.write.UpdateWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One stretch of polling under one fencing token: its own producers, {@link UpdateWriter} and
 * {@link TelegramPolling}, all released when the term ends (closing, or the lease lost).
 *
 * <p>The consumer is synchronous on purpose: the poller confirms a batch (the next getUpdates offset) as soon as
 * {@link #consume} returns, so it returns only once Kafka has the whole batch and, under a lease, the fence found the
 * lease still ours; otherwise it throws, which ends the poller's loop unconfirmed. Each batch is written as Telegram
 * sent it (the raw Update JSON). See docs/ingest.md.
 */
final class PollingTerm {
    private static final Logger LOG = LoggerFactory.getLogger(PollingTerm.class);
    /** How long a graceful stop lets a batch in progress finish: a written batch can still be confirmed. */
    static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);
    /** The fencing token of a term polled without a lease. */
    static final long NO_LEASE = -1;

    /** What every term of one service shares. */
    record Setup(
            IngestConfig config,
            KafkaSettings kafka,
            Topics topics,
            UpdateJudge judge,
            ActivityRecorder activity,
            Clock clock,
            LeaseFence fence,
            Listener listener,
            Metrics metrics,
            StageTracer tracer) {}

    /** What the service learns from its terms. */
    interface Listener {
        /** A batch was left unconfirmed because the fence found the lease lost. */
        void fenceRejected();

        /**
         * Writing a batch (or the poller itself) failed for a reason other than the term ending: polling has stopped
         * on its own. {@code what} names what failed, e.g. {@code "writing update(s) [5..7]"}.
         */
        void failed(Throwable failure, String what);

        /** Telegram restarted its update ids (logged by the term). */
        void updateIdsRestarted();
    }

    private final long token;
    private final Setup setup;
    /** Set first thing when the term ends, so what the poller thread does from then on is not a failure. */
    private volatile boolean ended;

    private boolean stopped;
    private IngestProducers producers;
    private volatile UpdateWriter writer;
    private TelegramPolling polling;
    private TelegramBacklog backlog;

    PollingTerm(long token, Setup setup) {
        this.token = token;
        this.setup = setup;
    }

    long token() {
        return token;
    }

    /** @throws RuntimeException when Kafka or Telegram cannot be reached; call {@link #stop} then */
    void start() {
        IngestConfig config = setup.config();
        producers = IngestProducers.open(setup.kafka(), setup.topics(), setup.metrics());
        writer = new UpdateWriter(
                producers,
                setup.topics(),
                setup.judge(),
                setup.activity(),
                config.retryBackoffMax(),
                setup.clock(),
                token,
                setup.tracer());
        polling = new TelegramPolling(
                config.telegram(), config.pollTimeout(), config.retryBackoffMax(), new PollCounts(setup.metrics()));
        polling.start(new TelegramPolling.Batches() {
            @Override
            public boolean mayPoll() {
                return PollingTerm.this.mayPoll();
            }

            @Override
            public void consume(List<JsonNode> updates) {
                PollingTerm.this.consume(updates);
            }

            @Override
            public void idsRestarted(long last, long first) {
                LOG.warn(
                        "Telegram restarted its update ids: update {} arrived after update {}; polling on from the "
                                + "new ids",
                        first,
                        last);
                setup.listener().updateIdsRestarted();
            }

            @Override
            public void pollerFailed(Throwable failure) {
                if (!ended) {
                    setup.listener().failed(failure, "the Telegram poller");
                }
            }
        });
        backlog = new TelegramBacklog(config.telegram(), setup.metrics());
        LOG.info(
                "ingest polling {} (timeout {} s) into {}{}",
                config.telegram().apiUrl(),
                config.pollTimeout(),
                setup.topics().updates().name(),
                token == NO_LEASE ? "" : " under lease token " + token);
    }

    /**
     * The poller asks this right before every getUpdates it sends, so it is the last gate before a request that
     * would confirm the previous batch and start a long poll: a term whose lease is gone by our own clock sends none
     * and its poller stops (no I/O here; {@link #consume} does the Redis check).
     */
    private boolean mayPoll() {
        if (ended) {
            return false;
        }
        if (!setup.fence().mayPoll(token)) {
            setup.fence().reportLost(token, "the lease expired by our clock before the next getUpdates");
            LOG.warn("lease token {} is no longer valid; not polling", token);
            return false;
        }
        return true;
    }

    /** The poller's consumer: returns only once the batch is in Kafka and the lease is still ours. */
    private void consume(List<JsonNode> updates) {
        try {
            // Before the write too: a batch fetched under a lease that is gone by now would only be a duplicate
            // of the new poller's copy (dedup cannot help while both write at once).
            if (ended || !setup.fence().confirmStillHeld(token)) {
                setup.listener().fenceRejected();
                throw new LeaseLost("lease token " + token + " lost before writing update(s) " + idRange(updates)
                        + "; left unwritten and unconfirmed for the next poller");
            }
            if (!writer.writeAll(updates)) {
                // Throwing ends the poller's loop before it can confirm this batch.
                throw new IllegalStateException((ended ? "polling stopped; " : "interrupted; ") + updates.size()
                        + " update(s) " + idRange(updates) + " not written and left unconfirmed for the next "
                        + "poller");
            }
            // The fence. Returning is what makes the poller send the confirming getUpdates, so this is the last
            // moment to find out that another instance polls by now; throwing ends the poller's loop unconfirmed.
            if (!setup.fence().confirmStillHeld(token)) {
                setup.listener().fenceRejected();
                throw new LeaseLost("lease token " + token + " lost after writing update(s) " + idRange(updates)
                        + "; they are in Kafka but left unconfirmed (the next poller's copy is deduplicated)");
            }
        } catch (LeaseLost e) {
            LOG.warn("{}", e.getMessage());
            throw e;
        } catch (RuntimeException | Error e) {
            if (!ended) {
                setup.listener().failed(e, "writing update(s) " + idRange(updates));
            }
            throw e;
        }
    }

    private static String idRange(List<JsonNode> updates) {
        if (updates.isEmpty()) {
            return "[]";
        }
        return "[" + updates.get(0).path("update_id").asText("?") + ".."
                + updates.get(updates.size() - 1).path("update_id").asText("?") + "]";
    }

    boolean isPolling() {
        TelegramPolling p = polling;
        return !ended && p != null && p.isPolling();
    }

    /** Polling, and the first getUpdates of this term has been sent (its producers' metadata came before). */
    boolean hasPolled() {
        TelegramPolling p = polling;
        return isPolling() && p.hasAsked();
    }

    /** The highest update id this term wrote (-1 before the first). */
    long lastWrittenUpdateId() {
        UpdateWriter w = writer;
        return w == null ? -1 : w.lastWrittenUpdateId();
    }

    long written() {
        UpdateWriter w = writer;
        return w == null ? 0 : w.written();
    }

    long writeRetries() {
        UpdateWriter w = writer;
        return w == null ? 0 : w.writeRetries();
    }

    /** Marks the term over: from now on nothing its poller thread does is a failure of the service. */
    void end() {
        ended = true;
    }

    boolean isStopped() {
        return stopped;
    }

    /**
     * Ends the term and releases everything; {@code graceful}: lets a batch in progress finish and confirms what was
     * written. Only the service's term lock calls this.
     */
    void stop(boolean graceful) {
        ended = true;
        stopped = true;
        if (backlog != null) {
            backlog.close();
        }
        if (writer != null) {
            writer.close();
        }
        if (polling != null) {
            polling.stopPolling();
        }
        if (graceful && writer != null) {
            awaitBatchInProgress();
        }
        if (polling != null) {
            polling.awaitPollerStopped();
        }
        if (graceful && polling != null) {
            confirmWritten();
        }
        if (producers != null) {
            // Writes are synchronous, so only an abandoned batch can be pending; it must not reach Kafka after we
            // stopped (it is unconfirmed and not remembered for deduplication).
            producers.close(Duration.ZERO, Duration.ZERO);
        }
        if (polling != null) {
            polling.release();
        }
        if (token != NO_LEASE) {
            LOG.info("stopped polling under lease token {}{}", token, graceful ? "" : " (nothing more confirmed)");
        }
    }

    private void awaitBatchInProgress() {
        if (writer.isFailing()) {
            LOG.warn("closing while Kafka refuses the batch in progress; it stays unconfirmed for the next poller");
            return;
        }
        try {
            if (!writer.awaitIdle(SHUTDOWN_GRACE)) {
                LOG.warn(
                        "a batch was still being written after {} ms; abandoning it unconfirmed",
                        SHUTDOWN_GRACE.toMillis());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Fenced like every confirmation: once the lease is someone else's, our getUpdates would end theirs. Confirms the
     * last batch the poller took (each is taken only once written), which after an update id restart is not the
     * highest id written.
     */
    private void confirmWritten() {
        long last = polling.lastTaken();
        if (last < 0) {
            return;
        }
        if (!setup.fence().confirmStillHeld(token)) {
            LOG.warn(
                    "not confirming updates up to {} on shutdown: the lease is no longer ours; the next poller "
                            + "gets them again (deduplicated)",
                    last);
            return;
        }
        polling.confirmUpTo(last);
    }

    /** Why a batch is left unconfirmed: the lease is no longer ours. Not a failure of the service. */
    static final class LeaseLost extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        LeaseLost(String message) {
            super(message);
        }
    }
}
