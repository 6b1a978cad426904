package dev.thoughtstream.ingest.write;

import dev.thoughtstream.common.service.NamedThreads;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.errors.InterruptException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes a producer send the records it holds at once, as one request per broker, instead of after its
 * {@code linger.ms}: {@link OrderedBatchWriter} sends a whole wave and then waits for all of it. {@link
 * Producer#flush()} does that, but it also blocks until every record in flight completed, which a write with a
 * deadline (the webhook's) must not wait for, so the flush runs on a thread of its own; requests that come while one
 * runs make one more.
 */
final class SendNow implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(SendNow.class);

    private final Producer<?, ?> producer;
    private final ExecutorService thread;
    private final AtomicBoolean requested = new AtomicBoolean();

    SendNow(Producer<?, ?> producer, String name) {
        this.producer = producer;
        this.thread = Executors.newSingleThreadExecutor(NamedThreads.daemon("ingest-send-now-" + name));
    }

    /** Asks for the records held now to go out now; returns at once. */
    void request() {
        if (!requested.compareAndSet(false, true)) {
            return;
        }
        try {
            thread.execute(this::flush);
        } catch (RejectedExecutionException e) {
            // Closed: what is held goes out after linger.ms, or not at all if the producer is closed too.
            requested.set(false);
        }
    }

    private void flush() {
        requested.set(false);
        try {
            producer.flush();
        } catch (InterruptException e) {
            // Closing; the writer learns each record's fate from its own acknowledgement.
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // Each record's failure reaches the writer through its acknowledgement; nothing to do here.
            LOG.debug("flushing the producer ended with {}", e.toString());
        }
    }

    @Override
    public void close() {
        thread.shutdownNow();
    }
}
