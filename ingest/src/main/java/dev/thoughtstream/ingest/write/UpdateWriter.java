package dev.thoughtstream.ingest.write;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.logging.LogContext;
import dev.thoughtstream.common.retry.Backoff;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.common.tracing.TraceAttributes;
import dev.thoughtstream.ingest.intake.UpdateJudge;
import dev.thoughtstream.ingest.intake.UpdateRecords;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a batch of raw updates and returns only once Kafka acknowledged all it needs: the {@link UpdateJudge} says
 * what to write and which notices to send, two {@link OrderedBatchWriter}s write them (notices first), then the
 * {@link ActivityRecorder} and the judge record what is now in Kafka. Returning early would lose updates on a crash,
 * since what the caller does next confirms the batch to Telegram. Batches are written one at a time.
 *
 * <p>Two callers: the long poller ({@link #writeAll}, waits for as long as it takes) and the webhook
 * ({@link #writeWithin}, gives up at a deadline so Telegram can be answered and retry). See docs/ingest.md.
 */
public final class UpdateWriter implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(UpdateWriter.class);
    public static final String HEADER_UPDATE_ID = "tg.update_id";
    public static final String HEADER_RECEIVED_AT = "ingest.received_at";
    /** The fencing token of the poller lease the record was written under (absent without a lease), for audit. */
    public static final String HEADER_LEASE_TOKEN = "ingest.lease_token";
    /** The first wait before a batch is sent again; it doubles up to {@code INGEST_RETRY_BACKOFF_MAX_MS}. */
    static final Duration FIRST_BACKOFF = Duration.ofMillis(100);

    private final UpdateJudge judge;
    private final ActivityRecorder activity;
    private final OrderedBatchWriter<StoredUpdate> updates;
    private final OrderedBatchWriter<ReplyPart> notices;
    private final String updatesTopic;
    private final String repliesTopic;
    private final Clock clock;
    /** The poller lease's fencing token (negative: no lease), put in every record's headers. */
    private final long leaseToken;
    /** Starts each written update's trace (its context goes into the record's headers). */
    private final StageTracer tracer;
    /** Held for a whole batch, so {@link #awaitIdle} can wait for a batch in progress. */
    private final ReentrantLock writing = new ReentrantLock();

    /**
     * Updates whose record was still in flight when their webhook delivery was given up on (and answered 503), until
     * Kafka settles it: true once acknowledged (and remembered for deduplication), false once it failed.
     */
    private final Map<Long, CompletableFuture<Boolean>> settling = new ConcurrentHashMap<>();

    private final AtomicLong written = new AtomicLong();
    private volatile boolean closed;
    private volatile long lastWrittenUpdateId = -1;

    /**
     * @param producers  write the updates and the notices; they belong to the caller, who closes them after this
     * @param maxBackoff the longest wait between attempts to write a batch
     * @param leaseToken the poller lease's fencing token, put in the {@value #HEADER_LEASE_TOKEN} header of every
     *                   record written (audit: which term wrote it); negative: no lease, no header
     */
    public UpdateWriter(
            IngestProducers producers,
            Topics topics,
            UpdateJudge judge,
            ActivityRecorder activity,
            Duration maxBackoff,
            Clock clock,
            long leaseToken) {
        this(producers, topics, judge, activity, maxBackoff, clock, leaseToken, StageTracer.noop());
    }

    /**
     * As above, with every update written starting a trace: a span per update, whose context travels in the record's
     * headers to the chunker (docs/operations.md, "Reading a trace").
     */
    public UpdateWriter(
            IngestProducers producers,
            Topics topics,
            UpdateJudge judge,
            ActivityRecorder activity,
            Duration maxBackoff,
            Clock clock,
            long leaseToken,
            StageTracer tracer) {
        this.tracer = tracer;
        Backoff backoff = backoff(maxBackoff);
        this.judge = judge;
        this.activity = activity;
        this.updatesTopic = topics.updates().name();
        this.repliesTopic = topics.replies().name();
        this.updates = new OrderedBatchWriter<>(
                producers.updates(), new SendNow(producers.updates(), "updates"), updatesTopic, backoff);
        this.notices = new OrderedBatchWriter<>(
                producers.notices(), new SendNow(producers.notices(), "notices"), repliesTopic, backoff);
        this.clock = clock;
        this.leaseToken = leaseToken;
    }

    /** Doubling from {@link #FIRST_BACKOFF} up to {@code max} (a cap below the first wait is the first wait). */
    static Backoff backoff(Duration max) {
        return Backoff.exponential(FIRST_BACKOFF, max.compareTo(FIRST_BACKOFF) < 0 ? FIRST_BACKOFF : max);
    }

    /**
     * Writes {@code updates} (raw Update JSON objects, in Telegram's order). Returns true once all are in Kafka
     * (or were already), false only when closed before that (a batch arriving after close is not started: it
     * could not be confirmed any more, so the next poller gets it).
     */
    public boolean writeAll(List<JsonNode> updates) {
        return write(updates, OrderedBatchWriter.NO_DEADLINE) == WriteOutcome.WRITTEN;
    }

    /**
     * Like {@link #writeAll} but gives up after {@code timeout} (including the wait for a batch in progress), for a
     * webhook delivery that must be answered while Telegram still listens. A record Kafka acknowledges after the
     * deadline is still remembered for deduplication, so Telegram's retry of it is skipped.
     */
    public WriteOutcome writeWithin(List<JsonNode> updates, Duration timeout) {
        return write(updates, System.nanoTime() + timeout.toNanos());
    }

    private WriteOutcome write(List<JsonNode> batch, long deadline) {
        try {
            if (deadline == OrderedBatchWriter.NO_DEADLINE) {
                writing.lock();
            } else if (!writing.tryLock(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
                return WriteOutcome.TIMED_OUT;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return WriteOutcome.CLOSED;
        }
        try {
            if (closed) {
                return WriteOutcome.CLOSED;
            }
            WriteOutcome earlier = awaitEarlierRecords(batch, deadline);
            if (earlier != WriteOutcome.WRITTEN) {
                return earlier;
            }
            notices.startBatch();
            updates.startBatch();
            UpdateJudge.Judgement judgement = judge.judge(batch);
            List<ProducerRecord<Long, StoredUpdate>> records =
                    new ArrayList<>(judgement.toWrite().size());
            List<JsonNode> toWrite = new ArrayList<>(judgement.toWrite().size());
            List<Span> spans =
                    tracer.enabled() ? new ArrayList<>(judgement.toWrite().size()) : List.of();
            for (UpdateJudge.Accepted a : judgement.toWrite()) {
                ProducerRecord<Long, StoredUpdate> r = record(a.updateId(), a.update());
                if (tracer.enabled()) {
                    spans.add(traced(r));
                }
                records.add(r);
                toWrite.add(a.update());
            }
            List<ProducerRecord<Long, ReplyPart>> noticeRecords =
                    new ArrayList<>(judgement.notices().size());
            for (ReplyPart n : judgement.notices()) {
                noticeRecords.add(new ProducerRecord<>(repliesTopic, null, n.createdAtMs(), n.chatId(), n));
            }
            // Notices first: if the deadline passes between the two, Telegram's retry sends the notice again
            // (same reply id, sent once by the emitter) instead of writing an acknowledged update twice.
            WriteOutcome outcome = notices.write(noticeRecords, deadline, null);
            if (outcome == WriteOutcome.WRITTEN) {
                outcome = updates.write(records, deadline, this::settleLate);
            }
            end(spans, outcome);
            if (outcome != WriteOutcome.WRITTEN) {
                return outcome;
            }
            // The staleness signal first: a newer message should cancel stale work as early as it safely can.
            activity.record(toWrite);
            judge.remember(judgement);
            written.addAndGet(records.size());
            judge.count(judgement);
            if (judgement.maxUpdateId() >= 0) {
                lastWrittenUpdateId = Math.max(lastWrittenUpdateId, judgement.maxUpdateId());
            }
            return WriteOutcome.WRITTEN;
        } finally {
            writing.unlock();
        }
    }

    /**
     * A record of a timed-out webhook batch, still in flight: the producer keeps sending it (up to its
     * {@code delivery.timeout.ms}, longer than a delivery's deadline) while Telegram retries the update, after the
     * {@code Retry-After} of the 503, in a second or so. Remembered until Kafka settles it, so that the retry waits
     * for it instead of writing a second copy that would land beside it once the broker is back; once acknowledged it
     * is remembered for deduplication, so the retry is skipped.
     */
    private void settleLate(ProducerRecord<Long, StoredUpdate> record, CompletableFuture<RecordMetadata> ack) {
        long updateId = record.value().updateId();
        // Async: the producer completes the future on its I/O thread, which must not wait for Redis.
        CompletableFuture<Boolean> settled = ack.handleAsync((metadata, failure) -> {
            try (LogContext ignored = LogContext.of(record.key(), null, null)) {
                if (failure != null) {
                    LOG.info(
                            "update {} was not written after its webhook delivery was answered ({}); Telegram's retry "
                                    + "writes it",
                            updateId,
                            failure.toString());
                    return false;
                }
                LOG.info(
                        "update {} reached {} after its webhook delivery was answered; remembering it so Telegram's retry "
                                + "is skipped",
                        updateId,
                        updatesTopic);
                judge.rememberLate(updateId);
                return true;
            }
        });
        settling.put(updateId, settled);
        settled.whenComplete((done, error) -> settling.remove(updateId, settled));
    }

    /**
     * Waits (up to the deadline) for the records of earlier deliveries of {@code batch}'s updates that were still in
     * flight when those were answered (see {@link #settleLate}); {@code TIMED_OUT} while one is still unsettled, so
     * this delivery is answered 503 too and nothing is written twice.
     */
    private WriteOutcome awaitEarlierRecords(List<JsonNode> batch, long deadline) {
        if (settling.isEmpty()) {
            return WriteOutcome.WRITTEN;
        }
        for (JsonNode update : batch) {
            long updateId = update.path("update_id").asLong(-1);
            CompletableFuture<Boolean> earlier = settling.get(updateId);
            if (earlier == null) {
                continue;
            }
            try {
                earlier.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                LOG.warn(
                        "update {} is redelivered while its earlier record is still on its way to {}; answering "
                                + "with an error again rather than writing it twice",
                        updateId,
                        updatesTopic);
                return WriteOutcome.TIMED_OUT;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return WriteOutcome.CLOSED;
            } catch (ExecutionException e) {
                // Only a bug in settleLate's handler can get here; the update was not remembered, so write it.
                LOG.error("settling the earlier record of update {} failed", updateId, e.getCause());
            }
        }
        return WriteOutcome.WRITTEN;
    }

    private ProducerRecord<Long, StoredUpdate> record(long updateId, JsonNode update) {
        long chatId = UpdateRecords.chatIdOf(update);
        long now = clock.millis();
        RecordHeaders headers = new RecordHeaders();
        headers.add(HEADER_UPDATE_ID, Long.toString(updateId).getBytes(StandardCharsets.UTF_8));
        headers.add(HEADER_RECEIVED_AT, Long.toString(now).getBytes(StandardCharsets.UTF_8));
        if (leaseToken >= 0) {
            headers.add(HEADER_LEASE_TOKEN, Long.toString(leaseToken).getBytes(StandardCharsets.UTF_8));
        }
        return new ProducerRecord<>(
                updatesTopic, null, now, chatId, StoredUpdate.of(updateId, chatId, now, update), headers);
    }

    /**
     * Starts the update's trace: a span from now until Kafka has the record, its context in the record's headers so
     * that the chunker continues the trace.
     */
    private Span traced(ProducerRecord<Long, StoredUpdate> record) {
        Span span = tracer.span("ingest update")
                .setSpanKind(SpanKind.PRODUCER)
                .setNoParent()
                .setAttribute(TraceAttributes.CHAT_ID, record.key())
                .setAttribute(TraceAttributes.UPDATE_ID, record.value().updateId())
                .setAttribute(TraceAttributes.MESSAGING_SYSTEM, "kafka")
                .setAttribute(TraceAttributes.MESSAGING_DESTINATION, updatesTopic)
                .setAttribute(TraceAttributes.MESSAGING_OPERATION, "send")
                .startSpan();
        tracer.inject(Context.root().with(span), record.headers());
        return span;
    }

    /** Ends the batch's update spans: OK once Kafka has them, an error (its outcome) when the batch was not written. */
    private static void end(List<Span> spans, WriteOutcome outcome) {
        for (Span span : spans) {
            span.setAttribute(TraceAttributes.OUTCOME, outcome.name());
            if (outcome != WriteOutcome.WRITTEN) {
                span.setStatus(StatusCode.ERROR, "not written: " + outcome);
            }
            span.end();
        }
    }

    /** The highest update id written to Kafka so far (-1 before the first). */
    public long lastWrittenUpdateId() {
        return lastWrittenUpdateId;
    }

    /** Updates this writer wrote to Kafka (redeliveries skipped are not counted). */
    public long written() {
        return written.get();
    }

    /** Failed attempts to write a batch to Kafka (each is retried; the batch stays unconfirmed meanwhile). */
    public long writeRetries() {
        return updates.retries() + notices.retries();
    }

    /** True while the batch in progress has already failed to be written (so waiting for it is pointless). */
    public boolean isFailing() {
        return updates.isFailing() || notices.isFailing();
    }

    /**
     * After {@link #close()}: waits up to {@code timeout} for a batch in progress to finish (a healthy Kafka
     * acknowledges within milliseconds, and a batch that is written can still be confirmed). True when no batch
     * is in progress any more; none starts after close.
     */
    public boolean awaitIdle(Duration timeout) throws InterruptedException {
        if (writing.tryLock(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            writing.unlock();
            return true;
        }
        return false;
    }

    /** Ends any wait for Kafka once the current attempt is known to fail; the producers belong to the caller. */
    @Override
    public void close() {
        closed = true;
        updates.close();
        notices.close();
    }
}
