package dev.thoughtstream.testkit;

import java.time.Duration;
import java.util.Optional;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Waiting for a condition instead of sleeping: the condition is polled every few milliseconds until it holds or
 * the timeout passes, so a test is as fast as the system under test and fails with a message naming what it
 * waited for. Exceptions thrown by the condition propagate at once (a broken probe is not "not yet").
 */
public final class Await {
    static final long FIRST_POLL_MS = 10;
    static final long MAX_POLL_MS = 25;

    private Await() {}

    /**
     * Returns once {@code condition} is true.
     *
     * @param what what is awaited, for the failure message ("3 records on chat.thoughts")
     * @throws AssertionError when the timeout passes first, or the waiting thread is interrupted (the interrupt
     *                        flag is restored)
     */
    public static void until(String what, Duration timeout, BooleanSupplier condition) {
        value(what, timeout, () -> condition.getAsBoolean() ? Optional.of(Boolean.TRUE) : Optional.empty());
    }

    /**
     * Returns the first present value of {@code probe}.
     *
     * @throws AssertionError when the timeout passes first, or the waiting thread is interrupted (the interrupt
     *                        flag is restored)
     */
    public static <T> T value(String what, Duration timeout, Supplier<Optional<T>> probe) {
        if (timeout.isNegative()) {
            throw new IllegalArgumentException("timeout must not be negative but was " + timeout);
        }
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        long pause = FIRST_POLL_MS;
        while (true) {
            Optional<T> result = probe.get();
            if (result.isPresent()) {
                return result.get();
            }
            long remainingNanos = deadline - System.nanoTime();
            if (remainingNanos <= 0) {
                throw new AssertionError("timed out after " + timeout.toMillis() + " ms waiting for " + what);
            }
            try {
                // Polling interval, not synchronisation: the loop re-checks the condition after each pause.
                Thread.sleep(Math.max(1, Math.min(pause, remainingNanos / 1_000_000)));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(
                        "interrupted after " + (System.nanoTime() - start) / 1_000_000 + " ms waiting for " + what, e);
            }
            pause = Math.min(MAX_POLL_MS, pause + 5);
        }
    }
}
