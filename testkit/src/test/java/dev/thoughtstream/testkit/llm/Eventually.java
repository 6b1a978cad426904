package dev.thoughtstream.testkit.llm;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polls a condition until it holds or a generous timeout passes. (To be replaced by the testkit's Await.) */
final class Eventually {
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    private Eventually() {}

    static void await(String what, BooleanSupplier condition) {
        await(what, TIMEOUT, condition);
    }

    /**
     * Checks that {@code condition} stays true for all of {@code period}, failing as soon as it does not. Only for
     * asserting that something does NOT happen, where no event exists to wait for; callers justify the period.
     */
    static void holdsFor(String what, Duration period, BooleanSupplier condition) {
        long end = System.nanoTime() + period.toNanos();
        do {
            if (!condition.getAsBoolean()) {
                fail("no longer true: " + what);
            }
            pause(what);
        } while (System.nanoTime() - end < 0);
    }

    static void await(String what, Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                fail("timed out after " + timeout + " waiting for: " + what);
            }
            pause(what);
        }
    }

    private static void pause(String what) {
        try {
            Thread.sleep(5);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted waiting for: " + what);
        }
    }
}
