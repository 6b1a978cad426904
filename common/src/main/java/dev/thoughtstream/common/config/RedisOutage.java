package dev.thoughtstream.common.config;

import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * What a service does while Redis cannot answer, set by one variable per service named {@code <SERVICE>_REDIS_OUTAGE}
 * ({@code LLM_REDIS_OUTAGE}, {@code EMITTER_REDIS_OUTAGE}, {@code INGEST_REDIS_OUTAGE}) with the values
 * {@code fail-open} and {@code fail-closed}. Each service documents what the two mean for it; the earlier, differently
 * spelled variables are still read, with a deprecation warning.
 */
public enum RedisOutage {
    /** Go on without Redis's protection (availability), and count every time that happens. */
    FAIL_OPEN,
    /** Hold the work until Redis answers again (safety). */
    FAIL_CLOSED;

    /** The value as written in a variable: {@code fail-open} or {@code fail-closed}. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** {@code name}, or {@code defaultValue} when it is unset. */
    public static RedisOutage read(Config config, String name, RedisOutage defaultValue) {
        return config.enumValue(name, RedisOutage.class, defaultValue);
    }

    /**
     * {@code name}, or else the deprecated {@code legacy} variable translated to a value (with a warning), or else
     * {@code defaultValue}. A legacy value that cannot be read fails the start even when {@code name} wins.
     */
    public static RedisOutage read(Config config, String name, RedisOutage defaultValue, Legacy legacy) {
        Objects.requireNonNull(legacy, "legacy");
        if (!config.isSet(legacy.name())) {
            return read(config, name, defaultValue);
        }
        RedisOutage fromLegacy = legacy.translate().apply(config);
        if (config.isSet(name)) {
            Deprecations.ignoredOldName(legacy.name(), name);
            return read(config, name, defaultValue);
        }
        Deprecations.usedOldName(legacy.name(), name, fromLegacy.label());
        return fromLegacy;
    }

    /** A deprecated variable that used to say the same thing, and how to read it. */
    public record Legacy(String name, Function<Config, RedisOutage> translate) {
        public Legacy {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(translate, "translate");
        }

        /** An old variable that took the same values ({@code fail-open}, {@code fail-closed}). */
        public static Legacy sameValues(String name) {
            return new Legacy(name, config -> config.enumValue(name, RedisOutage.class, FAIL_OPEN));
        }

        /** An old true/false variable, where {@code true} meant {@code whenTrue}. */
        public static Legacy bool(String name, RedisOutage whenTrue) {
            return new Legacy(name, config -> config.bool(name, true) ? whenTrue : whenTrue.opposite());
        }
    }

    private RedisOutage opposite() {
        return this == FAIL_OPEN ? FAIL_CLOSED : FAIL_OPEN;
    }
}
