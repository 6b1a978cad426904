package dev.thoughtstream.common.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The laptop fallback's compare-and-set behaves like the Redis script it stands in for. */
class InMemoryClaimStoreTest {
    private static final Duration TTL = Duration.ofSeconds(10);

    /** A clock the test moves by hand. */
    private static final class HandClock extends Clock {
        private long millis = 1_000_000;

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return Instant.ofEpochMilli(millis);
        }
    }

    private final HandClock clock = new HandClock();
    private final InMemoryClaimStore store = new InMemoryClaimStore(clock);

    @Test
    void replaceSetsTheNewValueOnlyWhileTheKeyHoldsTheExpectedOne() {
        // given a key held by one value
        assertTrue(store.claim("k", "old", TTL));

        // when replaced expecting another value, then nothing changes
        assertFalse(store.replace("k", "other", "new", TTL));
        assertEquals(Optional.of("old"), store.get("k"));

        // when replaced expecting the value it holds, then the new value is set
        assertTrue(store.replace("k", "old", "new", TTL));
        assertEquals(Optional.of("new"), store.get("k"));
    }

    @Test
    void replaceNeitherCreatesAnAbsentKeyNorRevivesAnExpiredOne() {
        // given no key, replace creates none
        assertFalse(store.replace("k", "old", "new", TTL));
        assertEquals(Optional.empty(), store.get("k"));

        // given a key whose TTL has passed, replace does not bring it back
        assertTrue(store.claim("k", "old", TTL));
        clock.millis += TTL.toMillis();
        assertFalse(store.replace("k", "old", "new", TTL));
        assertEquals(Optional.empty(), store.get("k"));
    }
}
