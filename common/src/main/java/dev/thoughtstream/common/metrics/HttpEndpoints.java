package dev.thoughtstream.common.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.thoughtstream.common.net.HttpServers;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The operators' HTTP endpoints of a service (port {@code HTTP_PORT}): {@code /metrics} (Prometheus text),
 * {@code /health/live} (the process answers) and {@code /health/ready} (every registered check passes; 503 and
 * the failing checks otherwise, e.g. "polling" when ingest's poller died, or "starting" while none is registered).
 */
public final class HttpEndpoints implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(HttpEndpoints.class);

    private final HttpServer server;
    private final ExecutorService executor;
    private final Metrics metrics;
    private final Map<String, BooleanSupplier> checks = new LinkedHashMap<>();

    private HttpEndpoints(HttpServer server, ExecutorService executor, Metrics metrics) {
        this.server = server;
        this.executor = executor;
        this.metrics = metrics;
    }

    /** Starts serving on {@code port} (0 = a free port) on all interfaces, as a container's probes need. */
    public static HttpEndpoints start(int port, Metrics metrics) {
        HttpServer server;
        try {
            server = HttpServers.create(new InetSocketAddress(port), 0);
        } catch (IOException e) {
            throw new IllegalStateException(
                    "cannot serve metrics and health on port " + port + ": " + e.getMessage(), e);
        }
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "http-endpoints");
            t.setDaemon(true);
            return t;
        });
        HttpEndpoints endpoints = new HttpEndpoints(server, executor, metrics);
        server.setExecutor(executor);
        server.createContext("/metrics", endpoints::metrics);
        server.createContext("/health/live", ex -> respond(ex, 200, "text/plain", "ok\n"));
        server.createContext("/health/ready", endpoints::ready);
        server.start();
        LOG.info("metrics and health on port {}", endpoints.port());
        return endpoints;
    }

    /** Adds a readiness check; {@code name} shows in the response when it fails. */
    public synchronized HttpEndpoints check(String name, BooleanSupplier healthy) {
        checks.put(name, healthy);
        return this;
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private void metrics(HttpExchange ex) throws IOException {
        respond(ex, 200, Metrics.CONTENT_TYPE, metrics.scrape());
    }

    private void ready(HttpExchange ex) throws IOException {
        StringBuilder failing = new StringBuilder();
        synchronized (this) {
            if (checks.isEmpty()) {
                // The endpoints start before the service is built (so a failing start can still be scraped); until
                // the service has registered its check, the process is starting, not ready.
                failing.append("starting");
            }
            for (Map.Entry<String, BooleanSupplier> c : checks.entrySet()) {
                boolean ok;
                try {
                    ok = c.getValue().getAsBoolean();
                } catch (RuntimeException e) {
                    ok = false;
                }
                if (!ok) {
                    failing.append(failing.length() == 0 ? "" : ",").append(c.getKey());
                }
            }
        }
        if (failing.length() == 0) {
            respond(ex, 200, "text/plain", "ready\n");
        } else {
            respond(ex, 503, "text/plain", "not ready: " + failing + "\n");
        }
    }

    private static void respond(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
