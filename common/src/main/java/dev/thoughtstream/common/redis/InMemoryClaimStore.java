package dev.thoughtstream.common.redis;

import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LAPTOP FALLBACK ONLY: a {@link ClaimStore} in this JVM's memory. It forgets everything on restart and is
 * not shared between instances, so it cannot prevent duplicates across crashes. devstack uses it, with a
 * loud warning, when no Redis is available; tests and production never do.
 */
public final class InMemoryClaimStore implements ClaimStore {
    private static final Logger LOG = LoggerFactory.getLogger(InMemoryClaimStore.class);

    private record Entry(String value, long expiresAtMs) {}

    private final ConcurrentHashMap<String, Entry> entries = new ConcurrentHashMap<>();
    private final Clock clock;

    public InMemoryClaimStore(Clock clock) {
        this.clock = clock;
        LOG.warn("USING AN IN-MEMORY CLAIM STORE: no Redis. Duplicate sends are possible after a restart. "
                + "Laptop use only; set REDIS_URL or install redis-server.");
    }

    @Override
    public boolean claim(String key, String value, Duration ttl) {
        long now = clock.millis();
        boolean[] won = {false};
        entries.compute(key, (k, old) -> {
            if (old == null || old.expiresAtMs() <= now) {
                won[0] = true;
                return new Entry(value, now + ttl.toMillis());
            }
            return old;
        });
        return won[0];
    }

    @Override
    public boolean replace(String key, String expected, String value, Duration ttl) {
        long now = clock.millis();
        boolean[] replaced = {false};
        entries.computeIfPresent(key, (k, old) -> {
            if (old.expiresAtMs() > now && old.value().equals(expected)) {
                replaced[0] = true;
                return new Entry(value, now + ttl.toMillis());
            }
            return old;
        });
        return replaced[0];
    }

    @Override
    public void put(String key, String value, Duration ttl) {
        entries.put(key, new Entry(value, clock.millis() + ttl.toMillis()));
    }

    @Override
    public Optional<String> get(String key) {
        Entry e = entries.get(key);
        return e == null || e.expiresAtMs() <= clock.millis() ? Optional.empty() : Optional.of(e.value());
    }

    @Override
    public void delete(String key) {
        entries.remove(key);
    }

    @Override
    public void close() {
        entries.clear();
    }
}
