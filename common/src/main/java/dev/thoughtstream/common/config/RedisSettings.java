package dev.thoughtstream.common.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;

/**
 * Where Redis is. {@code REDIS_URL} ({@code redis://[user:password@]host:port[/db]}, or {@code rediss://} for
 * TLS) wins; otherwise the original bot's {@code REDIS_HOST} with {@code REDIS_PORT} (default 6379).
 *
 * @param url       the resolved URL (may carry a password: never log it, use {@link #toString()})
 * @param timeout   {@code REDIS_TIMEOUT_MS}: connect and socket timeout
 * @param keyPrefix {@code REDIS_KEY_PREFIX}: prepended to every key, so deployments can share a Redis
 */
public record RedisSettings(URI url, Duration timeout, String keyPrefix) {

    public static final String URL = "REDIS_URL";
    public static final String HOST = "REDIS_HOST";
    public static final String PORT = "REDIS_PORT";

    /** True when the configuration names a Redis server explicitly. */
    public static boolean isConfigured(Config config) {
        return config.isSet(URL) || config.isSet(HOST);
    }

    public static RedisSettings from(Config config) {
        Duration timeout = config.millis("REDIS_TIMEOUT_MS", 2000, 50, 60_000);
        String keyPrefix = config.string("REDIS_KEY_PREFIX", "ts:");
        if (config.isSet(URL)) {
            String raw = config.required(URL);
            try {
                URI uri = new URI(raw);
                if (uri.getScheme() == null
                        || !(uri.getScheme().equals("redis") || uri.getScheme().equals("rediss"))
                        || uri.getHost() == null) {
                    throw new ConfigException(
                            URL, "expected redis://host:port[/db] but was '" + redactedUrl(uri) + "'");
                }
                return new RedisSettings(uri, timeout, keyPrefix);
            } catch (URISyntaxException e) {
                throw new ConfigException(URL, "is not a valid URL");
            }
        }
        String host = config.string(HOST, "localhost");
        int port = config.integer(PORT, 6379, 1, 65535);
        return new RedisSettings(URI.create("redis://" + host + ":" + port), timeout, keyPrefix);
    }

    static String redactedUrl(URI uri) {
        return uri.getUserInfo() == null ? uri.toString() : uri.toString().replace(uri.getRawUserInfo(), "<redacted>");
    }

    @Override
    public String toString() {
        return "RedisSettings[url=" + redactedUrl(url) + ", timeout=" + timeout + ", keyPrefix=" + keyPrefix + "]";
    }
}
