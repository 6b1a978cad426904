package dev.thoughtstream.llm.budget;

import dev.thoughtstream.common.ratelimit.RateBuckets;
import io.github.bucket4j.BucketConfiguration;
import java.time.Clock;
import java.util.Collection;

/**
 * This instance's share of the budget, kept in the process: while Redis cannot be reached, or when no Redis is
 * configured. Every limit is divided by {@code LLM_BUDGET_INSTANCES} ({@link BudgetConfig#share}); the buckets live
 * as long as the budget, so falling back twice in a minute does not hand out the share twice. The 429 pause is kept
 * by {@link ClusterBudget} itself.
 */
final class LocalLimits implements Limits {
    private final long maxConcurrent;
    private final MinuteBuckets buckets;

    LocalLimits(BudgetConfig config, Clock clock) {
        this.maxConcurrent = config.share(config.maxConcurrentRequests());
        this.buckets = new MinuteBuckets(
                config.share(config.requestsPerMinute()),
                config.share(config.tokensPerMinute()),
                (dimension, limit) -> RateBuckets.local(
                        BucketConfiguration.builder()
                                .addLimit(MinuteBuckets.perMinute(limit))
                                .build(),
                        clock));
    }

    @Override
    public long reserve(long tokens) {
        return buckets.reserve(tokens);
    }

    @Override
    public void refund(long tokens) {
        buckets.refund(tokens);
    }

    @Override
    public void settle(long tokenDifference) {
        buckets.settle(tokenDifference);
    }

    @Override
    public Admission admit(String permitId, long nowMillis, int heldHere) {
        // Permits granted from the shared budget count too: they are this instance's requests in flight.
        return maxConcurrent == 0 || heldHere < maxConcurrent ? Admission.GRANTED : Admission.FULL_UNTIL_RELEASE;
    }

    @Override
    public void finish(String permitId) {
        // Nothing is recorded per permit: the count is the instance's own held permits.
    }

    @Override
    public void renew(Collection<String> permitIds, long nowMillis) {
        // Local permits do not expire: the process that holds them is this one.
    }

    @Override
    public void pause(long untilMillis, long nowMillis) {
        buckets.drain();
    }
}
