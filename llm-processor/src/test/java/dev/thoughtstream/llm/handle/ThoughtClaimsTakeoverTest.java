package dev.thoughtstream.llm.handle;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.RedisOutage;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.llm.ScaleConfig;
import dev.thoughtstream.llm.ScaleConfig.Mode;
import dev.thoughtstream.llm.handle.ThoughtClaims.Claim;
import dev.thoughtstream.testkit.redis.TestRedis;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Who may take over a thought's claim at once, on real Redis: a process of the same instance id with another
 * incarnation (the previous process under that id, which is dead), and any instance once the holder's instance has
 * recorded a newer process; never the claim of an instance not restarted since, and never anyone's without an
 * instance id. Everything else waits for the claim's TTL as before.
 */
class ThoughtClaimsTakeoverTest {
    private static final ScaleConfig SCALE =
            new ScaleConfig(Mode.GROUP, 1, 4, Duration.ofMinutes(4), Duration.ofHours(1), RedisOutage.FAIL_OPEN, 64);
    private static final String THOUGHT = "7:1";

    private RedisClaimStore store;
    private Metrics metrics;

    @BeforeEach
    void connect() {
        store = new RedisClaimStore(
                RedisClaimStore.connect(TestRedis.settings()), TestRedis.uniqueKeyPrefix("takeover"));
        metrics = new Metrics();
    }

    @AfterEach
    void close() {
        store.close();
    }

    private ThoughtClaims claimsOf(String owner) {
        return new ThoughtClaims(store, SCALE, new ProcessorMetrics(metrics), owner);
    }

    private long takenOver() {
        return metrics.counter("llm_claims_taken_over_total", "").count();
    }

    @Test
    void aClaimLeftByThePreviousProcessOfTheSameInstanceIsTakenOverAtOnce() {
        // given a claim held by an attempt of instance node-1's previous process
        assertEquals(Claim.CLAIMED, claimsOf("node-1#dead0001").acquire(THOUGHT, "node-1#dead0001/3"));

        // when the restarted process of node-1 asks for it
        Claim claim = claimsOf("node-1#alive002").acquire(THOUGHT, "node-1#alive002/1");

        // then it holds the claim now, and it is counted
        assertEquals(Claim.CLAIMED, claim);
        assertEquals(Optional.of("node-1#alive002/1"), store.get(ThoughtClaims.key(THOUGHT)));
        assertEquals(1, takenOver());
    }

    @Test
    void aClaimOfAnInstanceRestartedSinceIsTakenOverByAnotherInstance() {
        // given a claim held by a process of node-1 that died, and node-1's restarted process recorded as current
        assertEquals(Claim.CLAIMED, claimsOf("node-1#dead0001").acquire(THOUGHT, "node-1#dead0001/3"));
        claimsOf("node-1#alive002").recordIncarnation();

        // when instance node-2 is handed the thought (a share group gives a released record to any consumer)
        Claim claim = claimsOf("node-2#live0003").acquire(THOUGHT, "node-2#live0003/1");

        // then it takes the claim over at once
        assertEquals(Claim.CLAIMED, claim);
        assertEquals(Optional.of("node-2#live0003/1"), store.get(ThoughtClaims.key(THOUGHT)));
        assertEquals(1, takenOver());
    }

    @Test
    void aClaimOfAnInstanceWhoseCurrentProcessIsNotKnownIsNotTakenOver() {
        // given a claim of node-1, whose record of its current process has expired (or was never written)
        assertEquals(Claim.CLAIMED, claimsOf("node-1#live0001").acquire(THOUGHT, "node-1#live0001/3"));
        store.delete(ThoughtClaims.INCARNATION_PREFIX + "node-1");

        // when instance node-2 asks for it, then it waits: node-1's process may be alive
        assertEquals(Claim.ELSEWHERE, claimsOf("node-2#live0002").acquire(THOUGHT, "node-2#live0002/1"));
        assertEquals(Optional.of("node-1#live0001/3"), store.get(ThoughtClaims.key(THOUGHT)));
        assertEquals(0, takenOver());
    }

    @Test
    void aClaimOfAnotherInstanceNotRestartedSinceIsNotTakenOver() {
        // given a claim held by instance node-1 (whose id merely starts like node-10's), its current process
        assertEquals(Claim.CLAIMED, claimsOf("node-1#live0001").acquire(THOUGHT, "node-1#live0001/3"));

        // when instance node-10 asks for it
        Claim claim = claimsOf("node-10#live0002").acquire(THOUGHT, "node-10#live0002/1");

        // then it waits: the holder is its instance's current process
        assertEquals(Claim.ELSEWHERE, claim);
        assertEquals(Optional.of("node-1#live0001/3"), store.get(ThoughtClaims.key(THOUGHT)));
        assertEquals(0, takenOver());
    }

    @Test
    void aClaimOfAnotherAttemptOfThisVeryProcessIsNotTakenOver() {
        // given a claim held by another attempt of this process (a redelivery while it still generates)
        ThoughtClaims claims = claimsOf("node-1#live0001");
        assertEquals(Claim.CLAIMED, claims.acquire(THOUGHT, "node-1#live0001/3"));

        // when this process asks again for a new attempt, then it waits for its own attempt
        assertEquals(Claim.ELSEWHERE, claims.acquire(THOUGHT, "node-1#live0001/4"));
        assertEquals(Optional.of("node-1#live0001/3"), store.get(ThoughtClaims.key(THOUGHT)));
    }

    @Test
    void withoutAnInstanceIdNoClaimIsTakenOver() {
        // given a claim held by a process without an instance id
        assertEquals(Claim.CLAIMED, claimsOf("#dead0001").acquire(THOUGHT, "#dead0001/3"));

        // when another process without an instance id asks for it, then it waits for the TTL as before
        assertEquals(Claim.ELSEWHERE, claimsOf("#alive002").acquire(THOUGHT, "#alive002/1"));
        assertEquals(Optional.of("#dead0001/3"), store.get(ThoughtClaims.key(THOUGHT)));
        assertEquals(0, takenOver());
    }

    @Test
    void aFinishedThoughtIsNeverTakenOver() {
        // given a thought that node-1's previous process finished
        ThoughtClaims previous = claimsOf("node-1#dead0001");
        assertEquals(Claim.CLAIMED, previous.acquire(THOUGHT, "node-1#dead0001/3"));
        previous.markDone(THOUGHT);

        // when the restarted process asks for it, then it is a duplicate
        assertEquals(Claim.DONE, claimsOf("node-1#alive002").acquire(THOUGHT, "node-1#alive002/1"));
        assertEquals(Optional.of(ThoughtClaims.DONE), store.get(ThoughtClaims.key(THOUGHT)));
    }

    @Test
    void theOwnerRuleReadsInstanceIdAndIncarnationFromTheAttemptId() {
        assertTrue(ThoughtClaims.leftByPreviousIncarnation("node-1#aaaa/1", "node-1#bbbb"));
        assertFalse(ThoughtClaims.leftByPreviousIncarnation("node-1#bbbb/1", "node-1#bbbb"), "this process");
        assertFalse(ThoughtClaims.leftByPreviousIncarnation("node-10#aaaa/1", "node-1#bbbb"), "another instance");
        assertFalse(ThoughtClaims.leftByPreviousIncarnation("#aaaa/1", "#bbbb"), "no instance id");
        assertFalse(ThoughtClaims.leftByPreviousIncarnation("#aaaa/1", "node-1#bbbb"), "a holder without one");
        assertFalse(
                ThoughtClaims.leftByPreviousIncarnation("3f6c1e0a-5b7d-4c1e-9f0a-1b2c3d4e5f60/1", "node-1#bbbb"),
                "an attempt id from before owners were in attempt ids");
    }
}
