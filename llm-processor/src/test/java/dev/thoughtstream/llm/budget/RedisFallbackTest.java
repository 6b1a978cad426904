package dev.thoughtstream.llm.budget;

import static dev.thoughtstream.llm.budget.BudgetFixture.granted;
import static dev.thoughtstream.llm.budget.BudgetFixture.permit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.llm.budget.ProviderBudget.Permit;
import dev.thoughtstream.testkit.MutableClock;
import dev.thoughtstream.testkit.redis.RedisServer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;

/**
 * Redis going away and coming back, with a Redis server of the test's own: the instance keeps to its share of the
 * budget meanwhile (counted), and returns to the shared budget once Redis answers, bringing its requests in flight
 * along. Without Redis at all, the share is the budget.
 */
class RedisFallbackTest {
    private static final String PREFIX = "fallback:";

    @TempDir
    Path dir;

    private final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    private final ManualScheduler scheduler = new ManualScheduler(clock);
    private final Metrics metrics = new Metrics();
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    /** Four requests at once for a deployment of two instances: a share of two. */
    private static BudgetConfig fourAtOnceForTwoInstances() {
        return new BudgetConfig(4, 0, 0, 2, BudgetFixture.LEASE, BudgetFixture.POLL, "fallback");
    }

    private double metric(String line) {
        return metrics.scrape()
                .lines()
                .filter(l -> l.startsWith(Metrics.PREFIX + line + " "))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .findFirst()
                .orElseThrow();
    }

    private <T extends AutoCloseable> T closing(T resource) {
        toClose.add(resource);
        return resource;
    }

    @Test
    void withRedisDownAnInstanceKeepsToItsShareAndReturnsToTheSharedBudgetWhenRedisIsBack() throws Exception {
        // given a budget on a Redis of its own, working
        RedisServer server = RedisServer.start(Files.createDirectories(dir.resolve("first")), 0);
        int port = server.port();
        RedisClient redis = closing(RedisClaimStore.connect(RedisSettings.from(
                Config.of(Map.of("REDIS_URL", server.url().toString(), "REDIS_TIMEOUT_MS", "500")))));
        ClusterBudget budget = (ClusterBudget) ProviderBudgets.create(
                fourAtOnceForTwoInstances(), Optional.of(redis), PREFIX, scheduler, clock, metrics);
        closing(budget);
        CompletableFuture<Permit> before = budget.acquire("before", 10);
        scheduler.runDue();
        assertTrue(granted(before));
        permit(before).release(10);
        scheduler.runDue();

        // when Redis stops, and the instance asks for three requests
        server.close();
        List<CompletableFuture<Permit>> requests = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            requests.add(budget.acquire("during" + i, 10));
        }
        scheduler.runDue();

        // then two run (its share of four for two instances), the third waits, and the fallback is counted
        assertEquals(2, requests.stream().filter(BudgetFixture::granted).count());
        assertFalse(budget.isOnSharedBudget());
        assertEquals(1, metric("llm_budget_redis_fallbacks_total"));
        assertEquals(1, metric("llm_budget_local_share"));
        assertEquals(1, metric("llm_budget_grants_total{budget=\"shared\"}"));
        assertEquals(2, metric("llm_budget_grants_total{budget=\"local\"}"));

        // when Redis is back (empty, as after a restart without persistence) and the instance tries it again
        closing(RedisServer.start(Files.createDirectories(dir.resolve("again")), port));
        scheduler.advance(ClusterBudget.REDIS_RETRY);

        // then it is on the shared budget again: its two requests in flight are recorded there, and the third,
        // within the cluster's four, runs
        assertTrue(budget.isOnSharedBudget());
        assertEquals(0, metric("llm_budget_local_share"));
        assertTrue(granted(requests.get(2)), "the third request runs on the shared budget");
        assertEquals(3, redis.zcard(PREFIX + "llm:budget:fallback:leases"));
        assertEquals(1, metric("llm_budget_redis_fallbacks_total"));
    }

    @Test
    void withoutRedisTheShareIsTheBudget() {
        // given no Redis configured, a limit of four at once for two instances
        ProviderBudget budget = closing(ProviderBudgets.create(
                fourAtOnceForTwoInstances(), Optional.empty(), PREFIX, scheduler, clock, metrics));

        // when three requests ask
        List<CompletableFuture<Permit>> requests = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            requests.add(budget.acquire("r" + i, 10));
        }
        scheduler.runDue();

        // then two run; the third runs when one of them ends; and nothing counts as a fallback
        assertEquals(2, requests.stream().filter(BudgetFixture::granted).count());
        permit(requests.get(0)).release(10);
        scheduler.runDue();
        assertTrue(granted(requests.get(2)));
        assertEquals(0, metric("llm_budget_redis_fallbacks_total"));
        assertEquals(1, metric("llm_budget_local_share"));
    }
}
