package dev.thoughtstream.llm.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.exception.RateLimitException;
import dev.thoughtstream.llm.model.HttpStatusException;
import dev.thoughtstream.llm.model.ModelError;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {
    private static final Clock CLOCK = Clock.fixed(Instant.parse("2025-06-01T12:00:00Z"), ZoneOffset.UTC);

    @Test
    void theWaitDoublesPerRetryUpToTheMaximum() {
        // jitter 0: the lower half of each step
        RetryPolicy policy = new RetryPolicy(10, Duration.ofMillis(100), Duration.ofMillis(1000), () -> 0);

        assertEquals(Duration.ofMillis(50), policy.delayBefore(1, Optional.empty()));
        assertEquals(Duration.ofMillis(100), policy.delayBefore(2, Optional.empty()));
        assertEquals(Duration.ofMillis(200), policy.delayBefore(3, Optional.empty()));
        assertEquals(Duration.ofMillis(400), policy.delayBefore(4, Optional.empty()));
        assertEquals(Duration.ofMillis(500), policy.delayBefore(5, Optional.empty()), "capped at 1000 ms");
        assertEquals(Duration.ofMillis(500), policy.delayBefore(9, Optional.empty()));
    }

    @Test
    void jitterSpreadsTheWaitOverTheUpperHalfOfTheStep() {
        Random seeded = new Random(42);
        RetryPolicy policy = new RetryPolicy(10, Duration.ofMillis(400), Duration.ofMillis(400), seeded::nextDouble);

        for (int i = 0; i < 1000; i++) {
            Duration wait = policy.delayBefore(1, Optional.empty());
            assertTrue(
                    wait.compareTo(Duration.ofMillis(200)) >= 0 && wait.compareTo(Duration.ofMillis(400)) < 0,
                    wait::toString);
        }
        RetryPolicy high = new RetryPolicy(10, Duration.ofMillis(400), Duration.ofMillis(400), () -> 0.75);
        assertEquals(Duration.ofMillis(350), high.delayBefore(1, Optional.empty()));
    }

    @Test
    void retryAfterIsAMinimumNotAReplacementOfALongerBackoff() {
        RetryPolicy policy = new RetryPolicy(10, Duration.ofSeconds(4), Duration.ofSeconds(4), () -> 0);

        assertEquals(Duration.ofSeconds(7), policy.delayBefore(1, Optional.of(Duration.ofSeconds(7))));
        assertEquals(Duration.ofSeconds(2), policy.delayBefore(1, Optional.of(Duration.ofSeconds(1))));
    }

    @Test
    void attemptsAreCountedWithTheFirstCallIncluded() {
        RetryPolicy policy = new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(1), () -> 0);

        assertTrue(policy.allowsAnotherAfter(1));
        assertTrue(policy.allowsAnotherAfter(2));
        assertFalse(policy.allowsAnotherAfter(3));
        assertFalse(RetryPolicy.none().allowsAnotherAfter(1));
    }

    @Test
    void nonsenseIsRejected() {
        assertThrows(
                IllegalArgumentException.class,
                () -> new RetryPolicy(0, Duration.ofMillis(1), Duration.ofMillis(1), () -> 0));
        assertThrows(
                IllegalArgumentException.class,
                () -> new RetryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(1), () -> 0));
        RetryPolicy badJitter = new RetryPolicy(2, Duration.ofMillis(10), Duration.ofMillis(10), () -> 1.0);
        assertThrows(IllegalStateException.class, () -> badJitter.delayBefore(1, Optional.empty()));
    }

    @Test
    void retryAfterIsReadInSecondsOrAsAnHttpDateFromTheErrorsCauses() {
        assertEquals(Optional.of(Duration.ofSeconds(12)), ModelError.parseRetryAfter(" 12 ", CLOCK));
        assertEquals(
                Optional.of(Duration.ofSeconds(90)),
                ModelError.parseRetryAfter("Sun, 01 Jun 2025 12:01:30 GMT", CLOCK));
        assertEquals(Optional.of(Duration.ZERO), ModelError.parseRetryAfter("Sun, 01 Jun 2025 11:00:00 GMT", CLOCK));
        assertEquals(Optional.empty(), ModelError.parseRetryAfter("soon", CLOCK));
        assertEquals(Optional.empty(), ModelError.parseRetryAfter("-3", CLOCK));

        RateLimitException mapped = new RateLimitException(new HttpStatusException(429, "slow down", "5"));
        assertEquals(Optional.of(Duration.ofSeconds(5)), ModelError.retryAfter(mapped, CLOCK));
        assertEquals(Optional.empty(), ModelError.retryAfter(new RateLimitException("no header"), CLOCK));
    }
}
