package dev.thoughtstream.ingest;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ChatActivity;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ingest.intake.IntakeRules;
import dev.thoughtstream.ingest.intake.UpdateJudge;
import dev.thoughtstream.ingest.poll.IngestService;
import dev.thoughtstream.ingest.poll.PollerLease;
import dev.thoughtstream.ingest.write.ActivityRecorder;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.BotIdentity;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One test's world around ingest: a Telegram emulator that accepts only this test's random bot token, real Redis
 * stores under key prefixes of the test's choosing, and the ingest services started here. Everything is closed in
 * reverse order of creation.
 */
public final class IngestHarness implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IngestHarness.class);
    public static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    public final String token = randomToken();
    /** The bot's id is its token's prefix, as on Telegram (the group rules recognise replies to the bot by it). */
    public final TelegramEmulator telegram = TelegramEmulator.builder()
            .botToken(token)
            .bot(new BotIdentity(
                    Long.parseLong(token.substring(0, token.indexOf(':'))), "thoughtstream_bot", "Thoughtstream"))
            .build()
            .start();

    private final Deque<AutoCloseable> resources = new ArrayDeque<>();

    /** A token shaped like BotFather's: {@code <bot id>:<35 characters>}, different in every test. */
    public static String randomToken() {
        StringBuilder sb = new StringBuilder()
                .append(1_000_000_000L + RANDOM.nextInt(1_000_000_000))
                .append(':');
        for (int i = 0; i < 35; i++) {
            sb.append(TOKEN_CHARS.charAt(RANDOM.nextInt(TOKEN_CHARS.length())));
        }
        return sb.toString();
    }

    /** The secret part of the token (after the colon); the bot id before it is public. */
    public String tokenSecret() {
        return token.substring(token.indexOf(':') + 1);
    }

    /**
     * Ingest's variables for this emulator: a long poll that outlasts every test step (so a poll in progress is
     * not replaced by a new one behind a test's back), and short backoffs.
     */
    public Map<String, String> variables() {
        Map<String, String> v = new HashMap<>();
        v.put(TelegramSettings.TOKEN, token);
        v.put(TelegramSettings.API_URL, telegram.baseUrl());
        v.put(IngestConfig.POLL_TIMEOUT, "30");
        v.put(IngestConfig.RETRY_BACKOFF_MAX, "500");
        return v;
    }

    public IngestConfig config() {
        return IngestConfig.from(Config.of(variables()));
    }

    public static Topics createTopics(String prefix) {
        return TestKafka.createTopics(prefix);
    }

    /** A real Redis store; stores built with the same prefix share their keys (like two ingest processes). */
    public ClaimStore redis(String keyPrefix) {
        return track(new RedisClaimStore(RedisClaimStore.connect(TestRedis.settings()), keyPrefix));
    }

    public IngestService startIngest(KafkaSettings kafka, ClaimStore claims) {
        return startIngest(config(), kafka, claims, Clock.systemUTC());
    }

    public IngestService startIngest(IngestConfig config, KafkaSettings kafka, ClaimStore claims, Clock clock) {
        return startIngest(config, kafka, claims, IntakeRules.openToAll(new Metrics()), clock);
    }

    /** An ingest judging updates by {@code rules} (access, groups, flood, size). */
    public IngestService startIngest(
            IngestConfig config, KafkaSettings kafka, ClaimStore claims, IntakeRules rules, Clock clock) {
        return start(new IngestService(config, dependencies(config, kafka, claims, rules, clock)));
    }

    /**
     * A polling ingest's dependencies as a single instance has them: no lease, no staleness signal, metrics of its
     * own.
     */
    public static IngestService.Dependencies dependencies(
            IngestConfig config, KafkaSettings kafka, ClaimStore claims, IntakeRules rules, Clock clock) {
        return new IngestService.Dependencies(
                kafka,
                IntakeSetup.judge(config, claims, rules),
                ActivityRecorder.none(),
                PollerLease.none(),
                new Metrics(),
                clock);
    }

    private IngestService start(IngestService ingest) {
        track(ingest);
        ingest.start();
        return ingest;
    }

    /** Redis settings naming a local port nobody listens on, with a short timeout: Redis down. */
    public static RedisSettings unreachableRedis() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        return RedisSettings.from(
                Config.of(Map.of(RedisSettings.URL, "redis://127.0.0.1:" + closedPort, "REDIS_TIMEOUT_MS", "200")));
    }

    /** A real Redis client (for the flood guard's counts), closed with the harness. */
    public redis.clients.jedis.RedisClient redisClient() {
        redis.clients.jedis.RedisClient client = RedisClaimStore.connect(TestRedis.settings());
        track(client::close);
        return client;
    }

    /** An ingest that also feeds {@code activity}, the staleness signal. */
    public IngestService startIngest(KafkaSettings kafka, ClaimStore claims, ChatActivity activity) {
        IngestConfig config = config();
        UpdateJudge judge = IntakeSetup.judge(config, claims, IntakeRules.openToAll(new Metrics()));
        return start(new IngestService(
                config,
                new IngestService.Dependencies(
                        kafka,
                        judge,
                        ActivityRecorder.of(activity),
                        PollerLease.none(),
                        new Metrics(),
                        Clock.systemUTC())));
    }

    public <T extends AutoCloseable> T track(T resource) {
        resources.push(resource);
        return resource;
    }

    /** Returns once ingest waits in a long poll, so the next injected message is answered by that poll. */
    public void awaitLongPoll() {
        Await.until("ingest waiting in a getUpdates long poll", TIMEOUT, () -> telegram.activePolls() == 1);
    }

    /**
     * Makes the next few messages reach ingest as one batch: a getUpdates of our own (confirming nothing new)
     * ends ingest's long poll with 409, as Telegram does when a second poller appears, and the faults make ingest's
     * next two polls fail too. The poller backs off for 250 ms, then 500 ms, then 1 s, so messages injected
     * right after this call are all pending when ingest next polls successfully. (Should the test thread stall
     * for longer than that, they arrive in several batches; the tests hold either way.)
     */
    public void holdBackUpdates() throws IOException, InterruptedException {
        HttpRequest poll = HttpRequest.newBuilder(URI.create(telegram.baseUrl() + "/bot" + token + "/getUpdates"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"offset\":" + telegram.confirmedOffset() + ",\"timeout\":0}"))
                .build();
        HttpResponse<String> answer = HTTP.send(poll, HttpResponse.BodyHandlers.ofString());
        if (answer.statusCode() != 200) {
            throw new IllegalStateException("the emulator refused our getUpdates: " + answer.statusCode());
        }
        telegram.addFault("getUpdates", 500, 2);
    }

    /** getUpdates calls the emulator answered with {@code status}. */
    public long getUpdatesAnswered(int status) {
        return telegram.calls("getupdates").stream()
                .filter(c -> c.status() == status)
                .count();
    }

    @Override
    public void close() {
        while (!resources.isEmpty()) {
            try {
                resources.pop().close();
            } catch (Exception e) {
                LOG.warn("closing a test resource failed", e);
            }
        }
        telegram.close();
    }
}
