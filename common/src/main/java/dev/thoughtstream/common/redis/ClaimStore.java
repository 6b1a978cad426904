package dev.thoughtstream.common.redis;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Short-lived keys that make at-least-once delivery look exactly-once to a person: the first caller to
 * {@link #claim} a key owns it until the TTL passes. Production uses Redis ({@link RedisClaimStore}).
 */
public interface ClaimStore extends AutoCloseable {

    /** Sets {@code key} to {@code value} only if it is absent; true when this call set it. */
    boolean claim(String key, String value, Duration ttl);

    /**
     * Sets {@code key} to {@code value} only if it holds {@code expected} right now (compare-and-set, atomic); true when
     * this call set it. Takes over a claim whose holder is known to be gone, without racing anyone who claims or
     * finishes it at the same moment.
     */
    boolean replace(String key, String expected, String value, Duration ttl);

    /** Sets {@code key} unconditionally (records an outcome over a claim). */
    void put(String key, String value, Duration ttl);

    Optional<String> get(String key);

    /** {@link #get} of several keys, in their order; on Redis one round trip ({@code MGET}). */
    default List<Optional<String>> getAll(List<String> keys) {
        return keys.stream().map(this::get).toList();
    }

    /** {@link #put} of several keys with one value and TTL; on Redis one round trip. */
    default void putAll(List<String> keys, String value, Duration ttl) {
        keys.forEach(key -> put(key, value, ttl));
    }

    void delete(String key);

    @Override
    void close();
}
