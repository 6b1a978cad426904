package dev.thoughtstream.llm.budget;

import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.testkit.MutableClock;
import dev.thoughtstream.testkit.redis.TestRedis;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import redis.clients.jedis.RedisClient;

/**
 * Budget instances of one "cluster" on the test Redis, under a key prefix of their own, on a {@link ManualScheduler}
 * and a {@link MutableClock} they share: what two llm-processor processes with the same provider key would be.
 */
final class BudgetFixture implements AutoCloseable {
    static final String BUDGET_ID = "test-provider";
    static final Duration LEASE = Duration.ofSeconds(30);
    static final Duration POLL = Duration.ofMillis(250);

    final MutableClock clock = new MutableClock(Instant.parse("2030-01-01T00:00:00Z"));
    final ManualScheduler scheduler = new ManualScheduler(clock);
    final RedisClient redis;
    final String keyPrefix;
    private final List<ProviderBudget> budgets = new ArrayList<>();

    BudgetFixture(String name) {
        this.redis = RedisClaimStore.connect(TestRedis.settings());
        this.keyPrefix = TestRedis.uniqueKeyPrefix(name);
    }

    /** Limits as a deployment of two instances would set them (0 = no limit). */
    static BudgetConfig limits(int concurrent, long requestsPerMinute, long tokensPerMinute) {
        return new BudgetConfig(concurrent, requestsPerMinute, tokensPerMinute, 2, LEASE, POLL, BUDGET_ID);
    }

    /** One more instance of the budget, on this fixture's scheduler. */
    ClusterBudget instance(BudgetConfig config) {
        return instance(config, scheduler, new Metrics());
    }

    ClusterBudget instance(BudgetConfig config, java.util.concurrent.ScheduledExecutorService on, Metrics metrics) {
        ProviderBudget budget = ProviderBudgets.create(config, Optional.of(redis), keyPrefix, on, clock, metrics);
        budgets.add(budget);
        return (ClusterBudget) budget;
    }

    /** The permits Redis counts as in flight. */
    List<String> leases() {
        return redis.zrange(RedisLimits.keyBase(keyPrefix, limits(1, 0, 0)) + "leases", 0, -1);
    }

    static boolean granted(CompletableFuture<ProviderBudget.Permit> request) {
        return request.isDone() && !request.isCompletedExceptionally();
    }

    static ProviderBudget.Permit permit(CompletableFuture<ProviderBudget.Permit> request) {
        if (!granted(request)) {
            throw new AssertionError("not granted: " + request);
        }
        return request.join();
    }

    @Override
    public void close() {
        budgets.forEach(ProviderBudget::close);
        scheduler.runDue();
        redis.close();
    }
}
