package dev.thoughtstream.testkit.redis;

import dev.thoughtstream.common.redis.ClaimStore;
import java.time.Duration;
import java.util.Optional;

/**
 * A {@link ClaimStore} that hands every call to a real one; a test overrides the one call it wants to watch or break
 * (inject a failure, run something right after a write).
 */
public class ForwardingClaimStore implements ClaimStore {
    private final ClaimStore real;

    public ForwardingClaimStore(ClaimStore real) {
        this.real = real;
    }

    @Override
    public boolean claim(String key, String value, Duration ttl) {
        return real.claim(key, value, ttl);
    }

    @Override
    public boolean replace(String key, String expected, String value, Duration ttl) {
        return real.replace(key, expected, value, ttl);
    }

    @Override
    public void put(String key, String value, Duration ttl) {
        real.put(key, value, ttl);
    }

    @Override
    public Optional<String> get(String key) {
        return real.get(key);
    }

    @Override
    public void delete(String key) {
        real.delete(key);
    }

    @Override
    public void close() {
        real.close();
    }
}
