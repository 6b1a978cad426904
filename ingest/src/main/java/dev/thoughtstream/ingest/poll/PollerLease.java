package dev.thoughtstream.ingest.poll;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import redis.clients.jedis.RedisClient;

/**
 * The Redis lease that lets one ingest instance at a time call getUpdates for a bot (Telegram answers 409 to a
 * second poller). {@code <key>} holds {@code "<token> <owner>"} with a TTL; {@code <key>:fence} is the fencing
 * counter, so every holder's token is larger than every earlier one's (seeded from Redis' clock should Redis lose
 * it). Acquire, renew and release are Lua scripts that compare before they write, so an instance whose lease was
 * taken over can neither extend nor delete the new holder's; an owner {@code <instanceId>#<incarnation>} takes over
 * at once the lease its own dead predecessor left. See docs/ingest.md, "The lease".
 *
 * <p>Every method talks to Redis once and throws Jedis' exceptions when Redis cannot be reached; the caller decides
 * what an outage means ({@link StandbyController}). {@link #none()} stands for no lease at all: a single instance
 * that always polls (devstack without Redis).
 */
public final class PollerLease {
    /**
     * KEYS[1] lease, KEYS[2] fence; ARGV[1] ttl ms, ARGV[2] owner, ARGV[3] the owner prefix whose leases this owner
     * may take over ({@code "<instanceId>#"}, or empty for none). Returns the new token, or 0 when held.
     */
    private static final String ACQUIRE = """
            local held = redis.call('GET', KEYS[1])
            if held then
              local space = string.find(held, ' ', 1, true)
              local holder = space and string.sub(held, space + 1) or held
              if ARGV[3] == '' or holder == ARGV[2] or string.sub(holder, 1, string.len(ARGV[3])) ~= ARGV[3] then
                return 0
              end
            end
            if redis.call('EXISTS', KEYS[2]) == 0 then
              local now = redis.call('TIME')
              redis.call('SET', KEYS[2], now[1] .. string.format('%03d', math.floor(tonumber(now[2]) / 1000)))
            end
            local token = redis.call('INCR', KEYS[2])
            redis.call('SET', KEYS[1], token .. ' ' .. ARGV[2], 'PX', ARGV[1])
            return token
            """;
    /** KEYS[1] lease; ARGV[1] our value, ARGV[2] ttl ms. 1 when extended, 0 when not ours (any more). */
    private static final String RENEW = """
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              return redis.call('PEXPIRE', KEYS[1], ARGV[2])
            end
            return 0
            """;
    /** KEYS[1] lease; ARGV[1] our value. 1 when deleted, 0 when not ours. */
    private static final String RELEASE = """
            if redis.call('GET', KEYS[1]) == ARGV[1] then
              return redis.call('DEL', KEYS[1])
            end
            return 0
            """;

    /** Who holds the lease: its fencing token and the instance that took it. */
    public record Holder(long token, String owner) {}

    private static final PollerLease NONE = new PollerLease();

    private final RedisClient redis;
    private final String key;
    private final String fenceKey;
    private final String owner;
    /** {@code "<instanceId>#"} when the owner names an instance id; empty otherwise (no takeover). */
    private final String takeOverPrefix;

    private final Duration ttl;

    /**
     * @param key   the lease's key (see {@link #keyFor}); the fencing counter is {@code key + ":fence"}
     * @param owner this instance's name, stored with the token so operators can see who polls;
     *              {@code <instanceId>#<incarnation>} lets a restarted instance take its dead predecessor's lease at
     *              once, anything else (e.g. {@link #defaultOwner()}) waits for the TTL
     */
    public PollerLease(RedisClient redis, String key, String owner, Duration ttl) {
        if (owner.isEmpty() || owner.contains(" ")) {
            throw new IllegalArgumentException("the owner must be non-empty without spaces: '" + owner + "'");
        }
        this.redis = redis;
        this.key = key;
        this.fenceKey = key + ":fence";
        this.owner = owner;
        int hash = owner.indexOf('#');
        this.takeOverPrefix = hash > 0 ? owner.substring(0, hash + 1) : "";
        this.ttl = ttl;
    }

    /** No lease: the instance polls as soon as it starts, and only one such instance may run per bot. */
    private PollerLease() {
        this.redis = null;
        this.key = "(none)";
        this.fenceKey = "(none)";
        this.owner = "(none)";
        this.takeOverPrefix = "";
        this.ttl = Duration.ZERO;
    }

    /** No lease at all; none of the Redis methods may be called on it. */
    public static PollerLease none() {
        return NONE;
    }

    /** True for {@link #none()}. */
    public boolean isNone() {
        return redis == null;
    }

    /** The lease of one bot (one getUpdates stream per bot token), under the deployment's key prefix. */
    public static String keyFor(String keyPrefix, long botId) {
        return keyPrefix + "ingest:" + botId + ":poller-lease";
    }

    /** {@code pid@host:random}: unique per process, readable for operators. */
    public static String defaultOwner() {
        String runtime = ManagementFactory.getRuntimeMXBean().getName().replace(' ', '_');
        return runtime + ":" + UUID.randomUUID().toString().substring(0, 8);
    }

    /**
     * Takes the lease when nobody holds it, or when a previous process of this instance does; the fencing token when
     * taken, empty when someone else holds it.
     */
    public OptionalLong tryAcquire() {
        Object token = redis().eval(
                        ACQUIRE, List.of(key, fenceKey), List.of(Long.toString(ttl.toMillis()), owner, takeOverPrefix));
        long t = ((Number) token).longValue();
        return t > 0 ? OptionalLong.of(t) : OptionalLong.empty();
    }

    /** Extends the lease by a whole ttl if {@code token} still holds it; false when it expired or was taken. */
    public boolean renew(long token) {
        return ((Number) redis().eval(RENEW, List.of(key), List.of(value(token), Long.toString(ttl.toMillis()))))
                        .longValue()
                == 1;
    }

    /** True while {@code token} holds the lease (one GET). */
    public boolean isHeld(long token) {
        return value(token).equals(redis().get(key));
    }

    /** Gives the lease up if {@code token} still holds it, so a standby can take over at once. */
    public boolean release(long token) {
        return ((Number) redis().eval(RELEASE, List.of(key), List.of(value(token)))).longValue() == 1;
    }

    /** The current holder, if any. */
    public Optional<Holder> holder() {
        String v = redis().get(key);
        if (v == null) {
            return Optional.empty();
        }
        int space = v.indexOf(' ');
        try {
            return Optional.of(new Holder(
                    Long.parseLong(space < 0 ? v : v.substring(0, space)), space < 0 ? "" : v.substring(space + 1)));
        } catch (NumberFormatException e) {
            // Not written by an ingest (an operator, or a test standing in for a foreign holder): held all the same.
            return Optional.of(new Holder(-1, v));
        }
    }

    public String key() {
        return key;
    }

    public String owner() {
        return owner;
    }

    public Duration ttl() {
        return ttl;
    }

    private RedisClient redis() {
        if (redis == null) {
            throw new IllegalStateException("PollerLease.none() has no lease in Redis");
        }
        return redis;
    }

    private String value(long token) {
        return token + " " + owner;
    }

    @Override
    public String toString() {
        if (isNone()) {
            return "PollerLease[none]";
        }
        return "PollerLease[key=" + key + ", owner=" + owner + ", ttl=" + ttl + "]";
    }
}
