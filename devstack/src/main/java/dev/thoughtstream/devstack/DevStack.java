package dev.thoughtstream.devstack;

import dev.thoughtstream.chunker.ChunkerConfig;
import dev.thoughtstream.chunker.ChunkerService;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ChatActivity;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.redis.InMemoryChatActivity;
import dev.thoughtstream.common.redis.InMemoryClaimStore;
import dev.thoughtstream.common.redis.RedisChatActivity;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.emitter.EmitterConfig;
import dev.thoughtstream.emitter.EmitterService;
import dev.thoughtstream.emitter.EmitterThreads;
import dev.thoughtstream.emitter.TelegramClients;
import dev.thoughtstream.ingest.InMemoryFloodWindow;
import dev.thoughtstream.ingest.IngestConfig;
import dev.thoughtstream.ingest.IngestService;
import dev.thoughtstream.ingest.IntakeRules;
import dev.thoughtstream.ingest.IntakeSetup;
import dev.thoughtstream.ingest.PollerLease;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.LlmProcessor;
import dev.thoughtstream.llm.ModelFactory;
import dev.thoughtstream.llm.ReplyGenerator;
import dev.thoughtstream.testkit.kafka.EmbeddedKafka;
import dev.thoughtstream.testkit.redis.RedisServer;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/**
 * The whole pipeline in one JVM: an embedded Kafka broker, Redis, the Telegram emulator with its web chat, and
 * the four services wired exactly as their own {@code Main}s wire them. Whatever the configuration names
 * (a broker, Redis, a bot token, an LLM) is used instead of the local stand-in.
 */
public final class DevStack implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DevStack.class);
    /** How long a chat's newest message id is kept in the staleness signal (as ingest's own Main keeps it). */
    private static final Duration ACTIVITY_TTL = Duration.ofDays(1);
    private static final Duration SUBSCRIBE_WAIT = Duration.ofSeconds(5);

    /**
     * Redis, or the in-memory laptop fallback: the claims and the staleness signal every service shares, and the
     * Redis client for ingest's poller lease (null with the in-memory fallback: see {@link #startRedis}).
     */
    private record Shared(ClaimStore claims, ChatActivity activity, RedisClient client) {}

    private final Deque<Runnable> closers = new ArrayDeque<>();
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final Map<String, String> resolved = new HashMap<>();
    /** One registry for the services of this JVM, as the Metrics class intends. */
    private final Metrics metrics = new Metrics();
    private TelegramEmulator emulator;
    private String kafkaDescription;
    private String redisDescription;
    private String llmDescription;
    private boolean closed;

    private DevStack() {}

    /** Starts everything; on failure, stops what was already started and rethrows. */
    public static DevStack start(Config config) {
        DevStack stack = new DevStack();
        try {
            stack.startAll(config);
            return stack;
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        }
    }

    private void startAll(Config base) {
        DevStackConfig dev = DevStackConfig.from(base);
        Clock clock = Clock.systemUTC();

        if (dev.externalKafka()) {
            kafkaDescription = base.required(KafkaSettings.BOOTSTRAP) + " (external)";
        } else {
            EmbeddedKafka kafka = EmbeddedKafka.start(dev.dataDir().resolve("kafka"), dev.kafkaPort());
            closers.push(kafka::close);
            resolved.put(KafkaSettings.BOOTSTRAP, kafka.bootstrapServers());
            kafkaDescription = kafka.bootstrapServers() + " (embedded, data in " + dev.dataDir().resolve("kafka") + ")";
        }

        Shared redis = startRedis(base, dev);
        ClaimStore claims = redis.claims();
        ChatActivity activity = redis.activity();

        if (dev.realTelegram()) {
            LOG.info("TG_BOT_TOKEN is set: talking to {} instead of the emulator",
                    base.string(TelegramSettings.API_URL, TelegramSettings.DEFAULT_API_URL));
        } else {
            // The pipeline's state survives a restart but the emulator's does not: start its ids above any it
            // could have handed out before, as Telegram never reuses one: the epoch second, which outgrows a
            // laptop's message rate over any run (and fits Telegram's 32-bit ids until 2038).
            int idBase = (int) Math.min(clock.instant().getEpochSecond(), Integer.MAX_VALUE - 100_000_000L);
            emulator = TelegramEmulator.builder().port(dev.emulatorPort()).botToken(DevStackConfig.OFFLINE_TOKEN)
                    .idsStartAt(idBase, idBase).build().start();
            closers.push(emulator::close);
            resolved.put(TelegramSettings.TOKEN, DevStackConfig.OFFLINE_TOKEN);
            resolved.put(TelegramSettings.API_URL, emulator.baseUrl());
        }
        resolved.putIfAbsent("STREAMS_STATE_DIR", dev.dataDir().resolve("chunker-state").toString());

        // What the user set wins over devstack's defaults; devstack's resolved endpoints win over both.
        Config config = Config.of(Map.of()).with(devDefaults()).with(asMap(base)).with(resolved);
        KafkaSettings kafka = KafkaSettings.from(config);

        IngestConfig ingestConfig = IngestConfig.from(config);
        // devstack runs one ingest, but with a real Redis it takes the poller lease like a deployed one, so a second
        // devstack (or an ingest Main) on the same bot and Redis stands by instead of fighting over getUpdates.
        PollerLease lease = redis.client() == null ? null : new PollerLease(redis.client(),
                PollerLease.keyFor(RedisSettings.from(config).keyPrefix(), ingestConfig.telegram().botId()),
                PollerLease.defaultOwner(), ingestConfig.lease().ttl());
        if (lease == null) {
            LOG.warn("*** IN-MEMORY fallback: ingest polls WITHOUT a poller lease; run only one devstack per bot ***");
        }
        // The access and abuse rules as ingest's Main builds them (getMe names the bot unless BOT_USERNAME is set).
        String redisKeyPrefix = RedisSettings.from(config).keyPrefix();
        HttpClient botApi = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        IntakeRules rules = redis.client() == null
                ? IntakeSetup.rules(ingestConfig, claims, new InMemoryFloodWindow(), metrics, botApi, clock)
                : IntakeSetup.rules(ingestConfig, claims, redis.client(), redisKeyPrefix, metrics, botApi, clock);
        IngestService ingest = new IngestService(ingestConfig, kafka, claims, activity, rules, lease, metrics,
                clock);
        ChunkerService chunker = new ChunkerService(ChunkerConfig.from(config), kafka, clock);

        LlmConfig llmConfig = LlmConfig.from(config);
        ScheduledThreadPoolExecutor llmScheduler = new ScheduledThreadPoolExecutor(2, NamedThreads.daemon("devstack-llm"));
        llmScheduler.setRemoveOnCancelPolicy(true);
        closers.push(llmScheduler::shutdownNow);
        LlmProcessor llm = new LlmProcessor(kafka, Topics.withPrefix(kafka.topicPrefix()), llmConfig,
                ReplyGenerator.from(llmConfig, ModelFactory.streaming(llmConfig, llmScheduler), llmScheduler, clock),
                activity, claims, metrics, clock);
        llmDescription = llmConfig.provider().toString().toLowerCase(java.util.Locale.ROOT) + " (" + llmConfig.model() + ")";

        OkHttpClient http = TelegramClients.http();
        closers.push(() -> TelegramClients.release(http));
        EmitterConfig emitterConfig = EmitterConfig.from(config);
        ScheduledThreadPoolExecutor emitterScheduler = EmitterThreads.scheduler();
        closers.push(emitterScheduler::shutdownNow);
        EmitterService emitter = new EmitterService(emitterConfig, kafka,
                TelegramClients.create(emitterConfig.telegram(), http), claims, activity, metrics, clock,
                emitterScheduler);

        // Downstream first, so nothing waits on a stage that is not there yet; intake last.
        closers.push(emitter::close);
        emitter.start();
        llm.start();
        closers.push(llm::close);
        chunker.start();
        closers.push(chunker::close);
        try {
            if (!chunker.awaitRunning(Duration.ofSeconds(60))) {
                throw new IllegalStateException("the chunker did not reach RUNNING within 60 s (state "
                        + chunker.state() + ")");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while starting the chunker", e);
        }
        ingest.start();
        closers.push(ingest::close);
    }

    /** Redis as configured or started here, else (loudly) the in-memory fallback; registered for closing. */
    private Shared startRedis(Config base, DevStackConfig dev) {
        if (dev.externalRedis()) {
            RedisSettings settings = RedisSettings.from(base);
            redisDescription = settings.url().getHost() + ":" + settings.url().getPort() + " (external)";
            return redisShared(settings);
        }
        if (RedisServer.findExecutable().isPresent()) {
            RedisServer redis = RedisServer.start(dev.dataDir().resolve("redis"), 0);
            closers.push(redis::close);
            resolved.put(RedisSettings.URL, redis.url().toString());
            redisDescription = redis.url() + " (redis-server started by devstack)";
            return redisShared(RedisSettings.from(base.with(resolved)));
        }
        redisDescription = "IN-MEMORY (no Redis: duplicates possible after a restart)";
        LOG.warn("*** no REDIS_URL/REDIS_HOST and no redis-server installed: using an IN-MEMORY claim store and "
                + "staleness signal. Laptop use only. Install redis-server (apt-get install redis-server) or set "
                + "REDIS_URL. ***");
        ClaimStore claims = new InMemoryClaimStore(Clock.systemUTC());
        closers.push(claims::close);
        ChatActivity activity = new InMemoryChatActivity();
        closers.push(activity::close);
        // No Redis, no lease: devstack's single ingest polls unconditionally (laptop fallback only).
        return new Shared(claims, activity, null);
    }

    private Shared redisShared(RedisSettings settings) {
        RedisClient client = RedisClaimStore.connect(settings);
        RedisClaimStore claims = new RedisClaimStore(client, settings.keyPrefix());
        closers.push(claims::close); // closes the client, after the activity below
        RedisChatActivity activity = new RedisChatActivity(client, settings.keyPrefix(), ACTIVITY_TTL);
        closers.push(activity::close);
        try {
            if (!activity.startSubscriber(SUBSCRIBE_WAIT)) {
                LOG.warn("not yet subscribed to the staleness signal after {}; it is read from Redis until then",
                        SUBSCRIBE_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while subscribing to the staleness signal", e);
        }
        return new Shared(claims, activity, client);
    }

    /** The metrics of every service in this JVM. */
    public Metrics metrics() {
        return metrics;
    }

    /** A laptop demo should feel like a person typing; every one of these can be overridden. */
    private static Map<String, String> devDefaults() {
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
        return emulator == null ? java.util.Optional.empty()
                : java.util.Optional.of("http://localhost:" + emulator.port() + "/");
    }

    /** The emulator devstack runs, if any. */
    public java.util.Optional<TelegramEmulator> emulator() {
        return java.util.Optional.ofNullable(emulator);
    }

    /** The one line that says everything is up; it begins with {@code thoughtstream ready}. */
    public String readyLine() {
        String chat = webChatUrl().map(u -> "web chat " + u).orElse("talking to the Telegram Bot API (no web chat)");
        return "thoughtstream ready: " + chat + " | kafka " + kafkaDescription + " | redis " + redisDescription
                + " | llm " + llmDescription;
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
