package dev.thoughtstream.emitter.pace;

import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.ratelimit.RateBuckets;
import dev.thoughtstream.emitter.EmitterConfig;
import dev.thoughtstream.emitter.EmitterMetrics;
import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.BucketConfiguration;
import io.github.bucket4j.redis.jedis.cas.JedisBasedProxyManager;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisException;

/**
 * The bot's global and per-group flood limits, kept once for every emitter instance that sends for the bot: Telegram
 * counts them per bot however many processes call it (Bot API FAQ, "My bot is hitting limits, how do I avoid this?"
 * https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this), so three instances each keeping
 * 30 a second would send 90. The windows are Bucket4j token buckets in Redis ({@link RateBuckets}), under
 * {@code <REDIS_KEY_PREFIX>emitter:limits:<bot>:} where {@code <bot>} is a hash of the bot token (never the token).
 *
 * <p>A send reserves a token (into debt if need be, so the order of reservations is the order of sends across the
 * cluster) and waits until the debt is paid. A token bucket is not a sliding window: holding {@code capacity} at
 * once and refilling {@code rate} a period, it lets {@code capacity + rate} through in one period. So each bucket
 * holds a tenth of the limit and refills what is left of it less one, to spare for the time requests take on the
 * way: no period at Telegram's end sees more than the limit ({@link #shape}). Each instance's own
 * {@link SendWindow}s still keep its sends in flight within the limit too.
 *
 * <p>While Redis cannot be reached each instance keeps to its share ({@code EMITTER_LIMIT_INSTANCES}) in buckets of
 * its own, counts the fall-back, logs it once, and tries Redis again a second later. Calls may block on Redis (up to
 * {@code REDIS_TIMEOUT_MS}): {@link SendPacer} makes them on a thread of their own, one at a time.
 */
public final class SharedSendLimits {
    private static final Logger LOG = LoggerFactory.getLogger(SharedSendLimits.class);
    /** While Redis is unreachable, it is tried again this often (and the instance keeps to its share meanwhile). */
    static final Duration REDIS_RETRY = Duration.ofSeconds(1);

    static final Duration SECOND = Duration.ofSeconds(1);
    static final Duration MINUTE = Duration.ofMinutes(1);
    /** Above this many groups remembered locally, those whose buckets are full again are forgotten. */
    private static final int SWEEP_ABOVE = 10_000;

    /** Where a reservation was taken, so that giving it back goes to the same place. */
    public record Reservation(long waitMillis, boolean shared) {
        static final Reservation NONE = new Reservation(0, false);
    }

    private final int globalPerSecond;
    private final int groupPerMinute;
    private final int instances;
    private final Clock clock;
    private final EmitterMetrics metrics;
    /** Null without Redis: then the local share is the limit for good. */
    private final Scope redis;

    private final Scope local;
    private volatile boolean onShared;
    private long nextRedisTry = Long.MIN_VALUE;

    /**
     * @param redis   the shared buckets' Redis; null keeps to the local share for good
     * @param keyBase {@link #keyBase}
     */
    public SharedSendLimits(
            EmitterConfig.RateLimits limits, UnifiedJedis redis, String keyBase, Clock clock, EmitterMetrics metrics) {
        this.globalPerSecond = limits.globalPerSecond();
        this.groupPerMinute = limits.groupPerMinute();
        this.instances = limits.instances();
        this.clock = Objects.requireNonNull(clock, "clock");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        EmitterConfig.RateLimits share = limits.localShare();
        this.local = new LocalScope(share.globalPerSecond(), share.groupPerMinute(), clock);
        this.redis = redis == null
                ? null
                : new RedisScope(
                        RateBuckets.redis(redis, clock, MINUTE),
                        Objects.requireNonNull(keyBase, "keyBase"),
                        globalPerSecond,
                        groupPerMinute);
        this.onShared = redis != null;
        metrics.limitsLocalShare(() -> onShared ? 0 : 1);
    }

    /** {@code <prefix>emitter:limits:<bot>:}, {@code <bot>} being 64 bits of the token's SHA-256. */
    public static String keyBase(String redisKeyPrefix, Secret botToken) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256")
                    .digest(botToken.reveal().getBytes(StandardCharsets.UTF_8));
            return redisKeyPrefix + "emitter:limits:" + HexFormat.of().formatHex(digest, 0, 8) + ":";
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime has SHA-256", e);
        }
    }

    /** True when there is a global or group limit to keep. */
    public boolean limited() {
        return globalPerSecond > 0 || groupPerMinute > 0;
    }

    /** This instance's share of a bot-wide {@code limit}: 1/{@code EMITTER_LIMIT_INSTANCES} of it, at least 1. */
    public int share(int limit) {
        return Math.max(1, limit / instances);
    }

    /** True while the limits are kept in Redis; false on the local share. */
    public boolean onShared() {
        return onShared;
    }

    /** Reserves one send in the bot's global window; how long to wait before sending. May block on Redis. */
    Reservation reserveGlobal() {
        return globalPerSecond == 0 ? Reservation.NONE : reserve(scope -> scope.global());
    }

    /** Reserves one send in the group's window; how long to wait before sending. May block on Redis. */
    Reservation reserveGroup(long chatId) {
        return groupPerMinute == 0 ? Reservation.NONE : reserve(scope -> scope.group(chatId));
    }

    /** Gives back a global reservation whose message was never sent. */
    void refundGlobal(Reservation reservation) {
        refund(reservation, Scope::global);
    }

    /** Gives back a group reservation whose message was never sent. */
    void refundGroup(long chatId, Reservation reservation) {
        refund(reservation, scope -> scope.group(chatId));
    }

    private Reservation reserve(Function<Scope, Bucket> bucket) {
        if (redis != null && (onShared || clock.millis() >= nextRedisTry)) {
            try {
                Reservation reservation =
                        new Reservation(millis(bucket.apply(redis).consumeIgnoringRateLimits(1)), true);
                if (!onShared) {
                    onShared = true;
                    LOG.info("flood limits: Redis answers again; back on the bot's shared windows");
                }
                return reservation;
            } catch (JedisException e) {
                fallBack(e);
            }
        }
        return new Reservation(millis(bucket.apply(local).consumeIgnoringRateLimits(1)), false);
    }

    private void refund(Reservation reservation, Function<Scope, Bucket> bucket) {
        if (reservation == null || reservation == Reservation.NONE) {
            return;
        }
        if (!reservation.shared()) {
            bucket.apply(local).addTokens(1);
            return;
        }
        try {
            bucket.apply(redis).addTokens(1);
        } catch (JedisException e) {
            // Not worth a fall-back of its own: the next reservation finds out; the slot comes back by refill.
            LOG.debug("flood limits: Redis unreachable; a reserved send is not given back: {}", e.toString());
        }
    }

    /** Counted and logged once an outage; while it lasts, Redis is tried again every {@link #REDIS_RETRY}. */
    private void fallBack(JedisException e) {
        nextRedisTry = clock.millis() + REDIS_RETRY.toMillis();
        if (onShared) {
            onShared = false;
            metrics.limitsRedisFallback();
            LOG.warn(
                    "flood limits: Redis unreachable ({}); this instance keeps to 1/{} of the bot's global and group "
                            + "limits until Redis answers again",
                    e.toString(),
                    instances);
        }
    }

    private static long millis(long nanos) {
        return nanos <= 0 ? 0 : (nanos + 999_999) / 1_000_000;
    }

    /** The global bucket: smooth (a burst buys nothing when many chats share the bot). */
    static BucketConfiguration globalShape(int perSecond) {
        return shape(perSecond, SECOND, 10);
    }

    /** A group's bucket: room for a reply of a few parts at once, the rest refilled over the minute. */
    static BucketConfiguration groupShape(int perMinute) {
        return shape(perMinute, MINUTE, 4);
    }

    /**
     * A bucket that lets no more than {@code limit} through in any {@code period}: it holds 1/{@code burstDivisor} of
     * the limit (at least 1) and refills the rest less one continuously, the one to spare for requests bunching on
     * the way. When nothing is left to refill (tiny limits), 1 every two periods.
     */
    static BucketConfiguration shape(int limit, Duration period, int burstDivisor) {
        int capacity = Math.max(1, limit / burstDivisor);
        int refill = limit - capacity - 1;
        Bandwidth bandwidth = refill >= 1
                ? RateBuckets.smooth(capacity, refill, period)
                : RateBuckets.smooth(1, 1, period.multipliedBy(2));
        return BucketConfiguration.builder().addLimit(bandwidth).build();
    }

    /** The buckets of one place (Redis or this process). */
    private interface Scope {
        Bucket global();

        Bucket group(long chatId);
    }

    private static final class RedisScope implements Scope {
        private final JedisBasedProxyManager<String> proxies;
        private final String keyBase;
        private final BucketConfiguration globalShape;
        private final BucketConfiguration groupShape;
        private final String globalKey;
        private final int groupPerMinute;

        RedisScope(JedisBasedProxyManager<String> proxies, String keyBase, int globalPerSecond, int groupPerMinute) {
            this.proxies = proxies;
            this.keyBase = keyBase;
            this.groupPerMinute = groupPerMinute;
            this.globalShape = globalPerSecond > 0 ? globalShape(globalPerSecond) : null;
            this.groupShape = groupPerMinute > 0 ? groupShape(groupPerMinute) : null;
            // The limit is part of the key, so instances configured differently during a rolling change each keep to
            // their own limit instead of fighting over one bucket's configuration.
            this.globalKey = keyBase + "global:" + globalPerSecond;
        }

        @Override
        public Bucket global() {
            return RateBuckets.shared(proxies, globalKey, globalShape);
        }

        @Override
        public Bucket group(long chatId) {
            return RateBuckets.shared(proxies, keyBase + "group:" + chatId + ":" + groupPerMinute, groupShape);
        }
    }

    /** Only the limits thread calls it. */
    private static final class LocalScope implements Scope {
        private final Bucket global;
        private final BucketConfiguration groupShape;
        private final Clock clock;
        private final Map<Long, Bucket> groups = new HashMap<>();

        LocalScope(int globalPerSecond, int groupPerMinute, Clock clock) {
            this.clock = clock;
            this.global = globalPerSecond > 0 ? RateBuckets.local(globalShape(globalPerSecond), clock) : null;
            this.groupShape = groupPerMinute > 0 ? groupShape(groupPerMinute) : null;
        }

        @Override
        public Bucket global() {
            return global;
        }

        @Override
        public synchronized Bucket group(long chatId) {
            if (groups.size() > SWEEP_ABOVE) {
                long capacity = groupShape.getBandwidths()[0].getCapacity();
                groups.values().removeIf(b -> b.getAvailableTokens() >= capacity);
            }
            return groups.computeIfAbsent(chatId, id -> RateBuckets.local(groupShape, clock));
        }
    }
}
