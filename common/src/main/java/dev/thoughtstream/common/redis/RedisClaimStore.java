package dev.thoughtstream.common.redis;

import dev.thoughtstream.common.config.RedisSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.commons.pool2.impl.GenericObjectPoolConfig;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.SetParams;
import redis.clients.jedis.util.JedisURIHelper;

/**
 * {@link ClaimStore} on Redis: {@code SET key value NX PX ttl}; {@link #replace} is a Lua script, which Redis runs
 * atomically. Errors surface as Jedis exceptions.
 */
public final class RedisClaimStore implements ClaimStore {
    /** GET, compare, SET in one step: no other client's command runs in between (Redis runs a script atomically). */
    private static final String REPLACE_SCRIPT = "if redis.call('GET', KEYS[1]) == ARGV[1] then "
            + "redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) return 1 else return 0 end";

    /** SET of every key (ARGV[1] value, ARGV[2] ttl ms) in one command, so a batch costs one round trip. */
    private static final String PUT_ALL_SCRIPT =
            "for i = 1, #KEYS do redis.call('SET', KEYS[i], ARGV[1], 'PX', ARGV[2]) end return #KEYS";

    private final RedisClient redis;
    private final String keyPrefix;

    public RedisClaimStore(RedisClient redis, String keyPrefix) {
        this.redis = redis;
        this.keyPrefix = keyPrefix;
    }

    /** A store on the configured server, with the configured key prefix. */
    public static RedisClaimStore open(RedisSettings settings) {
        return new RedisClaimStore(connect(settings), settings.keyPrefix());
    }

    /** A pooled client; connections are checked on borrow so a Redis restart is transparent. */
    public static RedisClient connect(RedisSettings settings) {
        var uri = settings.url();
        int timeoutMs = (int) settings.timeout().toMillis();
        DefaultJedisClientConfig.Builder client = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(timeoutMs)
                .socketTimeoutMillis(timeoutMs)
                .clientName("thoughtstream")
                .ssl("rediss".equals(uri.getScheme()));
        String user = JedisURIHelper.getUser(uri);
        String password = JedisURIHelper.getPassword(uri);
        if (user != null) {
            client.user(user);
        }
        if (password != null) {
            client.password(password);
        }
        if (JedisURIHelper.hasDbIndex(uri)) {
            client.database(JedisURIHelper.getDBIndex(uri));
        }
        GenericObjectPoolConfig<Connection> pool = new GenericObjectPoolConfig<>();
        pool.setMaxTotal(32);
        pool.setMaxWait(settings.timeout());
        pool.setTestOnBorrow(true);
        return RedisClient.builder()
                .hostAndPort(new HostAndPort(uri.getHost(), uri.getPort() > 0 ? uri.getPort() : 6379))
                .clientConfig(client.build())
                .poolConfig(pool)
                .build();
    }

    @Override
    public boolean claim(String key, String value, Duration ttl) {
        return "OK"
                .equals(redis.set(
                        keyPrefix + key, value, SetParams.setParams().nx().px(ttl.toMillis())));
    }

    @Override
    public boolean replace(String key, String expected, String value, Duration ttl) {
        Object replaced = redis.eval(
                REPLACE_SCRIPT, List.of(keyPrefix + key), List.of(expected, value, Long.toString(ttl.toMillis())));
        return Long.valueOf(1).equals(replaced);
    }

    @Override
    public void put(String key, String value, Duration ttl) {
        redis.set(keyPrefix + key, value, SetParams.setParams().px(ttl.toMillis()));
    }

    @Override
    public Optional<String> get(String key) {
        return Optional.ofNullable(redis.get(keyPrefix + key));
    }

    @Override
    public List<Optional<String>> getAll(List<String> keys) {
        if (keys.isEmpty()) {
            return List.of();
        }
        List<String> values = redis.mget(keys.stream().map(k -> keyPrefix + k).toArray(String[]::new));
        List<Optional<String>> found = new ArrayList<>(values.size());
        values.forEach(v -> found.add(Optional.ofNullable(v)));
        return found;
    }

    @Override
    public void putAll(List<String> keys, String value, Duration ttl) {
        if (keys.isEmpty()) {
            return;
        }
        redis.eval(
                PUT_ALL_SCRIPT,
                keys.stream().map(k -> keyPrefix + k).toList(),
                List.of(value, Long.toString(ttl.toMillis())));
    }

    @Override
    public void delete(String key) {
        redis.del(keyPrefix + key);
    }

    @Override
    public void close() {
        redis.close();
    }
}
