package dev.thoughtstream.llm.generate;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class QuotaAlarmTest {

    @Test
    void theAlarmSoundsOnceAMinuteHoweverManyThoughtsMeetTheExhaustedQuota() {
        // given an alarm and a clock we move
        MutableClock clock = new MutableClock(Instant.parse("2026-12-07T09:00:00Z"));
        QuotaAlarm alarm = new QuotaAlarm(clock);

        // when many thoughts meet the stop within a minute, then only the first sounds it
        assertTrue(alarm.raise("openai", "quota_exhausted: HTTP 429"));
        assertFalse(alarm.raise("openai", "quota_exhausted: HTTP 429"));
        clock.advance(Duration.ofSeconds(59));
        assertFalse(alarm.raise("openai", "quota_exhausted: HTTP 429"));

        // and a minute after it sounded, it sounds again
        clock.advance(Duration.ofSeconds(1));
        assertTrue(alarm.raise("openai", "quota_exhausted: HTTP 429"));
    }
}
