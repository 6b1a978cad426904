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
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

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
 * @param instanceId        {@code INSTANCE_ID} (default: the {@code HOSTNAME} a container gets): this process's
 *                          stable name, the same after a restart and different from every other instance's. When
 *                          present, the consumer groups use static membership ({@code group.instance.id}), so a
 *                          restarted instance takes its partitions back at once instead of after the dead member's
 *                          session timeout. Empty: dynamic membership.
 */
public record KafkaSettings(
        String bootstrapServers,
        String topicPrefix,
        int partitions,
        Optional<Short> replicationFactor,
        Map<String, String> clientOverrides,
        Optional<String> instanceId) {

    private static final Logger LOG = LoggerFactory.getLogger(KafkaSettings.class);
    public static final String BOOTSTRAP = "KAFKA_BOOTSTRAP_SERVERS";
    public static final String CLIENT_PREFIX = "KAFKA_CLIENT_";
    public static final String CLIENT_PROPERTIES_FILE = "KAFKA_CLIENT_PROPERTIES_FILE";
    public static final String INSTANCE_ID = "INSTANCE_ID";
    /** Set by Docker (and Kubernetes) to the container's hostname, which survives a restart of the container. */
    public static final String HOSTNAME = "HOSTNAME";
    // group.instance.id may hold any character, but the id also names Redis owners and appears in logs.
    private static final java.util.regex.Pattern INSTANCE_ID_SYNTAX =
            java.util.regex.Pattern.compile("[A-Za-z0-9._-]{1,200}");

    public KafkaSettings {
        clientOverrides = Collections.unmodifiableMap(new TreeMap<>(clientOverrides));
        java.util.Objects.requireNonNull(instanceId, "instanceId");
    }

    /** Settings without a stable instance id (dynamic group membership). */
    public KafkaSettings(
            String bootstrapServers,
            String topicPrefix,
            int partitions,
            Optional<Short> replicationFactor,
            Map<String, String> clientOverrides) {
        this(bootstrapServers, topicPrefix, partitions, replicationFactor, clientOverrides, Optional.empty());
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
        return new KafkaSettings(bootstrap, prefix, partitions, rf, overrides, instanceId(config));
    }

    private static Optional<String> instanceId(Config config) {
        Optional<String> explicit = config.optional(INSTANCE_ID);
        if (explicit.isPresent()) {
            if (!INSTANCE_ID_SYNTAX.matcher(explicit.get()).matches()) {
                throw new ConfigException(
                        INSTANCE_ID, "expected 1 to 200 of A-Z a-z 0-9 . _ - but was '" + explicit.get() + "'");
            }
            return explicit;
        }
        // A hostname that does not fit is not the operator's mistake: go on without static membership.
        return config.optional(HOSTNAME)
                .filter(h -> INSTANCE_ID_SYNTAX.matcher(h).matches());
    }

    /** A copy with another instance id (devstack and tests name their instances themselves). */
    public KafkaSettings withInstanceId(Optional<String> id) {
        return new KafkaSettings(bootstrapServers, topicPrefix, partitions, replicationFactor, clientOverrides, id);
    }

    /**
     * The {@code group.instance.id} of this instance in the group of {@code service}, when it has a stable
     * instance id and the pass-through properties do not set one already.
     */
    public Optional<String> groupInstanceId(String service) {
        if (clientOverrides.containsKey("group.instance.id")) {
            return Optional.empty();
        }
        return instanceId.map(id -> service + "-" + id);
    }

    /**
     * Makes a classic consumer of {@code service}'s group a static member: puts {@code group.instance.id} into
     * {@code consumer} when this instance has a stable id ({@link #groupInstanceId}); leaves it dynamic otherwise.
     * Returns the id set, if any.
     *
     * <p>Static membership pays off with the classic group protocol, where a static member that rejoins under its
     * id after a crash replaces its dead self at once and gets its old partitions back without a rebalance (KIP-345).
     * The consumer group protocol (KIP-848, {@code group.protocol=consumer}) refuses the restarted member with
     * UNRELEASED_INSTANCE_ID until the dead member's session has expired, and its broker-side session timeout is at
     * least 45 s by default, hence the warning.
     */
    public Optional<String> staticMembership(Properties consumer, String service) {
        Optional<String> id = groupInstanceId(service);
        id.ifPresent(v -> consumer.put("group.instance.id", v));
        if (id.isPresent()
                && "consumer"
                        .equalsIgnoreCase(
                                String.valueOf(consumer.get("group.protocol")).strip())) {
            LOG.warn(
                    "{} uses group.protocol=consumer with static "
                            + "membership ({}): after a crash the restarted instance is refused (UNRELEASED_INSTANCE_ID) until "
                            + "the dead member's session times out; group.protocol=classic takes its partitions back at once",
                    service,
                    id.get());
        }
        return id;
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
                + ", clientOverrides=" + clientOverrides.keySet() + ", instanceId=" + instanceId.orElse("(none)") + "]";
    }
}
