package dev.thoughtstream.llm.budget;

import dev.thoughtstream.common.metrics.Metrics;
import java.time.Clock;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/** Makes the {@link ProviderBudget} a configuration asks for. */
public final class ProviderBudgets {
    private static final Logger LOG = LoggerFactory.getLogger(ProviderBudgets.class);

    private ProviderBudgets() {}

    /**
     * {@link ProviderBudget#unlimited()} when no limit is set; otherwise a budget shared through {@code redis}, or
     * without Redis this instance's share of it (each limit divided by {@code LLM_BUDGET_INSTANCES}).
     *
     * @param redisKeyPrefix {@code REDIS_KEY_PREFIX}: the budget's keys start with it
     * @param scheduler      runs the budget's work and timers (Redis calls included, one at a time); it is not
     *                       shut down by the budget
     * @param clock          the time of the buckets, leases and pauses: the instances' clocks must agree
     */
    public static ProviderBudget create(
            BudgetConfig config,
            Optional<RedisClient> redis,
            String redisKeyPrefix,
            ScheduledExecutorService scheduler,
            Clock clock,
            Metrics metrics) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(redis, "redis");
        Objects.requireNonNull(redisKeyPrefix, "redisKeyPrefix");
        if (!config.limited()) {
            return ProviderBudget.unlimited();
        }
        Limits shared = redis.map(client -> new RedisLimits(config, client, redisKeyPrefix, clock))
                .orElse(null);
        LOG.info(
                "provider budget {}: requests at once {}, requests/min {}, tokens/min {} ({}; without Redis each "
                        + "instance keeps to 1/{})",
                config.budgetId(),
                limit(config.maxConcurrentRequests()),
                limit(config.requestsPerMinute()),
                limit(config.tokensPerMinute()),
                shared != null ? "shared through Redis" : "no Redis",
                config.instances());
        return new ClusterBudget(config, shared, scheduler, clock, metrics);
    }

    private static String limit(long value) {
        return value == 0 ? "no limit" : Long.toString(value);
    }
}
