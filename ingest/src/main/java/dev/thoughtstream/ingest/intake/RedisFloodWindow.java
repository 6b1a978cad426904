package dev.thoughtstream.ingest.intake;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import redis.clients.jedis.RedisClient;

/**
 * {@link FloodWindow} on Redis: one sorted set per person and window, members and scores the update ids; the
 * position is the member's rank. One Lua script (atomic, one round trip) adds, sets the expiry and ranks, for every
 * message of a batch at once, so two instances judging the same person agree and a batch of updates costs one round
 * trip, not one per message. Ranking by update id (Telegram numbers updates in arrival order) rather than by a
 * counter keeps a redelivered update where it was.
 */
public final class RedisFloodWindow implements FloodWindow {
    /** KEYS[i] the i-th message's window set; ARGV[1] keep ms, ARGV[i + 1] its update id. Returns the ranks. */
    private static final String SCRIPT = """
            local positions = {}
            for i, key in ipairs(KEYS) do
              local id = ARGV[i + 1]
              redis.call('ZADD', key, 'NX', id, id)
              redis.call('PEXPIRE', key, ARGV[1])
              positions[i] = redis.call('ZRANK', key, id)
            end
            return positions
            """;

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
        return positions(window, List.of(new Entry(userId, updateId))).get(0);
    }

    @Override
    public List<Long> positions(long window, List<Entry> entries) {
        if (entries.isEmpty()) {
            return List.of();
        }
        List<String> keys = new ArrayList<>(entries.size());
        List<String> args = new ArrayList<>(entries.size() + 1);
        args.add(Long.toString(keep.toMillis()));
        for (Entry e : entries) {
            keys.add(keyPrefix + e.userId() + ":" + window);
            args.add(Long.toString(e.updateId()));
        }
        Object answer = redis.eval(SCRIPT, keys, args);
        if (!(answer instanceof List<?> ranks) || ranks.size() != entries.size()) {
            throw new IllegalStateException("unexpected answer from the flood window script: " + answer);
        }
        List<Long> positions = new ArrayList<>(ranks.size());
        for (Object rank : ranks) {
            if (!(rank instanceof Long position)) {
                throw new IllegalStateException("unexpected rank from the flood window script: " + rank);
            }
            positions.add(position);
        }
        return positions;
    }
}
