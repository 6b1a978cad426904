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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the webhook's deliveries in batches (group commit): every delivery that arrives while a batch is being
 * written waits for the next one, and one writer thread writes whatever waits (up to {@value #MAX_BATCH} updates) as
 * one batch, so the Kafka and Redis round trips are shared instead of paid one after the other. Each delivery is
 * still answered by its own deadline at the latest: a batch gets the earliest deadline of its members, and a delivery
 * whose deadline passes while it waits is answered {@code TIMED_OUT}. See docs/ingest.md, "Group commit".
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

    private record Delivery(JsonNode update, long deadlineNanos, CompletableFuture<WriteOutcome> outcome) {}

    private final BatchWriter writer;
    private final Object lock = new Object();
    private final Deque<Delivery> waiting = new ArrayDeque<>();
    private final Thread thread;
    private boolean closed;

    WebhookBatches(BatchWriter writer) {
        this.writer = writer;
        this.thread = new Thread(this::run, "ingest-webhook-writer");
        thread.setDaemon(true);
        thread.start();
    }

    /**
     * Writes {@code update} with the others waiting now; returns its batch's outcome, or {@code TIMED_OUT} once
     * {@code timeout} passed (then nothing of it is remembered unless Kafka still acknowledges it), or {@code CLOSED}.
     */
    WriteOutcome write(JsonNode update, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Delivery d = new Delivery(update, deadline, new CompletableFuture<>());
        synchronized (lock) {
            if (closed) {
                return WriteOutcome.CLOSED;
            }
            waiting.addLast(d);
            lock.notifyAll();
        }
        try {
            return d.outcome().get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            synchronized (lock) {
                if (waiting.remove(d)) {
                    return WriteOutcome.TIMED_OUT;
                }
            }
            // Taken into a batch just now: the batch ends by this delivery's deadline, which has passed.
            return await(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            synchronized (lock) {
                waiting.remove(d);
            }
            return WriteOutcome.CLOSED;
        } catch (ExecutionException e) {
            throw new IllegalStateException("writing a webhook batch failed", e.getCause());
        }
    }

    private static WriteOutcome await(Delivery d) {
        try {
            return d.outcome().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return WriteOutcome.CLOSED;
        } catch (ExecutionException e) {
            throw new IllegalStateException("writing a webhook batch failed", e.getCause());
        }
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
                    waiting.forEach(d -> d.outcome().complete(WriteOutcome.CLOSED));
                    waiting.clear();
                    return;
                }
                while (!waiting.isEmpty() && batch.size() < MAX_BATCH) {
                    batch.add(waiting.pollFirst());
                }
            }
            write(batch);
        }
    }

    private void write(List<Delivery> batch) {
        long deadline = Long.MAX_VALUE;
        List<JsonNode> updates = new ArrayList<>(batch.size());
        for (Delivery d : batch) {
            deadline = Math.min(deadline, d.deadlineNanos());
            updates.add(d.update());
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
            batch.forEach(d -> d.outcome().completeExceptionally(e));
            return;
        }
        batch.forEach(d -> d.outcome().complete(outcome));
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
            waiting.forEach(d -> d.outcome().complete(WriteOutcome.CLOSED));
            waiting.clear();
            lock.notifyAll();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
