package dev.thoughtstream.ingest.webhook;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.net.HttpServers;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.ingest.write.WriteOutcome;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The endpoint Telegram POSTs updates to (plain HTTP: TLS is terminated in front of it). It checks the path, the
 * method, the secret header (in constant time) and the body, hands an Update to the sink and answers 200 only once
 * the sink reports it written, else 503 (500 when writing failed unexpectedly) so Telegram retries; nothing is
 * written for any non-2xx answer. The answer to an update is sent by whichever thread completes the sink's future, so
 * a request thread never waits for Kafka. The answers: docs/ingest.md, "Per request". Each is counted in
 * {@code ingest_webhook_requests_total{status}}.
 */
public final class WebhookServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookServer.class);
    static final String SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token";
    /** Telegram's updates are a few KB; anything far bigger is not from Telegram. */
    static final int MAX_BODY_BYTES = 1 << 20;

    /**
     * Where accepted updates go; returns at once, with a future completed once the update is written or given up on
     * (exceptionally when writing it failed unexpectedly).
     */
    @FunctionalInterface
    interface UpdateSink {
        CompletableFuture<WriteOutcome> write(JsonNode update);
    }

    private final int requestedPort;
    private final String path;
    private final byte[] secret;
    private final UpdateSink sink;
    private final Metrics metrics;
    private final int threads;
    private final ObjectMapper mapper = Json.mapper();
    /** {@code ingest_webhook_requests_total} by status, looked up once each. */
    private final Map<Integer, Metrics.Counter> requests = new ConcurrentHashMap<>();

    private HttpServer server;
    private ExecutorService executor;

    /**
     * @param threads requests read and checked at once; they do not wait for the sink, so connections waiting for
     *                their answer hold no thread (Telegram opens up to {@code max_connections})
     */
    WebhookServer(int port, String path, Secret secret, UpdateSink sink, Metrics metrics, int threads) {
        this.requestedPort = port;
        this.path = path;
        this.secret = secret.reveal().getBytes(StandardCharsets.UTF_8);
        this.sink = sink;
        this.metrics = metrics;
        this.threads = threads;
    }

    /** Binds and serves. @throws UncheckedIOException naming the port when it cannot be bound */
    synchronized WebhookServer start() {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor pool =
                new ThreadPoolExecutor(threads, threads, 30, TimeUnit.SECONDS, new LinkedBlockingQueue<>(), r -> {
                    Thread t = new Thread(r, "ingest-webhook-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                });
        pool.allowCoreThreadTimeOut(true);
        try {
            server = HttpServers.create(new InetSocketAddress(requestedPort), 64);
        } catch (IOException e) {
            pool.shutdownNow();
            throw new UncheckedIOException("the webhook endpoint cannot bind port " + requestedPort, e);
        }
        executor = pool;
        server.setExecutor(pool);
        // One root context: HttpServer's prefix matching would also route /path-suffix here.
        server.createContext("/", this::handle);
        server.start();
        LOG.info("webhook endpoint listening on port {}", port());
        return this;
    }

    synchronized int port() {
        return server.getAddress().getPort();
    }

    /**
     * Checks the request and hands an update to the sink without waiting for it: the thread that completes the
     * sink's future (the batch writer) answers, so no request thread is parked while Kafka acknowledges a batch.
     */
    private void handle(HttpExchange exchange) {
        Verdict verdict;
        try {
            verdict = judge(exchange);
        } catch (IOException | RuntimeException e) {
            // The client went away or a bug: logged and counted, never fatal to the server.
            LOG.warn("webhook request failed: {}", e.toString());
            exchange.close();
            count(-1);
            return;
        }
        if (verdict.update() == null) {
            answer(exchange, verdict.status());
            return;
        }
        JsonNode update = verdict.update();
        CompletableFuture<WriteOutcome> written;
        try {
            written = sink.write(update);
        } catch (RuntimeException e) {
            LOG.error("update {} could not be handed to the writer; answering 500", updateId(update), e);
            answer(exchange, 500);
            return;
        }
        written.whenComplete((outcome, failure) -> answer(exchange, status(update, outcome, failure)));
    }

    /** What a checked request gets: an answer at once, or (status 0) its update for the sink. */
    private record Verdict(int status, JsonNode update) {
        static Verdict answer(int status) {
            return new Verdict(status, null);
        }
    }

    private static int status(JsonNode update, WriteOutcome outcome, Throwable failure) {
        if (failure != null) {
            // Logged with its batch by the writer; Telegram retries on any non-2xx.
            LOG.warn(
                    "update {} not written (the batch failed); answering 500 so Telegram delivers it again",
                    updateId(update));
            return 500;
        }
        if (outcome == WriteOutcome.WRITTEN) {
            return 200;
        }
        LOG.warn("update {} not written ({}); answering 503 so Telegram delivers it again", updateId(update), outcome);
        return 503;
    }

    private static long updateId(JsonNode update) {
        return update.path("update_id").asLong();
    }

    /** Sends the status without a body and ends the exchange; counted in {@code ingest_webhook_requests_total}. */
    private void answer(HttpExchange exchange, int status) {
        try (exchange) {
            exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
            if (status >= 500) {
                exchange.getResponseHeaders().set("Retry-After", "1");
            }
            exchange.sendResponseHeaders(status, -1);
        } catch (IOException | RuntimeException e) {
            // The client went away (or the server is stopping): Telegram retries what it got no answer for.
            LOG.warn("webhook request failed: {}", e.toString());
            status = -1;
        }
        count(status);
    }

    private void count(int status) {
        requests.computeIfAbsent(
                        status,
                        s -> metrics.counter(
                                "ingest_webhook_requests_total",
                                "Webhook requests by HTTP status answered (-1: failed)",
                                "status",
                                Integer.toString(s)))
                .increment();
    }

    private Verdict judge(HttpExchange exchange) throws IOException {
        if (!exchange.getRequestURI().getPath().equals(path)) {
            return Verdict.answer(404);
        }
        if (!"POST".equals(exchange.getRequestMethod())) {
            return Verdict.answer(405);
        }
        String given = exchange.getRequestHeaders().getFirst(SECRET_HEADER);
        if (given == null) {
            LOG.warn("webhook request from {} without the secret token header; refused", exchange.getRemoteAddress());
            return Verdict.answer(401);
        }
        if (!MessageDigest.isEqual(secret, given.getBytes(StandardCharsets.UTF_8))) {
            LOG.warn("webhook request from {} with a wrong secret token; refused", exchange.getRemoteAddress());
            return Verdict.answer(403);
        }
        byte[] body = readBody(exchange.getRequestBody());
        if (body == null) {
            return Verdict.answer(413);
        }
        JsonNode update;
        try {
            update = mapper.readTree(body);
        } catch (JsonProcessingException e) {
            LOG.warn("webhook request with malformed JSON ({} bytes): {}", body.length, e.getOriginalMessage());
            return Verdict.answer(400);
        }
        if (update == null || !update.isObject() || !update.path("update_id").canConvertToLong()) {
            LOG.warn("webhook request whose JSON is not a Telegram Update ({} bytes, no update_id)", body.length);
            return Verdict.answer(400);
        }
        return new Verdict(0, update);
    }

    /** The body, or null when it is longer than {@link #MAX_BODY_BYTES}. */
    private static byte[] readBody(InputStream in) throws IOException {
        byte[] body = in.readNBytes(MAX_BODY_BYTES + 1);
        return body.length > MAX_BODY_BYTES ? null : body;
    }

    /** Stops accepting and lets requests in progress finish for up to a second. */
    synchronized void stopAccepting() {
        if (server != null) {
            server.stop(1);
            server = null;
        }
    }

    /** {@link #stopAccepting()}, then stops the request threads. */
    @Override
    public synchronized void close() {
        stopAccepting();
        if (executor != null) {
            executor.shutdownNow();
            try {
                if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
                    LOG.warn("webhook threads did not stop within 5 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            executor = null;
        }
    }
}
