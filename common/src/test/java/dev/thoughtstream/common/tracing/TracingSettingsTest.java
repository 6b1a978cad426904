package dev.thoughtstream.common.tracing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.service.Infra;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** The OTEL_* variables: tracing on only with an endpoint, and a bad value stops the service naming it. */
class TracingSettingsTest {
    private static TracingSettings read(Map<String, String> env) {
        return TracingSettings.from(Config.of(env));
    }

    @Test
    void tracingIsOffUnlessAnEndpointIsSet() {
        assertFalse(read(Map.of()).enabled());
        assertFalse(read(Map.of(TracingSettings.ENDPOINT, "  ")).enabled());
        assertEquals(Optional.empty(), read(Map.of()).tracesUrl());
    }

    @Test
    void spansGoToTheSignalPathUnderTheEndpoint() {
        assertEquals(
                Optional.of("http://jaeger:4318/v1/traces"),
                read(Map.of(TracingSettings.ENDPOINT, "http://jaeger:4318")).tracesUrl());
        assertEquals(
                Optional.of("https://otel.example.com/collector/v1/traces"),
                read(Map.of(TracingSettings.ENDPOINT, "https://otel.example.com/collector/"))
                        .tracesUrl());
    }

    @Test
    void anEndpointThatIsNotAnHttpUrlFailsNamingTheVariable() {
        for (String bad : new String[] {"jaeger:4318", "grpc://jaeger:4317", "http://", "http://jaeger:4318/?x=1"}) {
            ConfigException e =
                    assertThrows(ConfigException.class, () -> read(Map.of(TracingSettings.ENDPOINT, bad)), bad);
            assertEquals(TracingSettings.ENDPOINT, e.variable());
        }
    }

    @Test
    void onlyTheHttpProtobufProtocolIsAccepted() {
        assertTrue(read(Map.of(TracingSettings.ENDPOINT, "http://c:4318", TracingSettings.PROTOCOL, "http/protobuf"))
                .enabled());
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> read(Map.of(TracingSettings.ENDPOINT, "http://c:4317", TracingSettings.PROTOCOL, "grpc")));
        assertEquals(TracingSettings.PROTOCOL, e.variable());
    }

    @Test
    void serviceNameAndResourceAttributesAreRead() {
        TracingSettings s = read(Map.of(
                TracingSettings.SERVICE_NAME, "bot-ingest",
                TracingSettings.RESOURCE_ATTRIBUTES, "deployment.environment=prod, team=chat%20ops"));
        assertEquals(Optional.of("bot-ingest"), s.serviceName());
        assertEquals(Map.of("deployment.environment", "prod", "team", "chat ops"), s.resourceAttributes());
    }

    @Test
    void resourceAttributesThatAreNotKeyValuePairsFailNamingTheVariable() {
        for (String bad : new String[] {"prod", "=prod", "a=%zz"}) {
            ConfigException e = assertThrows(
                    ConfigException.class, () -> read(Map.of(TracingSettings.RESOURCE_ATTRIBUTES, bad)), bad);
            assertEquals(TracingSettings.RESOURCE_ATTRIBUTES, e.variable());
        }
    }

    @Test
    void everyServicesSharedSettingsCarryTracingAndRefuseABadEndpointBeforeAnythingStarts() {
        // Given the variables every service reads, with a collector
        Config config = Config.of(
                Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092", TracingSettings.ENDPOINT, "http://jaeger:4318"));

        // Then the shared infrastructure built from them traces, each service under its own tracer
        Infra.Settings settings = Infra.Settings.from(config, false);
        try (Infra infra = Infra.create(settings)) {
            assertTrue(infra.tracing().enabled());
            assertTrue(infra.tracing().forService("chunker").enabled());
        }
        // And without the endpoint it does not
        try (Infra infra =
                Infra.create(Infra.Settings.from(Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "k:9092")), false))) {
            assertFalse(infra.tracing().enabled());
        }

        // And a bad endpoint stops the service at its settings, naming the variable
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> Infra.Settings.from(
                        Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092", TracingSettings.ENDPOINT, "jaeger")),
                        false));
        assertEquals(TracingSettings.ENDPOINT, e.variable());
    }
}
