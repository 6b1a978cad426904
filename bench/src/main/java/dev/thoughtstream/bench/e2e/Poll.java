package dev.thoughtstream.bench.e2e;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/**
 * Waits for a condition by polling it, like testkit's {@code Await}, but answers false on timeout instead of
 * failing: a benchmark reports what did not finish rather than aborting the run.
 */
final class Poll {
    private Poll() {}

    static boolean until(Duration timeout, Duration interval, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            if (condition.getAsBoolean()) {
                return true;
            }
            long remaining = deadline - System.nanoTime();
            if (remaining <= 0) {
                return false;
            }
            // A polling interval, not synchronisation: the condition is checked again after it.
            Thread.sleep(Math.max(1, Math.min(interval.toMillis(), remaining / 1_000_000)));
        }
    }
}
