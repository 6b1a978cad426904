package dev.thoughtstream.ingest;

import java.time.Duration;
import java.util.List;
import redis.clients.jedis.RedisClient;

/**
 * {@link FloodWindow} on Redis: one sorted set per person and window, members and scores the update ids; the
 * position is the member's rank. One Lua script (atomic, one round trip) adds, sets the expiry and ranks, so two
 * instances judging the same person agree. Ranking by update id (Telegram numbers updates in arrival order) rather
 * than by a counter keeps a redelivered update where it was.
 */
public final class RedisFloodWindow implements FloodWindow {
    private static final String SCRIPT = "redis.call('ZADD', KEYS[1], 'NX', ARGV[1], ARGV[1]) "
            + "redis.call('PEXPIRE', KEYS[1], ARGV[2]) "
            + "return redis.call('ZRANK', KEYS[1], ARGV[1])";

    private final RedisClient redis;
    private final String keyPrefix;
    private final Duration keep;

    /**
     * @param keyPrefix e.g. {@code REDIS_KEY_PREFIX + "ingest:flood:<bot id>:"}
     * @param keep      how long a window's set lives (at least the window's length)
     */
    public RedisFloodWindow(RedisClient redis, String keyPrefix, Duration keep) {
        this.redis = redis;
        this.keyPrefix = keyPrefix;
        this.keep = keep;
    }

    @Override
    public long position(long userId, long window, long updateId) {
        Object rank = redis.eval(SCRIPT, List.of(keyPrefix + userId + ":" + window),
                List.of(Long.toString(updateId), Long.toString(keep.toMillis())));
        if (!(rank instanceof Long position)) {
            throw new IllegalStateException("unexpected answer from the flood window script: " + rank);
        }
        return position;
    }
}
