package dev.thoughtstream.chunker.thought;

/**
 * Whether a thought (or a direct reply) just written is worth a commit of its own, rather than waiting for the next
 * regular one ({@code STREAMS_COMMIT_INTERVAL_MS}).
 *
 * <p>Under exactly-once, downstream sees the chunker's output only when its transaction commits, and every commit is
 * a transaction on the broker (markers on every partition the thread wrote, the offsets, the changelogs). A short
 * commit interval makes a thought visible soon but pays that transaction many times a second even when nothing
 * waits for it, and at a high input rate those transactions take the cores the chunker needs to keep up. So, when an
 * operator lengthens the interval and turns this on, the processor asks for a commit as soon as it has written
 * output, but only while the instance's input is light, and at most one every {@value #MIN_SPACING_MS} ms: a commit after every punctuation
 * that wrote something held the stream thread so often that the punctuations themselves fell behind (measured,
 * docs/chunker.md). So at a light input a thought waits as it did under a 20 ms interval, and only when there is
 * output to show; above the limit the regular interval takes over, bounding the transactions to one per interval
 * however much arrives.
 *
 * <p>The input rate is the instance's (every task and stream thread of one topology counts into one object),
 * estimated over the last second from two one-second buckets: the previous bucket weighted by how much of it still
 * lies within the last second, plus the current one. Thread-safe: tasks on different stream threads share it.
 */
public final class EarlyCommits {
    private static final long BUCKET_MS = 1000;
    /** The shortest time between two early commits of one instance. */
    static final long MIN_SPACING_MS = 20;

    private final int maxInputPerSecond;
    private long bucketStartMs = Long.MIN_VALUE;
    private long current;
    private long previous;
    private long lastEarlyCommitMs = Long.MIN_VALUE;

    /** @param maxInputPerSecond the input rate below which output is committed at once; 0: never, only the interval */
    public EarlyCommits(int maxInputPerSecond) {
        if (maxInputPerSecond < 0) {
            throw new IllegalArgumentException("maxInputPerSecond must not be negative: " + maxInputPerSecond);
        }
        this.maxInputPerSecond = maxInputPerSecond;
    }

    /** Never asks for a commit: the regular interval alone (tools and tests that build a topology by hand). */
    public static EarlyCommits never() {
        return new EarlyCommits(0);
    }

    /** One input record arrived at {@code nowMs} (wall clock). */
    public void recordInput(long nowMs) {
        if (maxInputPerSecond == 0) {
            // Off (the default): no lock taken per update for a rate nobody asks for.
            return;
        }
        synchronized (this) {
            roll(nowMs);
            current++;
        }
    }

    /** What to do with output written and not yet committed. */
    public enum Decision {
        /** Commit now. */
        NOW,
        /** Ask again at the next punctuation: an early commit was made less than the spacing ago. */
        SOON,
        /** Leave it to the regular commit interval: the input is heavy, or early commits are off. */
        INTERVAL
    }

    /** What to do at {@code nowMs} with output not yet committed; {@link Decision#NOW} counts as an early commit. */
    public synchronized Decision decide(long nowMs) {
        if (maxInputPerSecond == 0) {
            return Decision.INTERVAL;
        }
        roll(nowMs);
        if (ratePerSecond(nowMs) >= maxInputPerSecond) {
            return Decision.INTERVAL;
        }
        if (lastEarlyCommitMs != Long.MIN_VALUE && nowMs - lastEarlyCommitMs < MIN_SPACING_MS) {
            return Decision.SOON;
        }
        lastEarlyCommitMs = nowMs;
        return Decision.NOW;
    }

    /** The estimated input over the last second (for tests and the reason in a log line). */
    public synchronized double ratePerSecond(long nowMs) {
        roll(nowMs);
        double stillInWindow = 1.0 - (double) (nowMs - bucketStartMs) / BUCKET_MS;
        return previous * Math.max(0.0, stillInWindow) + current;
    }

    private void roll(long nowMs) {
        if (bucketStartMs == Long.MIN_VALUE) {
            bucketStartMs = nowMs;
            return;
        }
        long elapsed = nowMs - bucketStartMs;
        if (elapsed < BUCKET_MS) {
            // Includes a wall clock that stepped back: the bucket stays, so the estimate never drops to nothing.
            return;
        }
        previous = elapsed < 2 * BUCKET_MS ? current : 0;
        current = 0;
        bucketStartMs = nowMs - elapsed % BUCKET_MS;
    }
}
