package dev.thoughtstream.common.retry;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class BackoffTest {

    @Test
    void theWaitDoublesFromTheInitialUpToTheCap() {
        // Given a backoff from 100 ms to 1 s
        Backoff backoff = Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(1));

        // When the first six retries ask for their wait
        List<Long> waits =
                IntStream.rangeClosed(1, 6).mapToObj(backoff::delayMillis).toList();

        // Then it doubles and stays at the cap
        assertEquals(List.of(100L, 200L, 400L, 800L, 1000L, 1000L), waits);
    }

    @Test
    void aVeryLateRetryStaysAtTheCapInsteadOfOverflowing() {
        Backoff backoff = Backoff.exponential(Duration.ofMillis(1), Duration.ofMinutes(2));

        assertEquals(Duration.ofMinutes(2), backoff.delay(Integer.MAX_VALUE));
    }

    @Test
    void aSequenceGrowsWithEachFailureAndStartsOverAfterAReset() {
        // Given a loop's sequence
        Backoff.Sequence retries = Backoff.exponential(Duration.ofMillis(50), Duration.ofMillis(150))
                .sequence();

        // When it fails three times, then succeeds, then fails again
        long first = retries.nextMillis();
        long second = retries.nextMillis();
        long third = retries.nextMillis();
        int counted = retries.attempts();
        retries.reset();
        long afterReset = retries.nextMillis();

        // Then the waits grow to the cap and a reset starts from the initial wait
        assertEquals(List.of(50L, 100L, 150L), List.of(first, second, third));
        assertEquals(3, counted);
        assertEquals(50L, afterReset);
    }

    @Test
    void jitterSpreadsEachWaitAroundTheDoublingWithoutPassingTheCap() {
        // Given a backoff with 50 % jitter
        Backoff backoff = Backoff.exponential(Duration.ofMillis(100), Duration.ofMillis(500))
                .withJitter(0.5);

        // When many retries ask for their waits
        for (int i = 0; i < 500; i++) {
            long first = backoff.delayMillis(1);
            long late = backoff.delayMillis(10);

            // Then each is within the factor of the plain wait, and never above the cap
            assertTrue(first >= 50 && first <= 150, "first retry waited " + first);
            assertTrue(late >= 250 && late <= 500, "tenth retry waited " + late);
        }
    }

    @Test
    void anImpossiblePolicyIsRefusedWhenBuilt() {
        assertThrows(IllegalArgumentException.class, () -> Backoff.exponential(Duration.ZERO, Duration.ofSeconds(1)));
        assertThrows(
                IllegalArgumentException.class,
                () -> Backoff.exponential(Duration.ofSeconds(2), Duration.ofSeconds(1)));
        assertThrows(
                IllegalArgumentException.class,
                () -> Backoff.exponential(Duration.ofSeconds(1), Duration.ofSeconds(2))
                        .withJitter(1.0));
        assertThrows(
                IllegalArgumentException.class,
                () -> Backoff.exponential(Duration.ofSeconds(1), Duration.ofSeconds(2))
                        .delay(0));
    }
}
