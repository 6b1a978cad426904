package dev.thoughtstream.testkit.llm;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the tokens of every paced stream of one {@link FakeLlmServer} from one thread, on a fixed tick: at each
 * tick every stream writes all its tokens that fell due since the last, in one write and one flush.
 *
 * <p>Why: a stream that sleeps before each token and then writes and flushes it costs a thread wake-up, a chunk and
 * a socket write per token. With a thousand streams at 100 tokens/s that is 100,000 of each per second, which on a
 * small machine leaves little for the client under test. One thread waking once per tick, with one write per stream
 * per tick, costs a fraction of that; a token reaches the client at most one tick after it was due.
 *
 * <p>Writes block: a client that stops reading holds up every stream once its socket buffers are full (a few hundred
 * KiB on loopback, far more than a chat reply). Meant for benchmarks, whose clients read.
 */
final class TokenPacer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TokenPacer.class);

    /** One stream's share of a tick. */
    interface Paced {
        /** Writes what fell due by {@code nowNanos} ({@link System#nanoTime()}); true once nothing is left. */
        boolean writeDue(long nowNanos) throws IOException;
    }

    /** Why a stream was given up unfinished: the server is closing. */
    static final class Closed extends IOException {
        private static final long serialVersionUID = 1L;

        Closed() {
            super("the fake LLM server is closing");
        }
    }

    private record Job(Paced stream, CompletableFuture<Void> done) {}

    private final long tickNanos;
    private final Queue<Job> submitted = new ConcurrentLinkedQueue<>();
    private final Thread thread;
    private volatile boolean closed;

    TokenPacer(long tickNanos, String threadName) {
        if (tickNanos <= 0) {
            throw new IllegalArgumentException("tick must be positive: " + tickNanos + " ns");
        }
        this.tickNanos = tickNanos;
        this.thread = new Thread(this::run, threadName);
        thread.setDaemon(true);
    }

    TokenPacer start() {
        thread.start();
        return this;
    }

    /**
     * Has {@code stream} written from the next tick on, until it reports that nothing is left; the future completes
     * then, or fails with the write's {@link IOException}, or with {@link Closed}.
     */
    CompletableFuture<Void> submit(Paced stream) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        submitted.add(new Job(stream, done));
        // A job added after run() drained the queue for the last time must not wait forever.
        if (closed) {
            failSubmitted();
        }
        return done;
    }

    /** Stops the thread (waiting for the tick under way) and fails every stream not yet written to the end. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
        try {
            thread.join(TimeUnit.SECONDS.toMillis(5));
            if (thread.isAlive()) {
                // Blocked in a write to a client that does not read: interrupting closes that channel.
                LOG.warn("Fake LLM server: the token pacer is still writing 5 s after close; interrupting it");
                thread.interrupt();
                thread.join(TimeUnit.SECONDS.toMillis(5));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        failSubmitted();
    }

    private void run() {
        List<Job> active = new ArrayList<>();
        long next = System.nanoTime() + tickNanos;
        try {
            while (!closed) {
                long wait = next - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(this, wait);
                    continue;
                }
                for (Job job; (job = submitted.poll()) != null; ) {
                    active.add(job);
                }
                tick(active, System.nanoTime());
                next += tickNanos;
                // Behind by more than a tick (a long tick, a busy machine): go on from now instead of rushing.
                long now = System.nanoTime();
                if (now - next > tickNanos) {
                    next = now + tickNanos;
                }
            }
        } finally {
            // Normally the end of close(); after an Error, so that no stream waits for a pacer that is gone.
            closed = true;
            for (Job job : active) {
                job.done().completeExceptionally(new Closed());
            }
            failSubmitted();
        }
    }

    private static void tick(List<Job> active, long now) {
        int kept = 0;
        for (int i = 0; i < active.size(); i++) {
            Job job = active.get(i);
            boolean finished;
            try {
                finished = job.stream().writeDue(now);
            } catch (IOException | RuntimeException e) {
                // That stream's own failure (its client left, its listener threw): the others go on.
                job.done().completeExceptionally(e);
                continue;
            }
            if (finished) {
                job.done().complete(null);
            } else {
                active.set(kept++, job);
            }
        }
        active.subList(kept, active.size()).clear();
    }

    private void failSubmitted() {
        for (Job job; (job = submitted.poll()) != null; ) {
            job.done().completeExceptionally(new Closed());
        }
    }
}
