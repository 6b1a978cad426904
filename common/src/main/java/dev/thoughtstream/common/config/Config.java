package dev.thoughtstream.common.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.stream.Collectors;

/**
 * Configuration from environment variables, keeping the original bot's names. A {@code .env} file in the
 * working directory (or at {@code DOTENV_FILE}) is read when present; real environment variables win over it.
 * Every accessor fails fast with a {@link ConfigException} that names the variable.
 */
public final class Config {
    public static final String DOTENV_FILE = "DOTENV_FILE";

    private final Map<String, String> values;
    /** Told the name of every variable looked up (a prefix lookup as {@code PREFIX*}); see {@link #observed}. */
    private final Consumer<String> reads;

    private Config(Map<String, String> values, Consumer<String> reads) {
        this.values = Collections.unmodifiableMap(new TreeMap<>(values));
        this.reads = reads;
    }

    private Config(Map<String, String> values) {
        this(values, name -> {});
    }

    /** The process environment layered over {@code .env}. */
    public static Config load() {
        return load(System.getenv(), Path.of(System.getenv().getOrDefault(DOTENV_FILE, ".env")));
    }

    public static Config load(Map<String, String> environment, Path dotenv) {
        Map<String, String> merged = new HashMap<>();
        if (Files.isRegularFile(dotenv)) {
            merged.putAll(parseDotenv(dotenv));
        }
        merged.putAll(environment);
        return new Config(merged);
    }

    public static Config of(Map<String, String> values) {
        return new Config(values);
    }

    /** A copy with {@code overrides} layered on top; how devstack and tests wire services together. */
    public Config with(Map<String, String> overrides) {
        Map<String, String> merged = new HashMap<>(values);
        merged.putAll(overrides);
        return new Config(merged, reads);
    }

    /**
     * A copy that tells {@code listener} the name of every variable the code looks up, set or not (a prefix lookup
     * as {@code PREFIX*}). This is how the launcher and the tests learn which variables a service really reads, so
     * that a deployment file setting a variable nobody reads is caught.
     */
    public Config observed(Consumer<String> listener) {
        Consumer<String> before = reads;
        return new Config(values, name -> {
            before.accept(name);
            listener.accept(name);
        });
    }

    /** Every variable present, set or blank (for listing what a deployment provides). */
    public Set<String> names() {
        return values.keySet();
    }

    static Map<String, String> parseDotenv(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        Map<String, String> out = new HashMap<>();
        int lineNo = 0;
        for (String raw : lines) {
            lineNo++;
            String line = raw.strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            if (line.startsWith("export ")) {
                line = line.substring("export ".length()).strip();
            }
            int eq = line.indexOf('=');
            if (eq <= 0) {
                throw new ConfigException(DOTENV_FILE, file + " line " + lineNo + " is not NAME=value");
            }
            String name = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (value.length() >= 2
                    && ((value.startsWith("\"") && value.endsWith("\""))
                            || (value.startsWith("'") && value.endsWith("'")))) {
                value = value.substring(1, value.length() - 1);
            }
            out.put(name, value);
        }
        return out;
    }

    /** The value as given, unread by the {@link #observed} listener: for {@link ConfigCheck}'s report only. */
    Optional<String> given(String name) {
        return Optional.ofNullable(values.get(name));
    }

    /** True when the variable is present and not blank. */
    public boolean isSet(String name) {
        reads.accept(name);
        String v = values.get(name);
        return v != null && !v.isBlank();
    }

    public Optional<String> optional(String name) {
        return isSet(name) ? Optional.of(values.get(name).strip()) : Optional.empty();
    }

    public String string(String name, String defaultValue) {
        return optional(name).orElse(defaultValue);
    }

    public String required(String name) {
        return optional(name).orElseThrow(() -> new ConfigException(name, "is required but not set"));
    }

    public Secret secret(String name) {
        return new Secret(required(name));
    }

    public Optional<Secret> optionalSecret(String name) {
        return optional(name).map(Secret::new);
    }

    public int integer(String name, int defaultValue) {
        return integer(name, defaultValue, Integer.MIN_VALUE, Integer.MAX_VALUE);
    }

    public int integer(String name, int defaultValue, int min, int max) {
        long v = longValue(name, defaultValue, min, max);
        return (int) v;
    }

    public long longValue(String name, long defaultValue, long min, long max) {
        Optional<String> raw = optional(name);
        if (raw.isEmpty()) {
            return defaultValue;
        }
        long v;
        try {
            v = Long.parseLong(raw.get().replace("_", ""));
        } catch (NumberFormatException e) {
            throw new ConfigException(name, "expected a whole number but was '" + raw.get() + "'");
        }
        if (v < min || v > max) {
            throw new ConfigException(name, "expected a value in [" + min + ", " + max + "] but was " + v);
        }
        return v;
    }

    public double decimal(String name, double defaultValue, double min, double max) {
        Optional<String> raw = optional(name);
        if (raw.isEmpty()) {
            return defaultValue;
        }
        double v;
        try {
            v = Double.parseDouble(raw.get());
        } catch (NumberFormatException e) {
            throw new ConfigException(name, "expected a number but was '" + raw.get() + "'");
        }
        if (Double.isNaN(v) || v < min || v > max) {
            throw new ConfigException(name, "expected a value in [" + min + ", " + max + "] but was " + v);
        }
        return v;
    }

    /** A duration given in milliseconds (the variable names end in {@code _MS}). */
    public Duration millis(String name, long defaultMillis, long minMillis, long maxMillis) {
        return Duration.ofMillis(longValue(name, defaultMillis, minMillis, maxMillis));
    }

    public boolean bool(String name, boolean defaultValue) {
        Optional<String> raw = optional(name);
        if (raw.isEmpty()) {
            return defaultValue;
        }
        switch (raw.get().toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1", "on":
                return true;
            case "false", "no", "0", "off":
                return false;
            default:
                throw new ConfigException(name, "expected true or false but was '" + raw.get() + "'");
        }
    }

    /** An enum value, matched case-insensitively, with '-' accepted for '_'. */
    public <E extends Enum<E>> E enumValue(String name, Class<E> type, E defaultValue) {
        Optional<String> raw = optional(name);
        if (raw.isEmpty()) {
            return defaultValue;
        }
        String wanted = raw.get().replace('-', '_');
        for (E e : type.getEnumConstants()) {
            if (e.name().equalsIgnoreCase(wanted)) {
                return e;
            }
        }
        String allowed = Arrays.stream(type.getEnumConstants())
                .map(e -> e.name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(" | "));
        throw new ConfigException(name, "expected one of " + allowed + " but was '" + raw.get() + "'");
    }

    /** An absolute http(s) URL. */
    public URI httpUrl(String name, String defaultValue) {
        String raw = string(name, defaultValue);
        if (raw == null) {
            throw new ConfigException(name, "is required but not set");
        }
        try {
            URI uri = new URI(raw);
            String scheme = uri.getScheme();
            if (scheme == null
                    || !(scheme.equalsIgnoreCase("http") || scheme.equalsIgnoreCase("https"))
                    || uri.getHost() == null) {
                throw new ConfigException(name, "expected an http(s) URL with a host but was '" + raw + "'");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new ConfigException(name, "is not a valid URL: '" + raw + "'");
        }
    }

    /** A comma-separated list of whole numbers (ids); empty when unset. */
    public Set<Long> longSet(String name) {
        Optional<String> raw = optional(name);
        if (raw.isEmpty()) {
            return Set.of();
        }
        Set<Long> out = new LinkedHashSet<>();
        for (String part : raw.get().split(",")) {
            String p = part.strip();
            if (p.isEmpty()) {
                continue;
            }
            try {
                out.add(Long.parseLong(p));
            } catch (NumberFormatException e) {
                throw new ConfigException(name, "expected comma-separated ids but found '" + p + "'");
            }
        }
        return Collections.unmodifiableSet(out);
    }

    /** All variables that start with {@code prefix}, with the prefix removed. */
    public Map<String, String> withPrefix(String prefix) {
        reads.accept(prefix + "*");
        Map<String, String> out = new TreeMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(prefix) && k.length() > prefix.length()) {
                out.put(k.substring(prefix.length()), v);
            }
        });
        return out;
    }
}
