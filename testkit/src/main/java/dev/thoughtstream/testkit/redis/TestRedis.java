package dev.thoughtstream.testkit.redis;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.RedisSettings;
import java.net.URI;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one Redis of a test JVM: {@code REDIS_URL} (system property or environment variable) when set, otherwise a
 * real {@link RedisServer} started on first use and stopped when the JVM exits. There is deliberately no
 * in-memory stand-in: without either, every caller fails with {@link RedisServer#INSTALL_HINT}.
 */
public final class TestRedis {
    private static final Logger LOG = LoggerFactory.getLogger(TestRedis.class);

    private static final String RUN_ID =
            Integer.toString(ThreadLocalRandom.current().nextInt(36 * 36 * 36 * 36), 36);
    private static final AtomicLong KEY_PREFIX_COUNTER = new AtomicLong();

    private static volatile URI url;

    private TestRedis() {}

    /** Where the test Redis is, starting it on the first call. */
    public static URI url() {
        URI u = url;
        if (u == null) {
            synchronized (TestRedis.class) {
                if (url == null) {
                    url = connect();
                }
                u = url;
            }
        }
        return u;
    }

    private static URI connect() {
        String external = System.getProperty(RedisSettings.URL);
        if (external == null || external.isBlank()) {
            external = System.getenv(RedisSettings.URL);
        }
        if (external != null && !external.isBlank()) {
            RedisSettings settings = settingsFor(external.strip());
            LOG.info("tests use the Redis at {} ({} is set)", settings, RedisSettings.URL);
            return settings.url();
        }
        RedisServer server = RedisServer.start(0);
        Runtime.getRuntime().addShutdownHook(new Thread(server::close, "testkit-redis-shutdown"));
        return server.url();
    }

    /** Settings for a service under test (validated the way the services validate {@code REDIS_URL}). */
    public static RedisSettings settings() {
        return settingsFor(url().toString());
    }

    private static RedisSettings settingsFor(String redisUrl) {
        return RedisSettings.from(Config.of(Map.of(RedisSettings.URL, redisUrl)));
    }

    /** A key prefix no other call returns ({@code test:<name>:<run>-<n>:}), so tests sharing Redis don't collide. */
    public static String uniqueKeyPrefix(String name) {
        String safe = name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9-]+", "-");
        return "test:" + safe + ":" + RUN_ID + "-" + KEY_PREFIX_COUNTER.incrementAndGet() + ":";
    }
}
