package dev.thoughtstream.devstack;

import dev.thoughtstream.chunker.ChunkerFactory;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.metrics.HttpEndpoints;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.service.ServiceFactory;
import dev.thoughtstream.common.tracing.Tracing;
import dev.thoughtstream.common.tracing.TracingSettings;
import dev.thoughtstream.emitter.EmitterFactory;
import dev.thoughtstream.ingest.IngestFactory;
import dev.thoughtstream.llm.LlmProcessorFactory;
import dev.thoughtstream.testkit.kafka.EmbeddedKafka;
import dev.thoughtstream.testkit.redis.RedisServer;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The whole pipeline in one JVM: an embedded Kafka broker, Redis, the Telegram emulator with its web chat, and
 * the four services, each built by its module's {@link ServiceFactory} as the launcher builds it, over one shared
 * {@link Infra}. Whatever the configuration names (a broker, Redis, a bot token, an LLM) is used instead of the
 * local stand-in.
 */
public final class DevStack implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DevStack.class);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
    /** The token devstack's (and the launcher's {@code emulator}'s) Telegram emulator accepts; it reaches no bot. */
    public static final String OFFLINE_TOKEN = DevStackConfig.OFFLINE_TOKEN;

    private final Deque<Runnable> closers = new ArrayDeque<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Map<String, String> resolved = new HashMap<>();
    private final Map<String, Service> byName = new HashMap<>();
    /** One registry for the services of this JVM, as the Metrics class intends. */
    private final Metrics metrics = new Metrics();

    private TelegramEmulator emulator;
    private Infra infra;
    private HttpEndpoints endpoints;
    private String kafkaDescription;
    private String redisDescription;
    private String llmDescription;
    private boolean closed;

    private DevStack() {}

    /** Reads and checks devstack's own variables ({@code DEVSTACK_*}, {@code EMULATOR_PORT}). */
    public static void validate(Config config) {
        DevStackConfig.from(config);
    }

    /** Starts everything; on failure, stops what was already started and rethrows. */
    public static DevStack start(Config config) {
        return start(config, null);
    }

    /**
     * As {@link #start(Config)}, the four services' spans going to {@code tracing} (closed with the stack) instead of
     * where {@code OTEL_EXPORTER_OTLP_ENDPOINT} says: how a test looks at one thought's whole trace.
     */
    public static DevStack start(Config config, Tracing tracing) {
        DevStack stack = new DevStack();
        try {
            stack.startAll(config, tracing);
            return stack;
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        }
    }

    private void startAll(Config base, Tracing tracing) {
        DevStackConfig dev = DevStackConfig.from(base);
        Clock clock = Clock.systemUTC();

        if (dev.externalKafka()) {
            kafkaDescription = base.required(KafkaSettings.BOOTSTRAP) + " (external)";
        } else {
            EmbeddedKafka kafka = EmbeddedKafka.start(dev.dataDir().resolve("kafka"), dev.kafkaPort());
            closers.push(kafka::close);
            resolved.put(KafkaSettings.BOOTSTRAP, kafka.bootstrapServers());
            kafkaDescription = kafka.bootstrapServers() + " (embedded, data in "
                    + dev.dataDir().resolve("kafka") + ")";
        }

        Optional<RedisSettings> redis = startRedis(base, dev);

        if (dev.realTelegram()) {
            LOG.info(
                    "TG_BOT_TOKEN is set: talking to {} instead of the emulator",
                    base.string(TelegramSettings.API_URL, TelegramSettings.DEFAULT_API_URL));
        } else {
            // The chats are kept beside the pipeline's state, which remembers them; ids start above any handed out
            // before even if the emulator's directory was deleted, as Telegram never reuses one.
            emulator = TelegramEmulator.builder()
                    .port(dev.emulatorPort())
                    .botToken(DevStackConfig.OFFLINE_TOKEN)
                    .stateDirectory(dev.dataDir().resolve("emulator"))
                    .idsAbovePreviousRuns(clock)
                    .build()
                    .start();
            closers.push(emulator::close);
            resolved.put(TelegramSettings.TOKEN, DevStackConfig.OFFLINE_TOKEN);
            resolved.put(TelegramSettings.API_URL, emulator.baseUrl());
        }
        if (!base.isSet("STREAMS_STATE_DIR")) {
            // Beside the broker's data, so deleting the data directory starts both afresh; a directory the user
            // names is theirs.
            resolved.put(
                    "STREAMS_STATE_DIR", dev.dataDir().resolve("chunker-state").toString());
        }

        // What the user set wins over devstack's defaults; devstack's resolved endpoints win over both.
        Config config =
                Config.of(Map.of()).with(devDefaults()).with(asMap(base)).with(resolved);

        // One Infra for the four services: the same claims, staleness signal, metrics and endpoint.
        Infra.Builder shared =
                Infra.builder(KafkaSettings.from(config)).metrics(metrics).clock(clock);
        // Each service gets its own service.name in the trace viewer, as a deployment's do.
        shared.tracing(tracing != null ? tracing : Tracing.from(TracingSettings.from(config), Optional.empty()));
        if (redis.isPresent()) {
            shared.redis(redis.get());
        } else {
            shared.inMemoryRedis();
        }
        infra = shared.build();
        closers.push(infra::close);
        endpoints = DevStackHttp.serve(config, infra).orElse(null);

        // Built first, all of them, so a bad setting stops devstack before any service starts.
        List<Service> services = new ArrayList<>();
        for (ServiceFactory factory : FACTORIES) {
            Service service = factory.create(config, infra);
            services.add(service);
            byName.put(factory.name(), service);
            infra.readiness(factory.name(), service::isReady);
        }
        // Downstream first, so nothing waits on a stage that is not there yet; intake last.
        for (Service service : services) {
            closers.push(service::close);
            service.start();
            awaitReady(service);
        }
        // Once started: with what the llm-processor's provider probe found (unreachable, model missing, ...).
        llmDescription = LlmProcessorFactory.describe(config, services);
    }

    /** Downstream first: emitter, llm-processor, chunker, then ingest. */
    static final List<ServiceFactory> FACTORIES =
            List.of(new EmitterFactory(), new LlmProcessorFactory(), new ChunkerFactory(), new IngestFactory());

    private static void awaitReady(Service service) {
        try {
            if (!service.awaitReady(READY_TIMEOUT)) {
                throw new IllegalStateException(service.name() + " was not ready within " + READY_TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting " + service.name(), e);
        }
    }

    /** Redis as configured or started here; empty: (loudly) the in-memory fallback. */
    private Optional<RedisSettings> startRedis(Config base, DevStackConfig dev) {
        if (dev.externalRedis()) {
            RedisSettings settings = RedisSettings.from(base);
            redisDescription = settings.url().getHost() + ":" + settings.url().getPort() + " (external)";
            return Optional.of(settings);
        }
        if (RedisServer.findExecutable().isPresent()) {
            RedisServer redis = RedisServer.start(dev.dataDir().resolve("redis"), 0);
            closers.push(redis::close);
            resolved.put(RedisSettings.URL, redis.url().toString());
            redisDescription = redis.url() + " (redis-server started by devstack)";
            return Optional.of(RedisSettings.from(base.with(resolved)));
        }
        redisDescription = "IN-MEMORY (no Redis: duplicates possible after a restart)";
        LOG.warn("*** no REDIS_URL/REDIS_HOST and no redis-server installed: using an IN-MEMORY claim store and "
                + "staleness signal. Laptop use only. Install redis-server (apt-get install redis-server) or set "
                + "REDIS_URL. ***");
        return Optional.empty();
    }

    /** The metrics of every service in this JVM. */
    public Metrics metrics() {
        return metrics;
    }

    /** A laptop demo should feel like a person typing; every one of these can be overridden. */
    static Map<String, String> devDefaults() {
        return Map.of(
                "LLM_PROVIDER", "scripted",
                "SCRIPTED_LATENCY_MS", "400",
                "SCRIPTED_TOKENS_PER_SECOND", "40",
                "TOPIC_PARTITIONS", "3");
    }

    private static Map<String, String> asMap(Config config) {
        return config.withPrefix("");
    }

    /** The web chat's address, when devstack runs the emulator. */
    public java.util.Optional<String> webChatUrl() {
        return emulator == null
                ? java.util.Optional.empty()
                : java.util.Optional.of("http://localhost:" + emulator.port() + "/");
    }

    /** The emulator devstack runs, if any. */
    public java.util.Optional<TelegramEmulator> emulator() {
        return java.util.Optional.ofNullable(emulator);
    }

    /** The one line that says everything is up; it begins with {@code thoughtstream ready}. */
    public String readyLine() {
        String chat = webChatUrl().map(u -> "web chat " + u).orElse("talking to the Telegram Bot API (no web chat)");
        String http = endpoints == null ? "" : " | " + DevStackHttp.describe(endpoints);
        return "thoughtstream ready: " + chat + " | kafka " + kafkaDescription + " | redis " + redisDescription
                + " | llm " + llmDescription + http;
    }

    /** One of the four services, by its launcher name (for tests). */
    Optional<Service> service(String name) {
        return Optional.ofNullable(byName.get(name));
    }

    /** The shared infrastructure of the four services. */
    public Infra infra() {
        return infra;
    }

    public void awaitStopped() throws InterruptedException {
        stopped.await();
    }

    public boolean awaitStopped(long timeout, TimeUnit unit) throws InterruptedException {
        return stopped.await(timeout, unit);
    }

    /** Stops everything in reverse order of starting: intake first, the broker last. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        while (!closers.isEmpty()) {
            try {
                closers.pop().run();
            } catch (RuntimeException e) {
                LOG.warn("error while stopping devstack (continuing): {}", e.toString());
            }
        }
        stopped.countDown();
    }
}
