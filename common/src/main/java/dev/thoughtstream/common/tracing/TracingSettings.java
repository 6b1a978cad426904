package dev.thoughtstream.common.tracing;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * The OpenTelemetry variables a service reads, under their standard names (the OpenTelemetry SDK environment
 * variable specification): tracing is on exactly when {@value #ENDPOINT} is set.
 *
 * @param endpoint           {@value #ENDPOINT}: the collector's OTLP/http base URL; spans go to
 *                           {@code <endpoint>/v1/traces}. Empty: tracing is off and costs nothing
 * @param serviceName        {@value #SERVICE_NAME}: replaces each service's own {@code service.name}
 * @param resourceAttributes {@value #RESOURCE_ATTRIBUTES}: more resource attributes ({@code key=value,...})
 */
public record TracingSettings(
        Optional<URI> endpoint, Optional<String> serviceName, Map<String, String> resourceAttributes) {
    public static final String ENDPOINT = "OTEL_EXPORTER_OTLP_ENDPOINT";
    public static final String PROTOCOL = "OTEL_EXPORTER_OTLP_PROTOCOL";
    public static final String SERVICE_NAME = "OTEL_SERVICE_NAME";
    public static final String RESOURCE_ATTRIBUTES = "OTEL_RESOURCE_ATTRIBUTES";
    /** The only OTLP transport shipped (the exporter sends with the JDK's HttpClient; no gRPC). */
    public static final String HTTP_PROTOBUF = "http/protobuf";

    public static final TracingSettings OFF = new TracingSettings(Optional.empty(), Optional.empty(), Map.of());

    public TracingSettings {
        resourceAttributes = Map.copyOf(resourceAttributes);
    }

    /** Reads and checks every variable, whether tracing is on or not, so a typo fails before anything starts. */
    public static TracingSettings from(Config config) {
        Optional<URI> endpoint =
                config.isSet(ENDPOINT) ? Optional.of(config.httpUrl(ENDPOINT, null)) : Optional.empty();
        endpoint.ifPresent(TracingSettings::checkBase);
        Optional<String> protocol = config.optional(PROTOCOL);
        if (protocol.isPresent() && !protocol.get().equals(HTTP_PROTOBUF)) {
            throw new ConfigException(
                    PROTOCOL, "only " + HTTP_PROTOBUF + " is supported (no gRPC) but was '" + protocol.get() + "'");
        }
        Optional<String> serviceName = config.optional(SERVICE_NAME);
        Map<String, String> attributes = config.optional(RESOURCE_ATTRIBUTES)
                .map(TracingSettings::attributes)
                .orElse(Map.of());
        return new TracingSettings(endpoint, serviceName, attributes);
    }

    public boolean enabled() {
        return endpoint.isPresent();
    }

    /** Where spans are posted: the signal path {@code v1/traces} appended to the base URL, as the spec says. */
    public Optional<String> tracesUrl() {
        return endpoint.map(uri -> {
            String base = uri.toString();
            return (base.endsWith("/") ? base : base + "/") + "v1/traces";
        });
    }

    private static void checkBase(URI uri) {
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw new ConfigException(
                    ENDPOINT,
                    "expected a base URL without query or fragment (spans go to <url>/v1/traces) but was '" + uri
                            + "'");
        }
    }

    /** {@code key1=value1,key2=value2}, values percent-encoded (the W3C Baggage format the spec names). */
    private static Map<String, String> attributes(String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        for (String pair : raw.split(",")) {
            if (pair.isBlank()) {
                continue;
            }
            int eq = pair.indexOf('=');
            String key = eq < 0 ? "" : pair.substring(0, eq).strip();
            if (key.isEmpty()) {
                throw new ConfigException(
                        RESOURCE_ATTRIBUTES, "expected key=value pairs separated by commas but found '" + pair + "'");
            }
            try {
                out.put(key, URLDecoder.decode(pair.substring(eq + 1).strip(), StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                throw new ConfigException(
                        RESOURCE_ATTRIBUTES, "the value of '" + key + "' is not valid percent-encoding");
            }
        }
        return out;
    }
}
