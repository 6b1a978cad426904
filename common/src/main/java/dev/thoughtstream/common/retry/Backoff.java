package dev.thoughtstream.common.retry;

import io.github.resilience4j.core.IntervalFunction;
import java.time.Duration;
import java.util.Objects;

/**
 * The one backoff policy of every retry loop: the wait before retry {@code n} (1, 2, ...) is
 * {@code min(max, initial * 2^(n-1))}, optionally spread by a random factor so that instances failing together do
 * not retry together. The arithmetic is resilience4j's {@link IntervalFunction}; this class only fixes the shape
 * we use everywhere and offers a {@link Sequence} for loops that keep their own count.
 */
public final class Backoff {
    /** Past this many doublings every policy we use is at its cap; keeps the double arithmetic finite. */
    private static final int MAX_EXPONENT = 40;

    private final Duration initial;
    private final Duration max;
    private final double jitter;
    private final IntervalFunction intervals;

    private Backoff(Duration initial, Duration max, double jitter) {
        Objects.requireNonNull(initial, "initial");
        Objects.requireNonNull(max, "max");
        if (initial.isNegative() || initial.isZero()) {
            throw new IllegalArgumentException("initial backoff must be positive but was " + initial);
        }
        if (max.compareTo(initial) < 0) {
            throw new IllegalArgumentException("max backoff " + max + " is below the initial " + initial);
        }
        if (jitter < 0 || jitter >= 1) {
            throw new IllegalArgumentException("jitter must be in [0, 1) but was " + jitter);
        }
        this.initial = initial;
        this.max = max;
        this.jitter = jitter;
        this.intervals = jitter == 0
                ? IntervalFunction.ofExponentialBackoff(initial, 2.0, max)
                : IntervalFunction.ofExponentialRandomBackoff(initial, 2.0, jitter, max);
    }

    /** Doubling from {@code initial} up to {@code max}, without jitter. */
    public static Backoff exponential(Duration initial, Duration max) {
        return new Backoff(initial, max, 0);
    }

    /**
     * The same policy with each wait drawn uniformly from {@code [w * (1 - factor), w * (1 + factor)]}, never above
     * {@code max}.
     */
    public Backoff withJitter(double factor) {
        return new Backoff(initial, max, factor);
    }

    /** The wait before retry {@code attempt} (1 for the first retry). */
    public Duration delay(int attempt) {
        return Duration.ofMillis(delayMillis(attempt));
    }

    /** {@link #delay} in milliseconds. */
    public long delayMillis(int attempt) {
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt counts from 1 but was " + attempt);
        }
        long wait = intervals.apply(Math.min(attempt, MAX_EXPONENT));
        return Math.min(wait, max.toMillis());
    }

    public Duration initial() {
        return initial;
    }

    public Duration max() {
        return max;
    }

    /** A fresh count of retries for one loop. */
    public Sequence sequence() {
        return new Sequence(this);
    }

    @Override
    public String toString() {
        return "Backoff[" + initial.toMillis() + " ms doubling to " + max.toMillis() + " ms"
                + (jitter == 0 ? "" : ", jitter " + jitter) + "]";
    }

    /** The retries of one loop: {@link #next} grows the wait, {@link #reset} starts over after a success. */
    public static final class Sequence {
        private final Backoff policy;
        private int attempts;

        private Sequence(Backoff policy) {
            this.policy = policy;
        }

        /** Counts a failure and returns the wait before the retry it calls for. */
        public Duration next() {
            if (attempts < MAX_EXPONENT) {
                attempts++;
            }
            return policy.delay(attempts);
        }

        /** {@link #next} in milliseconds. */
        public long nextMillis() {
            return next().toMillis();
        }

        /** Failures since the last {@link #reset}. */
        public int attempts() {
            return attempts;
        }

        public void reset() {
            attempts = 0;
        }
    }
}
