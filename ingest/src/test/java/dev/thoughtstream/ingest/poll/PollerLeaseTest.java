package dev.thoughtstream.ingest.poll;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.redis.TestRedis;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** The lease's Redis protocol on a real redis-server: exclusive, fenced, renewed and released only by its holder. */
class PollerLeaseTest {
    private final RedisClient redis = RedisClaimStore.connect(TestRedis.settings());
    private final String key = PollerLease.keyFor(TestRedis.uniqueKeyPrefix("poller-lease"), 4242);

    @AfterEach
    void close() {
        redis.close();
    }

    private PollerLease lease(String owner, Duration ttl) {
        return new PollerLease(redis, key, owner, ttl);
    }

    @Test
    void givenAFreeLease_whenTwoInstancesTryToAcquireIt_thenOnlyTheFirstGetsItWithAToken() {
        PollerLease a = lease("a", Duration.ofMinutes(1));
        PollerLease b = lease("b", Duration.ofMinutes(1));

        OptionalLong first = a.tryAcquire();
        OptionalLong second = b.tryAcquire();

        assertTrue(first.isPresent());
        assertEquals(OptionalLong.empty(), second);
        assertEquals(Optional.of(new PollerLease.Holder(first.getAsLong(), "a")), a.holder());
        assertTrue(a.isHeld(first.getAsLong()));
        assertFalse(b.isHeld(first.getAsLong()), "the same token under another owner is not b's lease");
    }

    @Test
    void givenAHeldLease_whenAnotherInstanceTriesToRenewOrReleaseIt_thenNothingChanges() {
        PollerLease a = lease("a", Duration.ofMinutes(1));
        PollerLease b = lease("b", Duration.ofMinutes(1));
        long token = a.tryAcquire().orElseThrow();

        assertFalse(b.renew(token));
        assertFalse(b.release(token));
        assertFalse(a.renew(token + 1), "a token that is not the stored one renews nothing");

        assertEquals(Optional.of(new PollerLease.Holder(token, "a")), a.holder());
    }

    @Test
    void givenALeaseLeftByThePreviousProcessOfAnInstance_whenItsRestartedProcessTries_thenItTakesItAtOnceFenced() {
        // given a lease held by a crashed process of instance ingest-a (no release, a long TTL left)
        PollerLease crashed = lease("ingest-a#dead0001", Duration.ofMinutes(1));
        long old = crashed.tryAcquire().orElseThrow();

        // when the restarted process of ingest-a tries
        PollerLease restarted = lease("ingest-a#live0002", Duration.ofMinutes(1));
        OptionalLong taken = restarted.tryAcquire();

        // then it holds the lease under a larger token, and the crashed process's token renews nothing
        assertTrue(taken.isPresent());
        assertTrue(taken.getAsLong() > old);
        assertEquals(Optional.of(new PollerLease.Holder(taken.getAsLong(), "ingest-a#live0002")), restarted.holder());
        assertFalse(crashed.renew(old));
        // and trying again while holding it takes nothing new
        assertEquals(OptionalLong.empty(), restarted.tryAcquire());
    }

    @Test
    void givenALeaseOfAnotherInstanceOrWithoutInstanceId_whenTried_thenItIsNotTakenOver() {
        // given a lease held by instance ingest-a
        long token =
                lease("ingest-a#live0001", Duration.ofMinutes(1)).tryAcquire().orElseThrow();

        // when another instance (whose id merely starts the same), or owners without an instance id, try
        assertEquals(
                OptionalLong.empty(),
                lease("ingest-ab#live0002", Duration.ofMinutes(1)).tryAcquire());
        assertEquals(
                OptionalLong.empty(), lease("#live0003", Duration.ofMinutes(1)).tryAcquire());
        assertEquals(
                OptionalLong.empty(),
                lease(PollerLease.defaultOwner(), Duration.ofMinutes(1)).tryAcquire());

        // then the holder keeps it
        assertEquals(
                Optional.of(new PollerLease.Holder(token, "ingest-a#live0001")),
                lease("probe", Duration.ofMinutes(1)).holder());
    }

    @Test
    void givenAReleasedOrExpiredLease_whenAcquiredAgain_thenTheFencingTokenIsLarger() {
        PollerLease a = lease("a", Duration.ofMillis(500));
        PollerLease b = lease("b", Duration.ofMillis(500));
        long first = a.tryAcquire().orElseThrow();

        // released: taken again at once
        assertTrue(a.release(first));
        long second = b.tryAcquire().orElseThrow();
        // expired (never renewed): taken again once Redis dropped it
        long third = Await.value("b's lease to expire and a to take it", Duration.ofSeconds(30), () -> {
            OptionalLong t = a.tryAcquire();
            return t.isPresent() ? Optional.of(t.getAsLong()) : Optional.empty();
        });

        assertTrue(first < second && second < third, first + " < " + second + " < " + third);
        assertFalse(b.renew(second), "the expired holder cannot renew the new holder's lease");
        assertTrue(a.renew(third));
    }

    @Test
    void givenRedisLostTheFencingCounter_whenTheLeaseIsAcquired_thenTheTokenStillExceedsTheOldOnes() {
        // given: a counter that had handed out a few tokens, then Redis loses everything (a restart without
        // persistence)
        PollerLease a = lease("a", Duration.ofMinutes(1));
        redis.set(key + ":fence", "41");
        long before = a.tryAcquire().orElseThrow();
        assertEquals(42, before);
        redis.del(key, key + ":fence");

        // when
        long after = a.tryAcquire().orElseThrow();

        // then: the counter restarts from Redis' clock in ms, not from 1, so it stays above the old tokens
        long nowMs = System.currentTimeMillis();
        assertTrue(after > before, before + " < " + after);
        assertTrue(Math.abs(after - nowMs) < Duration.ofHours(1).toMillis(), "seeded from the clock in ms: " + after);
    }
}
