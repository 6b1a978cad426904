package dev.thoughtstream.ingest.webhook;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.ingest.write.UpdateWriter;
import dev.thoughtstream.ingest.write.WriteOutcome;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the webhook's deliveries in batches (group commit): every delivery that arrives while a batch is being
 * written waits for the next one, and one writer thread writes whatever waits (up to {@value #MAX_BATCH} updates) as
 * one batch, so the Kafka and Redis round trips are shared instead of paid one after the other. A delivery is a
 * future the writer completes with its batch's outcome, so no request thread waits for Kafka: the writer answers a
 * whole batch at once (see {@link WebhookServer}). Each delivery is still answered by its own deadline at the latest:
 * a batch gets the earliest deadline of its members, and a delivery whose deadline passes while it waits is answered
 * {@code TIMED_OUT} by the timer and written by nobody. See docs/ingest.md, "Group commit".
 */
final class WebhookBatches implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookBatches.class);
    /** The most updates one batch takes (as many as one getUpdates returns). */
    static final int MAX_BATCH = 100;

    /** Writes one batch within a time limit ({@link UpdateWriter#writeWithin}). */
    @FunctionalInterface
    interface BatchWriter {
        WriteOutcome writeWithin(List<JsonNode> updates, Duration timeout);
    }

    private static final class Delivery {
        final JsonNode update;
        final long deadlineNanos;
        final CompletableFuture<WriteOutcome> outcome = new CompletableFuture<>();
        /** Answers it {@code TIMED_OUT} should it still wait at its deadline; cancelled once it is taken. */
        ScheduledFuture<?> expiry;

        Delivery(JsonNode update, long deadlineNanos) {
            this.update = update;
            this.deadlineNanos = deadlineNanos;
        }
    }

    private final BatchWriter writer;
    private final ScheduledExecutorService timer;
    private final Object lock = new Object();
    private final Deque<Delivery> waiting = new ArrayDeque<>();
    private final Thread thread;
    private boolean closed;

    /**
     * @param timer answers deliveries whose deadline passes while they wait (they would otherwise wait for a batch
     *              in progress, which may take up to its own earliest deadline); owned by the caller
     */
    WebhookBatches(BatchWriter writer, ScheduledExecutorService timer) {
        this.writer = writer;
        this.timer = timer;
        this.thread = new Thread(this::run, "ingest-webhook-writer");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Queues {@code update} for the next batch. The future completes on the writer thread with its batch's outcome;
     * with {@code TIMED_OUT} (on the timer's thread) once {@code timeout} passed while it still waited (then nothing
     * of it is written); with {@code CLOSED} once closed; exceptionally when writing its batch failed unexpectedly.
     */
    CompletableFuture<WriteOutcome> submit(JsonNode update, Duration timeout) {
        Delivery d = new Delivery(update, System.nanoTime() + timeout.toNanos());
        synchronized (lock) {
            if (closed) {
                return CompletableFuture.completedFuture(WriteOutcome.CLOSED);
            }
            waiting.addLast(d);
            d.expiry = timer.schedule(() -> expire(d), timeout.toNanos(), TimeUnit.NANOSECONDS);
            lock.notifyAll();
        }
        return d.outcome;
    }

    private void expire(Delivery d) {
        synchronized (lock) {
            if (!waiting.remove(d)) {
                // Taken into a batch just now: the batch ends by this delivery's deadline.
                return;
            }
        }
        d.outcome.complete(WriteOutcome.TIMED_OUT);
    }

    private void run() {
        while (true) {
            List<Delivery> batch = new ArrayList<>();
            synchronized (lock) {
                while (!closed && waiting.isEmpty()) {
                    try {
                        lock.wait();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        closed = true;
                    }
                }
                if (closed) {
                    break;
                }
                while (!waiting.isEmpty() && batch.size() < MAX_BATCH) {
                    batch.add(waiting.pollFirst());
                }
            }
            write(batch);
        }
        answer(drainWaiting(), WriteOutcome.CLOSED);
    }

    private void write(List<Delivery> taken) {
        long now = System.nanoTime();
        long deadline = Long.MAX_VALUE;
        List<Delivery> batch = new ArrayList<>(taken.size());
        List<JsonNode> updates = new ArrayList<>(taken.size());
        for (Delivery d : taken) {
            d.expiry.cancel(false);
            if (d.deadlineNanos - now <= 0) {
                // Its timer is late (a busy machine): one expired delivery must not cut its batch's time to nothing.
                d.outcome.complete(WriteOutcome.TIMED_OUT);
                continue;
            }
            batch.add(d);
            deadline = Math.min(deadline, d.deadlineNanos);
            updates.add(d.update);
        }
        if (batch.isEmpty()) {
            return;
        }
        WriteOutcome outcome;
        try {
            outcome = writer.writeWithin(updates, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
        } catch (RuntimeException e) {
            LOG.error(
                    "writing a batch of {} webhook update(s) failed; answering them with an error so Telegram "
                            + "retries them",
                    batch.size(),
                    e);
            batch.forEach(d -> d.outcome.completeExceptionally(e));
            return;
        }
        batch.forEach(d -> d.outcome.complete(outcome));
    }

    /** Takes what waits, cancelling its timers. */
    private List<Delivery> drainWaiting() {
        synchronized (lock) {
            List<Delivery> drained = new ArrayList<>(waiting);
            waiting.clear();
            drained.forEach(d -> d.expiry.cancel(false));
            return drained;
        }
    }

    /** Outside the lock: completing a delivery answers its request (HTTP I/O). */
    private static void answer(List<Delivery> deliveries, WriteOutcome outcome) {
        deliveries.forEach(d -> d.outcome.complete(outcome));
    }

    /** Deliveries waiting for the next batch. */
    int waiting() {
        synchronized (lock) {
            return waiting.size();
        }
    }

    /**
     * Answers what still waits {@code CLOSED} at once (Telegram keeps those updates) and stops the writer thread once
     * the batch in progress, if any, is done.
     */
    @Override
    public void close() {
        synchronized (lock) {
            closed = true;
            lock.notifyAll();
        }
        answer(drainWaiting(), WriteOutcome.CLOSED);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
