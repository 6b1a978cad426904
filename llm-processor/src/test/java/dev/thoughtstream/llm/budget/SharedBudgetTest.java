package dev.thoughtstream.llm.budget;

import static dev.thoughtstream.llm.budget.BudgetFixture.granted;
import static dev.thoughtstream.llm.budget.BudgetFixture.limits;
import static dev.thoughtstream.llm.budget.BudgetFixture.permit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.llm.budget.ProviderBudget.Permit;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Two budget instances on one real Redis, with time in the test's hands ({@link ManualScheduler}): the limits hold
 * across the instances, waiting requests are granted exactly when the budget allows, a 429 on one instance holds
 * the other back, and a crashed holder's permit comes back after its lease.
 */
class SharedBudgetTest {
    private final BudgetFixture fx = new BudgetFixture("budget");

    @AfterEach
    void close() {
        fx.close();
    }

    private void advance(long millis) {
        fx.scheduler.advance(Duration.ofMillis(millis));
    }

    @Test
    void requestsInFlightAcrossTwoInstancesStopAtTheLimitAndAReleaseLetsTheNextOneIn() {
        // given a limit of 3 requests at once, and two instances
        ClusterBudget a = fx.instance(limits(3, 0, 0));
        ClusterBudget b = fx.instance(limits(3, 0, 0));

        // when A starts two requests and B two
        CompletableFuture<Permit> a1 = a.acquire("a1", 10);
        CompletableFuture<Permit> a2 = a.acquire("a2", 10);
        CompletableFuture<Permit> b1 = b.acquire("b1", 10);
        CompletableFuture<Permit> b2 = b.acquire("b2", 10);
        fx.scheduler.runDue();

        // then three run and B's second waits, also after a while
        assertTrue(granted(a1) && granted(a2) && granted(b1), "the first three are granted");
        assertFalse(b2.isDone(), "the fourth waits");
        assertEquals(3, fx.leases().size());
        advance(5_000);
        assertFalse(b2.isDone(), "the fourth still waits while nothing is released");

        // when A's first request ends, then B's waiting request gets the permit at its next look
        permit(a1).release(10);
        fx.scheduler.runDue();
        advance(BudgetFixture.POLL.toMillis());
        assertTrue(granted(b2), "granted once a permit came back elsewhere");
        assertEquals(3, fx.leases().size());
    }

    @Test
    void aCrashedHoldersPermitComesBackAfterItsLease() {
        // given instance A holding the only permit, then crashing: its scheduler never runs again, so it neither
        // releases nor renews
        ManualScheduler crashed = new ManualScheduler(fx.clock);
        ClusterBudget a = fx.instance(limits(1, 0, 0), crashed, new Metrics());
        CompletableFuture<Permit> held = a.acquire("a1", 10);
        crashed.runDue();
        assertTrue(granted(held));

        // when instance B asks for a permit
        ClusterBudget b = fx.instance(limits(1, 0, 0));
        CompletableFuture<Permit> waiting = b.acquire("b1", 10);
        fx.scheduler.runDue();

        // then it waits while the lease lasts, and gets the permit once the lease has run out
        advance(BudgetFixture.LEASE.toMillis() - 1_000);
        assertFalse(waiting.isDone(), "the crashed holder's lease still counts");
        advance(1_000 + BudgetFixture.POLL.toMillis());
        assertTrue(granted(waiting), "the permit came back after the lease");
        assertEquals(1, fx.leases().size());
    }

    @Test
    void aLiveHolderKeepsItsPermitLongerThanTheLeaseByRenewingIt() {
        // given instance A holding the only permit, and B waiting for it
        ClusterBudget a = fx.instance(limits(1, 0, 0));
        ClusterBudget b = fx.instance(limits(1, 0, 0));
        CompletableFuture<Permit> held = a.acquire("a1", 10);
        CompletableFuture<Permit> waiting = b.acquire("b1", 10);
        fx.scheduler.runDue();
        assertTrue(granted(held));

        // when three leases pass with A alive (a long streamed answer)
        advance(3 * BudgetFixture.LEASE.toMillis());

        // then B still waits: A renewed its lease; and A's release hands the permit over
        assertFalse(waiting.isDone(), "a renewed lease does not run out");
        permit(held).release(10);
        fx.scheduler.runDue();
        advance(BudgetFixture.POLL.toMillis());
        assertTrue(granted(waiting));
    }

    @Test
    void requestsPerMinuteAreCountedAcrossInstances() {
        // given 4 requests per minute, and two instances
        ClusterBudget a = fx.instance(limits(0, 4, 0));
        ClusterBudget b = fx.instance(limits(0, 4, 0));

        // when each starts two requests, then all four start at once
        List<CompletableFuture<Permit>> first = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            first.add(a.acquire("a" + i, 0));
            first.add(b.acquire("b" + i, 0));
        }
        fx.scheduler.runDue();
        first.forEach(request -> assertTrue(granted(request)));
        first.forEach(request -> permit(request).release(0));
        fx.scheduler.runDue();

        // when B asks for a fifth, then it waits until a quarter of a minute has refilled one request
        CompletableFuture<Permit> fifth = b.acquire("b-fifth", 0);
        fx.scheduler.runDue();
        advance(14_900);
        assertFalse(fifth.isDone(), "no fifth request within the first 15 s");
        advance(100);
        assertTrue(granted(fifth), "granted when one request has refilled");
    }

    @Test
    void tokensPerMinuteAreCountedAcrossInstancesByEstimate() {
        // given 1000 tokens per minute, and A running a request estimated at 600 tokens
        ClusterBudget a = fx.instance(limits(0, 0, 1000));
        ClusterBudget b = fx.instance(limits(0, 0, 1000));
        CompletableFuture<Permit> big = a.acquire("a1", 600);
        fx.scheduler.runDue();
        assertTrue(granted(big));

        // when B asks for another 600
        CompletableFuture<Permit> next = b.acquire("b1", 600);
        fx.scheduler.runDue();

        // then it waits until the 200 missing tokens have refilled (12 s at 1000/min)
        advance(11_900);
        assertFalse(next.isDone(), "200 tokens short before 12 s");
        advance(100);
        assertTrue(granted(next));
    }

    @Test
    void releasingWithFewerTokensThanEstimatedGivesTheDifferenceBack() {
        // given 1000 tokens per minute, and A's request estimated at 800
        ClusterBudget a = fx.instance(limits(0, 0, 1000));
        ClusterBudget b = fx.instance(limits(0, 0, 1000));
        CompletableFuture<Permit> first = a.acquire("a1", 800);
        fx.scheduler.runDue();

        // when it ends having used 200
        permit(first).release(200);
        fx.scheduler.runDue();

        // then B's request of 800 starts at once (1000 - 200 left), which without the refund would wait 36 s
        CompletableFuture<Permit> second = b.acquire("b1", 800);
        fx.scheduler.runDue();
        assertTrue(granted(second), "the unused 600 tokens came back");
    }

    @Test
    void releasingWithMoreTokensThanEstimatedChargesTheDifference() {
        // given 1000 tokens per minute, and A's request estimated at 100
        ClusterBudget a = fx.instance(limits(0, 0, 1000));
        ClusterBudget b = fx.instance(limits(0, 0, 1000));
        CompletableFuture<Permit> first = a.acquire("a1", 100);
        fx.scheduler.runDue();

        // when it ends having used 900
        permit(first).release(900);
        fx.scheduler.runDue();

        // then only 100 tokens are left: B's request of 500 waits for 400 more (24 s), not 0 s
        CompletableFuture<Permit> second = b.acquire("b1", 500);
        fx.scheduler.runDue();
        advance(23_900);
        assertFalse(second.isDone(), "the extra 800 tokens were charged");
        advance(100);
        assertTrue(granted(second));
    }

    @Test
    void aReleaseIsCountedOnce() {
        // given one permit at once, held by A
        ClusterBudget a = fx.instance(limits(1, 0, 1000));
        CompletableFuture<Permit> first = a.acquire("a1", 100);
        fx.scheduler.runDue();

        // when it is released twice (the interface says idempotent)
        permit(first).release(600);
        permit(first).release(600);
        fx.scheduler.runDue();

        // then 500 extra tokens were charged once: a request of 400 fits (1000 - 600 = 400 left)
        CompletableFuture<Permit> second = a.acquire("a2", 400);
        fx.scheduler.runDue();
        assertTrue(granted(second));
    }

    @Test
    void aWithdrawnRequestLeavesTheQueueAndNeverHoldsAPermit() {
        // given one permit at once, held by A, and two requests of B waiting for it
        ClusterBudget a = fx.instance(limits(1, 0, 0));
        ClusterBudget b = fx.instance(limits(1, 0, 0));
        CompletableFuture<Permit> held = a.acquire("a1", 10);
        fx.scheduler.runDue();
        CompletableFuture<Permit> stale = b.acquire("b-stale", 10);
        CompletableFuture<Permit> next = b.acquire("b-next", 10);
        fx.scheduler.runDue();

        // when the first waiting request is withdrawn (its thought went stale), and A releases
        assertTrue(stale.cancel(false));
        fx.scheduler.runDue();
        permit(held).release(10);
        fx.scheduler.runDue();
        advance(BudgetFixture.POLL.toMillis());

        // then the permit goes to the next request, and Redis counts only that one
        assertTrue(granted(next), "the request behind the withdrawn one is granted");
        assertTrue(stale.isCancelled());
        List<String> leases = fx.leases();
        assertEquals(1, leases.size());
        assertTrue(leases.get(0).endsWith("/b-next"), leases.toString());
    }

    @Test
    void aWithdrawnRequestGivesBackWhatItReserved() {
        // given 2 requests per minute, both used by A
        ClusterBudget a = fx.instance(limits(0, 2, 0));
        ClusterBudget b = fx.instance(limits(0, 2, 0));
        a.acquire("a1", 0);
        a.acquire("a2", 0);
        fx.scheduler.runDue();

        // when B's request reserves the next slot (30 s away) and is withdrawn
        CompletableFuture<Permit> withdrawn = b.acquire("b-stale", 0);
        fx.scheduler.runDue();
        withdrawn.cancel(false);
        fx.scheduler.runDue();

        // then the next request gets that slot after 30 s, not the one after it (60 s)
        CompletableFuture<Permit> next = b.acquire("b-next", 0);
        fx.scheduler.runDue();
        advance(29_900);
        assertFalse(next.isDone());
        advance(100);
        assertTrue(granted(next), "the withdrawn request's reservation was given back");
    }

    @Test
    void a429OnOneInstanceHoldsTheOtherInstancesRequestsBackForRetryAfterAndDrainsTheBucket() {
        // given 60 requests per minute, unused so far, and two instances
        ClusterBudget a = fx.instance(limits(0, 60, 0));
        ClusterBudget b = fx.instance(limits(0, 60, 0));

        // when A's provider call answers 429 with Retry-After 5 s, and B then wants six requests
        a.rateLimited(Duration.ofSeconds(5));
        fx.scheduler.runDue();
        List<CompletableFuture<Permit>> requests = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            requests.add(b.acquire("b" + i, 0));
        }
        fx.scheduler.runDue();

        // then none starts within the 5 s
        advance(4_900);
        assertTrue(requests.stream().noneMatch(CompletableFuture::isDone), "held back during Retry-After");

        // and after them only what refilled since the 429 (5 requests), not the full minute's 60: the sixth
        // follows one second later
        advance(100);
        assertEquals(5, requests.stream().filter(BudgetFixture::granted).count(), "the bucket was drained");
        advance(1_000);
        assertEquals(6, requests.stream().filter(BudgetFixture::granted).count());
    }

    @Test
    void aRequestWaitsInItsInstancesQueueInOrder() {
        // given 6 requests per minute, all used, and three more requests queued on one instance
        ClusterBudget a = fx.instance(limits(0, 6, 0));
        for (int i = 0; i < 6; i++) {
            a.acquire("used" + i, 0);
        }
        fx.scheduler.runDue();
        CompletableFuture<Permit> first = a.acquire("first", 0);
        CompletableFuture<Permit> second = a.acquire("second", 0);
        CompletableFuture<Permit> third = a.acquire("third", 0);
        fx.scheduler.runDue();

        // when a slot refills every 10 s, then they are granted one per slot, in the order they asked
        advance(10_000);
        assertTrue(granted(first) && !second.isDone() && !third.isDone());
        advance(10_000);
        assertTrue(granted(second) && !third.isDone());
        advance(10_000);
        assertTrue(granted(third));
    }

    @Test
    void theBudgetsKeysCarryThePrefixAndTheBudgetIdAndNoSecret() {
        // given a budget whose id comes from a configuration with an API key
        String apiKey = "sk-secret-key-never-in-redis";
        BudgetConfig config = BudgetConfig.from(dev.thoughtstream.common.config.Config.of(java.util.Map.of(
                "LLM_PROVIDER",
                "openai",
                "LLM_API_KEY",
                apiKey,
                "LLM_MAX_CONCURRENT_REQUESTS",
                "2",
                "LLM_REQUESTS_PER_MINUTE",
                "10",
                "LLM_TOKENS_PER_MINUTE",
                "1000")));
        ClusterBudget a = fx.instance(config);

        // when a request runs and hits a 429
        CompletableFuture<Permit> request = a.acquire("a1", 100);
        fx.scheduler.runDue();
        assertTrue(granted(request));
        a.rateLimited(Duration.ofSeconds(1));
        fx.scheduler.runDue();

        // then every key the budget wrote starts with the prefix and the budget id, and none names the key
        List<String> keys = new ArrayList<>(fx.redis.keys(fx.keyPrefix + "*"));
        assertEquals(4, keys.size(), keys.toString()); // requests, tokens, leases, pause
        String base = fx.keyPrefix + "llm:budget:" + config.budgetId() + ":";
        for (String key : keys) {
            assertTrue(key.startsWith(base), key);
            assertFalse(key.contains(apiKey), key);
            assertFalse(fx.redis.type(key).equals("string") && fx.redis.get(key).contains(apiKey), key);
        }
    }
}
