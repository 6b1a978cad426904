package dev.thoughtstream.devstack;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.metrics.HttpEndpoints;
import dev.thoughtstream.common.service.Infra;
import java.util.Optional;

/**
 * devstack's one operators' endpoint for all four services, on {@code HTTP_PORT} (default 8080, as for a service on
 * its own; 0 turns it off): {@code /metrics} with every service's series in one registry, {@code /health/live}, and
 * {@code /health/ready}, which is 200 only while every service is ready (503 naming the ones that are not, or
 * "starting" before they are built). It starts before the services, so a start that hangs can be looked at.
 */
final class DevStackHttp {
    private DevStackHttp() {}

    /** The port {@code HTTP_PORT} asks for; 0: no endpoint. */
    static int port(Config config) {
        return config.integer(Infra.HTTP_PORT, Infra.DEFAULT_HTTP_PORT, 0, 65535);
    }

    /**
     * Serves the endpoint for {@code infra}'s services, unless {@code HTTP_PORT} is 0.
     *
     * @throws ConfigException naming {@code HTTP_PORT} when the port cannot be had (another program holds it)
     */
    static Optional<HttpEndpoints> serve(Config config, Infra infra) {
        int port = port(config);
        if (port == 0) {
            return Optional.empty();
        }
        try {
            return Optional.of(infra.serveHttp(port));
        } catch (IllegalStateException e) {
            String why = e.getCause() == null ? e.getMessage() : e.getCause().getMessage();
            throw new ConfigException(
                    Infra.HTTP_PORT,
                    "cannot serve /metrics and /health on port " + port + " (" + why
                            + "); set it to a free port, or to 0 for none");
        }
    }

    /** For the ready line: where the metrics and the readiness are. */
    static String describe(HttpEndpoints endpoints) {
        String base = "http://localhost:" + endpoints.port();
        return "metrics " + base + "/metrics, health " + base + "/health/ready";
    }
}
