package dev.thoughtstream.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class AwaitTest {

    @AfterEach
    void clearInterruptFlag() {
        // A failing interrupt test must not leak its flag into the next test on this thread.
        Thread.interrupted();
    }

    @Test
    void untilReturnsAsSoonAsTheConditionHolds() {
        // given a condition that becomes true on its fifth evaluation
        AtomicInteger calls = new AtomicInteger();

        // when awaited
        Await.until("the fifth call", Duration.ofSeconds(30), () -> calls.incrementAndGet() >= 5);

        // then it was polled until then and not again
        assertEquals(5, calls.get());
    }

    @Test
    void untilFailsWithATimeoutMessageNamingWhatItWaitedFor() {
        // given a condition that never holds
        AtomicInteger calls = new AtomicInteger();

        // when awaited briefly
        AssertionError failure = assertThrows(
                AssertionError.class,
                () -> Await.until("the moon to turn blue", Duration.ofMillis(100), () -> {
                    calls.incrementAndGet();
                    return false;
                }));

        // then the message says how long and what for, and the condition was polled repeatedly
        assertEquals("timed out after 100 ms waiting for the moon to turn blue", failure.getMessage());
        assertTrue(calls.get() > 1, "polled " + calls.get() + " times");
    }

    @Test
    void aZeroTimeoutStillChecksTheConditionOnce() {
        Await.until("an already true condition", Duration.ZERO, () -> true);
    }

    @Test
    void valueReturnsTheFirstPresentProbeResult() {
        // given a probe that finds something on its third call
        AtomicInteger calls = new AtomicInteger();

        // when awaited
        String found = Await.value(
                "the third call",
                Duration.ofSeconds(30),
                () -> calls.incrementAndGet() == 3 ? Optional.of("found") : Optional.empty());

        // then its value is returned
        assertEquals("found", found);
        assertEquals(3, calls.get());
    }

    @Test
    void anExceptionFromTheConditionPropagatesAtOnce() {
        // given a broken probe
        IllegalStateException broken = new IllegalStateException("broken probe");
        AtomicInteger calls = new AtomicInteger();

        // when awaited, then its exception surfaces on the first call instead of being retried until timeout
        IllegalStateException thrown = assertThrows(
                IllegalStateException.class,
                () -> Await.until("anything", Duration.ofSeconds(30), () -> {
                    calls.incrementAndGet();
                    throw broken;
                }));
        assertSame(broken, thrown);
        assertEquals(1, calls.get());
    }

    @Test
    void anInterruptedWaitFailsAndKeepsTheInterruptFlag() {
        // given an interrupted thread
        Thread.currentThread().interrupt();

        // when it awaits a condition that does not hold yet
        AssertionError failure = assertThrows(
                AssertionError.class, () -> Await.until("something slow", Duration.ofSeconds(30), () -> false));

        // then the wait ends at once with a clear message and the flag is still set
        assertTrue(failure.getMessage().startsWith("interrupted after "), failure.getMessage());
        assertTrue(failure.getMessage().endsWith("waiting for something slow"), failure.getMessage());
        assertTrue(failure.getCause() instanceof InterruptedException);
        assertTrue(Thread.interrupted(), "interrupt flag restored");
        assertFalse(Thread.currentThread().isInterrupted());
    }

    @Test
    void aNegativeTimeoutIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> Await.until("x", Duration.ofMillis(-1), () -> true));
    }
}
