package dev.thoughtstream.common.ratelimit;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.TimeMeter;
import io.github.bucket4j.distributed.ExpirationAfterWriteStrategy;
import io.github.bucket4j.distributed.serialization.Mapper;
import io.github.bucket4j.redis.jedis.Bucket4jJedis;
import io.github.bucket4j.redis.jedis.cas.JedisBasedProxyManager;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import redis.clients.jedis.UnifiedJedis;

/**
 * Bucket4j token buckets on one clock, either in this process or shared by every instance through Redis (Bucket4j's
 * compare-and-swap Lua scripts over Jedis), so that a limit belonging to an API key or a bot, rather than to an
 * instance, is kept once for all of them. Used by the llm-processor's provider budget and the emitter's send limits.
 * A Redis bucket's calls throw Jedis exceptions when Redis cannot be reached; the callers fall back to a local share.
 */
public final class RateBuckets {
    private RateBuckets() {}

    /**
     * Bucket4j's time from {@code clock} (so tests can move it), at millisecond precision. Shared buckets take it from
     * every instance's clock, which must therefore agree (NTP is enough).
     */
    public static TimeMeter timeMeter(Clock clock) {
        Objects.requireNonNull(clock, "clock");
        return new TimeMeter() {
            @Override
            public long currentTimeNanos() {
                return clock.millis() * 1_000_000L;
            }

            @Override
            public boolean isWallClockBased() {
                return true;
            }
        };
    }

    /**
     * Makes proxies of buckets kept in Redis under the keys given to {@code builder().build(key, ...)}. A bucket that
     * has refilled to the full is forgotten {@code keepFullBucket} later (Bucket4j sets the key's TTL), so abandoned
     * keys do not pile up.
     */
    public static JedisBasedProxyManager<String> redis(UnifiedJedis redis, Clock clock, Duration keepFullBucket) {
        return Bucket4jJedis.casBasedBuilder(Objects.requireNonNull(redis, "redis"))
                .keyMapper(Mapper.STRING)
                .clientClock(timeMeter(clock))
                .expirationAfterWrite(ExpirationAfterWriteStrategy.basedOnTimeForRefillingBucketUpToMax(keepFullBucket))
                .build();
    }

    /** A bucket kept in this process with {@code configuration}, on {@code clock}. */
    public static Bucket local(BucketConfiguration configuration, Clock clock) {
        var builder = Bucket.builder().withCustomTimePrecision(timeMeter(clock));
        for (Bandwidth bandwidth : configuration.getBandwidths()) {
            builder.addLimit(bandwidth);
        }
        return builder.build();
    }

    /** A bucket in Redis under {@code key} with {@code configuration} (the configuration is written on first use). */
    public static Bucket shared(JedisBasedProxyManager<String> proxies, String key, BucketConfiguration configuration) {
        return proxies.builder().build(key, () -> configuration);
    }

    /** {@code limit} a {@code period}, refilled continuously, at most {@code capacity} at once. */
    public static Bandwidth smooth(long capacity, long limit, Duration period) {
        return Bandwidth.builder()
                .capacity(capacity)
                .refillGreedy(limit, period)
                .build();
    }
}
