package dev.thoughtstream.llm.budget;

import dev.thoughtstream.common.ratelimit.RateBuckets;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.redis.jedis.cas.JedisBasedProxyManager;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import redis.clients.jedis.UnifiedJedis;

/**
 * The budget the whole cluster shares, in Redis under {@code <REDIS_KEY_PREFIX>llm:budget:<budget id>:}.
 * <ul>
 *   <li>{@code requests:<limit>} and {@code tokens:<limit>}: Bucket4j token buckets (its compare-and-swap Lua
 *       scripts over Jedis). The limit is part of the key, so instances configured differently during a rolling
 *       change each keep to their own limit instead of fighting over one bucket's configuration.</li>
 *   <li>{@code leases}: the requests in flight, a sorted set of permit ids scored by when their lease expires.
 *       Bucket4j has no semaphore (a bucket whose tokens come back on release would refill leaked permits only by
 *       refilling held ones too, letting more than the limit run), so this is the one structure of our own: the
 *       expiring-permit semaphore Redisson keeps the same way, in one Lua script, which Redis runs atomically.</li>
 *   <li>{@code pause}: after a 429, the time (epoch ms) before which nobody starts a request, expiring then.</li>
 * </ul>
 * Times are the instances' clocks (as Bucket4j's are): they must agree to well within a lease, which NTP gives.
 */
final class RedisLimits implements Limits {
    /**
     * Drops expired leases, then answers {status, value}: {2, pause until} while paused; {1, 0} granted (the permit
     * recorded, unless ARGV[4] is 0: no concurrency limit); {0, earliest lease expiry} at the limit.
     * KEYS: leases, pause. ARGV: now, lease expiry, permit id, limit, key ttl (ms).
     */
    static final String ADMIT = """
            local pause = redis.call('GET', KEYS[2])
            if pause and tonumber(pause) > tonumber(ARGV[1]) then
              return {2, pause}
            end
            local limit = tonumber(ARGV[4])
            if limit == 0 then
              return {1, '0'}
            end
            redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
            if redis.call('ZCARD', KEYS[1]) < limit then
              redis.call('ZADD', KEYS[1], ARGV[2], ARGV[3])
              redis.call('PEXPIRE', KEYS[1], ARGV[5])
              return {1, '0'}
            end
            local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
            return {0, first[2]}
            """;

    /** Sets every given permit's lease expiry (adding it when it was lost). KEYS: leases. ARGV: expiry, ttl, ids. */
    static final String RENEW = """
            for i = 3, #ARGV do
              redis.call('ZADD', KEYS[1], ARGV[1], ARGV[i])
            end
            redis.call('PEXPIRE', KEYS[1], ARGV[2])
            return #ARGV - 2
            """;

    /** Moves the pause end later, never earlier. KEYS: pause. ARGV: until (epoch ms), ttl (ms). */
    static final String PAUSE = """
            local current = redis.call('GET', KEYS[1])
            if current and tonumber(current) >= tonumber(ARGV[1]) then
              return 0
            end
            redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
            return 1
            """;

    /** A full bucket is forgotten this long after it filled up (Bucket4j sets the key's TTL). */
    private static final Duration KEEP_FULL_BUCKET = Duration.ofMinutes(1);

    private final UnifiedJedis redis;
    private final String leasesKey;
    private final String pauseKey;
    private final int maxConcurrent;
    private final long leaseMillis;
    private final long pollMillis;
    private final MinuteBuckets buckets;

    RedisLimits(BudgetConfig config, UnifiedJedis redis, String redisKeyPrefix, Clock clock) {
        this.redis = redis;
        String base = keyBase(redisKeyPrefix, config);
        this.leasesKey = base + "leases";
        this.pauseKey = base + "pause";
        this.maxConcurrent = config.maxConcurrentRequests();
        this.leaseMillis = config.lease().toMillis();
        this.pollMillis = config.poll().toMillis();
        JedisBasedProxyManager<String> proxies = RateBuckets.redis(redis, clock, KEEP_FULL_BUCKET);
        this.buckets = new MinuteBuckets(
                config.requestsPerMinute(),
                config.tokensPerMinute(),
                (dimension, limit) -> RateBuckets.shared(
                        proxies,
                        base + dimension + ":" + limit,
                        BucketConfiguration.builder()
                                .addLimit(MinuteBuckets.perMinute(limit))
                                .build()));
    }

    /** {@code <prefix>llm:budget:<budget id>:}, the start of every key of this budget. */
    static String keyBase(String redisKeyPrefix, BudgetConfig config) {
        return redisKeyPrefix + "llm:budget:" + config.budgetId() + ":";
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
        Object answer = redis.eval(
                ADMIT,
                List.of(leasesKey, pauseKey),
                List.of(
                        Long.toString(nowMillis),
                        Long.toString(nowMillis + leaseMillis),
                        permitId,
                        Integer.toString(maxConcurrent),
                        keyTtl()));
        List<?> reply = (List<?>) answer;
        long status = (Long) reply.get(0);
        long value = (long) Double.parseDouble(reply.get(1).toString());
        if (status == 1) {
            return Admission.GRANTED;
        }
        if (status == 2) {
            return Admission.paused(value);
        }
        // A release elsewhere is not announced: look again after the poll interval, or when the oldest lease ends.
        return Admission.full(Math.min(nowMillis + pollMillis, Math.max(value, nowMillis + 1)));
    }

    @Override
    public void finish(String permitId) {
        if (maxConcurrent > 0) {
            redis.zrem(leasesKey, permitId);
        }
    }

    @Override
    public void renew(Collection<String> permitIds, long nowMillis) {
        if (maxConcurrent == 0 || permitIds.isEmpty()) {
            // Also how a recovering instance learns that Redis answers again.
            redis.ping();
            return;
        }
        List<String> args = new ArrayList<>(permitIds.size() + 2);
        args.add(Long.toString(nowMillis + leaseMillis));
        args.add(keyTtl());
        args.addAll(permitIds);
        redis.eval(RENEW, List.of(leasesKey), args);
    }

    @Override
    public void pause(long untilMillis, long nowMillis) {
        redis.eval(
                PAUSE,
                List.of(pauseKey),
                List.of(Long.toString(untilMillis), Long.toString(Math.max(1, untilMillis - nowMillis))));
        buckets.drain();
    }

    /** The leases key outlives its last write by two leases, so an abandoned budget leaves nothing behind. */
    private String keyTtl() {
        return Long.toString(2 * leaseMillis);
    }
}
