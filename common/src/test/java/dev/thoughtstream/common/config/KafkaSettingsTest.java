package dev.thoughtstream.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class KafkaSettingsTest {

    @Test
    void bootstrapServersAreRequired() {
        ConfigException e = assertThrows(ConfigException.class, () -> KafkaSettings.from(Config.of(Map.of())));

        assertEquals("KAFKA_BOOTSTRAP_SERVERS", e.variable());
    }

    @Test
    void extraClientPropertiesPassThroughForRealClusters(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("client.properties");
        Files.writeString(file, "sasl.mechanism=PLAIN\nssl.truststore.location=/etc/ts.jks\n");

        KafkaSettings settings = KafkaSettings.from(Config.of(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "broker:9093",
                "KAFKA_CLIENT_SECURITY_PROTOCOL", "SASL_SSL",
                "KAFKA_CLIENT_SASL_MECHANISM", "SCRAM-SHA-512",
                "KAFKA_CLIENT_PROPERTIES_FILE", file.toString())));
        Properties props = settings.clientProperties();

        assertEquals("broker:9093", props.getProperty("bootstrap.servers"));
        assertEquals("SASL_SSL", props.getProperty("security.protocol"));
        assertEquals("SCRAM-SHA-512", props.getProperty("sasl.mechanism"), "variables win over the file");
        assertEquals("/etc/ts.jks", props.getProperty("ssl.truststore.location"));
        assertFalse(props.containsKey("properties.file"));
    }

    @Test
    void toStringNamesOverridesButNotTheirValues() {
        KafkaSettings settings = KafkaSettings.from(Config.of(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "b:1",
                "KAFKA_CLIENT_SASL_JAAS_CONFIG",
                        "org.apache.kafka...PlainLoginModule required password=\"hunter2\";")));

        assertTrue(settings.toString().contains("sasl.jaas.config"));
        assertFalse(settings.toString().contains("hunter2"));
    }

    @Test
    void topicLayoutDefaultsAndOverrides() {
        KafkaSettings defaults = KafkaSettings.from(Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "b:1")));
        KafkaSettings custom = KafkaSettings.from(Config.of(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS",
                "b:1",
                "TOPIC_PREFIX",
                "prod.",
                "TOPIC_PARTITIONS",
                "12",
                "TOPIC_REPLICATION_FACTOR",
                "3")));

        assertEquals("", defaults.topicPrefix());
        assertEquals(6, defaults.partitions());
        assertEquals(Optional.empty(), defaults.replicationFactor());
        assertEquals("prod.", custom.topicPrefix());
        assertEquals(12, custom.partitions());
        assertEquals(Optional.of((short) 3), custom.replicationFactor());
    }

    @Test
    void staticMembershipSetsTheGroupInstanceIdOnlyWithAnInstanceId() {
        // given one instance with an id and one without
        KafkaSettings named =
                KafkaSettings.from(Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "b:1", "INSTANCE_ID", "node-2")));
        KafkaSettings anonymous = KafkaSettings.from(Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "b:1")));
        Properties namedConsumer = named.clientProperties();
        Properties anonymousConsumer = anonymous.clientProperties();

        // when each makes its consumer of the emitter's group a static member
        Optional<String> set = named.staticMembership(namedConsumer, "emitter");
        Optional<String> none = anonymous.staticMembership(anonymousConsumer, "emitter");

        // then only the named one has a group.instance.id, which names the service and the instance
        assertEquals(Optional.of("emitter-node-2"), set);
        assertEquals("emitter-node-2", namedConsumer.get("group.instance.id"));
        assertEquals(Optional.empty(), none);
        assertFalse(anonymousConsumer.containsKey("group.instance.id"));
    }

    @Test
    void aContainersHostnameIsTheInstanceIdUnlessInstanceIdIsSet() {
        // given a container's HOSTNAME, with and without INSTANCE_ID
        KafkaSettings fromHostname =
                KafkaSettings.from(Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "b:1", "HOSTNAME", "3f2a9c1b7d4e")));
        KafkaSettings explicit = KafkaSettings.from(Config.of(
                Map.of("KAFKA_BOOTSTRAP_SERVERS", "b:1", "HOSTNAME", "3f2a9c1b7d4e", "INSTANCE_ID", "emitter-1")));

        // then the explicit id wins, and the hostname serves otherwise
        assertEquals(Optional.of("3f2a9c1b7d4e"), fromHostname.instanceId());
        assertEquals(Optional.of("emitter-1"), explicit.instanceId());
    }

    @Test
    void aMissingPropertiesFileFailsNamingTheVariable() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> KafkaSettings.from(Config.of(Map.of(
                        "KAFKA_BOOTSTRAP_SERVERS",
                        "b:1",
                        "KAFKA_CLIENT_PROPERTIES_FILE",
                        "/nonexistent/x.properties"))));

        assertEquals("KAFKA_CLIENT_PROPERTIES_FILE", e.variable());
    }
}
