package dev.thoughtstream.common.service;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.logging.LogFormat;
import dev.thoughtstream.common.metrics.HttpEndpoints;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ChatActivity;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.redis.InMemoryChatActivity;
import dev.thoughtstream.common.redis.InMemoryClaimStore;
import dev.thoughtstream.common.redis.RedisChatActivity;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.common.tracing.Tracing;
import dev.thoughtstream.common.tracing.TracingSettings;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/**
 * What the services of one process share, built once: where Kafka is, the Redis client with the claims and the
 * staleness signal on it, the metrics registry, the clock, and the operators' HTTP endpoints. A deployed process
 * holds one service and one {@code Infra}; devstack holds four services and one {@code Infra}, so its claims,
 * signal and metrics are the same objects for all of them.
 *
 * <p>Redis is connected on first use, so a service that needs none (the chunker) never touches it. The in-memory
 * stand-ins ({@link Builder#inMemoryRedis()}) are devstack's labelled laptop fallback and nothing else.
 */
public final class Infra implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Infra.class);
    public static final String HTTP_PORT = "HTTP_PORT";
    public static final int DEFAULT_HTTP_PORT = 8080;

    /**
     * The shared settings, read and checked before anything starts.
     *
     * @param kafka    {@code KAFKA_*}, {@code TOPIC_*}, {@code INSTANCE_ID}
     * @param redis    {@code REDIS_*}; empty for a service that uses no Redis
     * @param httpPort {@code HTTP_PORT}: {@code /metrics} and {@code /health/*}; 0 = off
     * @param logFormat {@code LOG_FORMAT}: text or JSON lines
     * @param tracing  {@code OTEL_*}: where spans go, if anywhere
     */
    public record Settings(
            KafkaSettings kafka,
            Optional<RedisSettings> redis,
            int httpPort,
            LogFormat logFormat,
            TracingSettings tracing) {
        public static Settings from(Config config, boolean usesRedis) {
            return new Settings(
                    KafkaSettings.from(config),
                    usesRedis ? Optional.of(RedisSettings.from(config)) : Optional.empty(),
                    config.integer(HTTP_PORT, DEFAULT_HTTP_PORT, 0, 65535),
                    LogFormat.from(config),
                    TracingSettings.from(config));
        }
    }

    private final KafkaSettings kafka;
    private final Topics topics;
    private final Metrics metrics;
    private final Tracing tracing;
    private final Clock clock;
    /** Distinguishes this process from an earlier one under the same instance id (a restart). */
    private final String incarnation = UUID.randomUUID().toString().substring(0, 8);

    private final Optional<RedisSettings> redisSettings;
    private final boolean inMemory;
    private final Deque<AutoCloseable> closers = new ArrayDeque<>();

    private RedisClient redisClient;
    private ClaimStore claims;
    private ChatActivity activity;
    private boolean subscribed;
    private HttpEndpoints endpoints;
    private boolean closed;

    private Infra(Builder b) {
        this.kafka = b.kafka;
        this.topics = Topics.withPrefix(kafka.topicPrefix());
        this.metrics = b.metrics;
        this.tracing = b.tracing;
        // Last to close: the services' final spans are flushed after everything else has stopped.
        closers.push(tracing);
        this.clock = b.clock;
        this.redisSettings = b.redis;
        this.inMemory = b.inMemory;
    }

    /**
     * The production infrastructure from the checked settings: Redis when configured, a new metrics registry, tracing
     * when {@code OTEL_EXPORTER_OTLP_ENDPOINT} is set.
     */
    public static Infra create(Settings settings) {
        Builder b = builder(settings.kafka());
        settings.redis().ifPresent(b::redis);
        b.tracing(Tracing.from(settings.tracing(), settings.kafka().instanceId()));
        return b.build();
    }

    public static Builder builder(KafkaSettings kafka) {
        return new Builder(kafka);
    }

    /** How devstack, the bench and tests assemble an {@code Infra} from parts. */
    public static final class Builder {
        private final KafkaSettings kafka;
        private Metrics metrics = new Metrics();
        private Tracing tracing = Tracing.off();
        private Clock clock = Clock.systemUTC();
        private Optional<RedisSettings> redis = Optional.empty();
        private boolean inMemory;

        private Builder(KafkaSettings kafka) {
            this.kafka = Objects.requireNonNull(kafka, "kafka");
        }

        public Builder metrics(Metrics m) {
            this.metrics = Objects.requireNonNull(m, "metrics");
            return this;
        }

        /** Where the services' spans go (closed with the {@code Infra}); {@link Tracing#off()} by default. */
        public Builder tracing(Tracing t) {
            this.tracing = Objects.requireNonNull(t, "tracing");
            return this;
        }

        public Builder clock(Clock c) {
            this.clock = Objects.requireNonNull(c, "clock");
            return this;
        }

        public Builder redis(RedisSettings settings) {
            this.redis = Optional.of(settings);
            this.inMemory = false;
            return this;
        }

        /** LAPTOP FALLBACK ONLY: claims and the staleness signal inside this JVM (devstack without Redis). */
        public Builder inMemoryRedis() {
            this.redis = Optional.empty();
            this.inMemory = true;
            return this;
        }

        public Infra build() {
            return new Infra(this);
        }
    }

    public KafkaSettings kafka() {
        return kafka;
    }

    public Topics topics() {
        return topics;
    }

    public Metrics metrics() {
        return metrics;
    }

    /** The process's tracing; a service traces with {@code tracing().forService(its name)}. */
    public Tracing tracing() {
        return tracing;
    }

    public Clock clock() {
        return clock;
    }

    /** The stable instance id ({@code INSTANCE_ID}), if this process has one. */
    public Optional<String> instanceId() {
        return kafka.instanceId();
    }

    /**
     * This process's owner name for Redis claims: {@code <instanceId>#<incarnation>}, or {@code #<incarnation>}
     * without an instance id. A restarted process has the same instance id and another incarnation, which is how
     * it recognises what its dead predecessor left behind.
     */
    public String owner() {
        return instanceId().orElse("") + "#" + incarnation;
    }

    /** The Redis key prefix ({@code REDIS_KEY_PREFIX}); empty with the in-memory fallback. */
    public String redisKeyPrefix() {
        return redisSettings.map(RedisSettings::keyPrefix).orElse("");
    }

    /** True with devstack's in-memory fallback instead of Redis. */
    public boolean isInMemory() {
        return inMemory;
    }

    /** The Redis client (for the poller lease and the flood window); empty with the in-memory fallback. */
    public synchronized Optional<RedisClient> redis() {
        if (inMemory) {
            return Optional.empty();
        }
        connect();
        return Optional.of(redisClient);
    }

    /** The claims every service records in Redis. */
    public synchronized ClaimStore claims() {
        connect();
        return claims;
    }

    /** The staleness signal, for a service that only records it (ingest). */
    public synchronized ChatActivity activity() {
        connect();
        return activity;
    }

    /**
     * The staleness signal with its subscription up (llm-processor, emitter), waiting up to
     * {@link RedisChatActivity#SUBSCRIBE_WAIT} for it. Not being subscribed yet is not fatal: staleness is read from
     * the register until the subscription is up, and only work in flight is cancelled later than it could be.
     */
    public synchronized ChatActivity subscribedActivity() {
        connect();
        if (!subscribed && activity instanceof RedisChatActivity redisActivity) {
            try {
                if (!redisActivity.startSubscriber(RedisChatActivity.SUBSCRIBE_WAIT)) {
                    LOG.warn(
                            "not yet subscribed to the staleness signal after {}; it is read from Redis until then",
                            RedisChatActivity.SUBSCRIBE_WAIT);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while subscribing to the staleness signal", e);
            }
        }
        subscribed = true;
        return activity;
    }

    private void connect() {
        if (closed) {
            throw new IllegalStateException("the shared infrastructure is closed");
        }
        if (claims != null) {
            return;
        }
        if (inMemory) {
            claims = new InMemoryClaimStore(clock);
            activity = new InMemoryChatActivity();
        } else {
            RedisSettings settings = redisSettings.orElseThrow(
                    () -> new IllegalStateException("this service was not configured to use Redis"));
            redisClient = RedisClaimStore.connect(settings);
            claims = new RedisClaimStore(redisClient, settings.keyPrefix());
            activity = new RedisChatActivity(redisClient, settings.keyPrefix(), RedisChatActivity.SIGNAL_TTL);
        }
        closers.push(claims); // closes the client too, after the signal below
        closers.push(activity);
    }

    /**
     * Starts serving {@code /metrics} and {@code /health/*} on {@code port} (0: any free port); the services add
     * their readiness with {@link #readiness}.
     */
    public synchronized HttpEndpoints serveHttp(int port) {
        if (endpoints != null) {
            throw new IllegalStateException("already serving on port " + endpoints.port());
        }
        // A process that is scraped shows its JVM too; its binders (and the services' Kafka ones) stop on close.
        metrics.bindJvm();
        closers.push(metrics);
        endpoints = HttpEndpoints.start(port, metrics);
        closers.push(endpoints);
        return endpoints;
    }

    /** The endpoints, when {@link #serveHttp} was called. */
    public synchronized Optional<HttpEndpoints> endpoints() {
        return Optional.ofNullable(endpoints);
    }

    /** Adds {@code check} to {@code /health/ready} (when serving). */
    public synchronized void readiness(String name, BooleanSupplier check) {
        if (endpoints != null) {
            endpoints.check(name, check);
        }
    }

    /** Releases everything, in reverse order of creation. Close the services first. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        while (!closers.isEmpty()) {
            AutoCloseable c = closers.pop();
            try {
                c.close();
            } catch (Exception e) {
                LOG.warn(
                        "error while releasing {} (continuing): {}",
                        c.getClass().getSimpleName(),
                        e.toString());
            }
        }
    }
}
