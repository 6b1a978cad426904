package dev.thoughtstream.common.config;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * How every service reaches Kafka.
 *
 * <p>Extra client properties for real clusters (SASL, TLS, ...) pass through unchanged: each variable
 * {@code KAFKA_CLIENT_SECURITY_PROTOCOL=SASL_SSL} becomes {@code security.protocol=SASL_SSL}, and a
 * properties file named by {@code KAFKA_CLIENT_PROPERTIES_FILE} is read first (variables win over it).
 *
 * @param bootstrapServers  {@code KAFKA_BOOTSTRAP_SERVERS}
 * @param topicPrefix       {@code TOPIC_PREFIX}, prepended to every topic name
 * @param partitions        {@code TOPIC_PARTITIONS}, used when a service creates a missing topic
 * @param replicationFactor {@code TOPIC_REPLICATION_FACTOR}, empty = the broker's default
 * @param clientOverrides   pass-through client properties
 */
public record KafkaSettings(
        String bootstrapServers,
        String topicPrefix,
        int partitions,
        Optional<Short> replicationFactor,
        Map<String, String> clientOverrides) {

    public static final String BOOTSTRAP = "KAFKA_BOOTSTRAP_SERVERS";
    public static final String CLIENT_PREFIX = "KAFKA_CLIENT_";
    public static final String CLIENT_PROPERTIES_FILE = "KAFKA_CLIENT_PROPERTIES_FILE";

    public KafkaSettings {
        clientOverrides = Collections.unmodifiableMap(new TreeMap<>(clientOverrides));
    }

    public static KafkaSettings from(Config config) {
        String bootstrap = config.required(BOOTSTRAP);
        String prefix = config.string("TOPIC_PREFIX", "");
        int partitions = config.integer("TOPIC_PARTITIONS", 6, 1, 10_000);
        Optional<Short> rf = config.isSet("TOPIC_REPLICATION_FACTOR")
                ? Optional.of((short) config.integer("TOPIC_REPLICATION_FACTOR", 1, 1, Short.MAX_VALUE))
                : Optional.empty();

        Map<String, String> overrides = new TreeMap<>();
        config.optional(CLIENT_PROPERTIES_FILE).ifPresent(file -> overrides.putAll(readProperties(file)));
        config.withPrefix(CLIENT_PREFIX).forEach((name, value) -> {
            if (!name.equals("PROPERTIES_FILE")) {
                overrides.put(name.toLowerCase(Locale.ROOT).replace('_', '.'), value);
            }
        });
        return new KafkaSettings(bootstrap, prefix, partitions, rf, overrides);
    }

    private static Map<String, String> readProperties(String file) {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(Path.of(file))) {
            p.load(in);
        } catch (IOException e) {
            throw new ConfigException(CLIENT_PROPERTIES_FILE, "cannot read '" + file + "': " + e.getMessage());
        }
        Map<String, String> out = new TreeMap<>();
        p.stringPropertyNames().forEach(n -> out.put(n, p.getProperty(n)));
        return out;
    }

    /** Bootstrap servers plus the pass-through properties; each client adds its own settings on top. */
    public Properties clientProperties() {
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        p.putAll(clientOverrides);
        return p;
    }

    /** For logs: the pass-through property names, never their values (they may hold credentials). */
    @Override
    public String toString() {
        return "KafkaSettings[bootstrapServers=" + bootstrapServers + ", topicPrefix=" + topicPrefix
                + ", partitions=" + partitions + ", replicationFactor=" + replicationFactor
                + ", clientOverrides=" + clientOverrides.keySet() + "]";
    }
}
