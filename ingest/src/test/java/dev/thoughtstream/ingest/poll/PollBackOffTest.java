package dev.thoughtstream.ingest.poll;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PollBackOffTest {

    private static List<Long> next(PollBackOff backOff, int n) {
        List<Long> waits = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            waits.add(backOff.nextBackOffMillis());
        }
        return waits;
    }

    @Test
    void givenRepeatedFailures_thenTheWaitDoublesUpToTheCapAndStaysThereForever() {
        PollBackOff backOff = new PollBackOff(Duration.ofSeconds(2));

        assertEquals(List.of(250L, 500L, 1000L, 2000L, 2000L), next(backOff, 5));
        // No 15-minute wait (TelegramBots' default) however long the outage lasts.
        next(backOff, 10_000).forEach(wait -> assertEquals(2000L, wait));
    }

    @Test
    void givenASuccessfulPoll_thenTheNextFailureStartsFromTheShortestWaitAgain() {
        PollBackOff backOff = new PollBackOff(Duration.ofSeconds(10));
        next(backOff, 4);

        backOff.reset();

        assertEquals(List.of(250L, 500L), next(backOff, 2));
    }

    @Test
    void givenACapBelowTheFirstWait_thenTheFirstWaitIsTheCap() {
        assertEquals(List.of(250L, 250L), next(new PollBackOff(Duration.ofMillis(10)), 2));
    }
}
