package dev.thoughtstream.emitter.consume;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ChatActivity;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.redis.RedisChatActivity;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.emitter.EmitterConfig;
import dev.thoughtstream.emitter.EmitterThreads;
import dev.thoughtstream.emitter.Main;
import dev.thoughtstream.emitter.ManualScheduler;
import dev.thoughtstream.emitter.telegram.MessageSender;
import dev.thoughtstream.emitter.telegram.MessageSenders;
import dev.thoughtstream.emitter.telegram.TelegramClients;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import dev.thoughtstream.testkit.telegram.TranscriptEntry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import okhttp3.OkHttpClient;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.utils.Utils;
import org.telegram.telegrambots.meta.generics.TelegramClient;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.UnifiedJedis;

/**
 * One emitter test's world: its own topic prefix and consumer group on the shared test broker, its own key prefix on
 * the test Redis (claims and the staleness signal, as ingest writes it), a fresh Telegram emulator, and TelegramBots'
 * real OkHttp client pointed at it, behind the same {@link MessageSenders} switch point {@link Main} uses.
 */
public final class EmitterFixture implements AutoCloseable {
    public static final String TOKEN = "987654321:EmitterTestSecret_Tok-42xyz";
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    final String name;
    final TelegramEmulator emulator;
    final String topicPrefix;
    final Topics topics;
    final String groupId;
    final String keyPrefix;
    final RedisClaimStore claims;
    /** The staleness signal as the emitter sees it (subscribed). */
    final RedisChatActivity activity;
    /** The staleness signal's writer, as ingest holds it. */
    final RedisChatActivity ingest;

    final OkHttpClient http;
    final TelegramClient telegram;
    private final Deque<AutoCloseable> closers = new ArrayDeque<>();
    private TopicReader<Long, Delivery> delivered;

    private EmitterFixture(String name) {
        this.name = name;
        this.emulator = TelegramEmulator.builder().botToken(TOKEN).build().start();
        closers.push(emulator);
        this.topicPrefix = TestKafka.uniquePrefix("emitter-" + name);
        this.topics = TestKafka.createTopics(topicPrefix);
        this.groupId = "emitter-test-" + topicPrefix;
        this.keyPrefix = TestRedis.uniqueKeyPrefix("emitter-" + name);
        this.claims = new RedisClaimStore(RedisClaimStore.connect(TestRedis.settings()), keyPrefix);
        closers.push(claims);
        RedisClient activityRedis = RedisClaimStore.connect(TestRedis.settings());
        closers.push(activityRedis::close);
        this.activity = new RedisChatActivity(activityRedis, keyPrefix, Duration.ofHours(1));
        closers.push(activity);
        RedisClient ingestRedis = RedisClaimStore.connect(TestRedis.settings());
        closers.push(ingestRedis::close);
        this.ingest = new RedisChatActivity(ingestRedis, keyPrefix, Duration.ofHours(1));
        closers.push(ingest);
        try {
            if (!activity.startSubscriber(TIMEOUT)) {
                throw new IllegalStateException("no staleness subscription within " + TIMEOUT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        this.http = TelegramClients.http();
        closers.push(() -> TelegramClients.release(http));
        this.telegram = TelegramClients.create(settings(), http);
    }

    static EmitterFixture create(String name) {
        return new EmitterFixture(name);
    }

    TelegramSettings settings() {
        return TelegramSettings.from(
                Config.of(Map.of(TelegramSettings.TOKEN, TOKEN, TelegramSettings.API_URL, emulator.baseUrl())));
    }

    /** The emitter's configuration: quick typing (20-50 ms) unless {@code overrides} say otherwise. */
    Config config(Map<String, String> overrides) {
        Map<String, String> values = new HashMap<>();
        values.put(TelegramSettings.TOKEN, TOKEN);
        values.put(TelegramSettings.API_URL, emulator.baseUrl());
        values.put("TYPING_MIN_MS", "20");
        values.put("TYPING_MAX_MS", "50");
        values.put("TYPING_JITTER", "0");
        values.put("EMITTER_GROUP_ID", groupId);
        return TestKafka.config(topicPrefix, TestKafka.PARTITIONS).with(values).with(overrides);
    }

    /** An emitter to start on this fixture's topics, group, Redis and emulator; closed with the fixture. */
    Starter emitter() {
        return new Starter();
    }

    EmitterService startEmitter(Map<String, String> overrides) {
        return emitter().with(overrides).start();
    }

    EmitterService startEmitter() {
        return emitter().start();
    }

    /** How the next emitter is made; defaults are the fixture's real parts and a real scheduler. */
    final class Starter {
        private final Map<String, String> overrides = new HashMap<>();
        private ClaimStore claimStore = claims;
        private ChatActivity chatActivity = activity;
        private ScheduledExecutorService scheduler;
        private Clock clock = Clock.systemUTC();
        private UnaryOperator<MessageSender> sender = s -> s;
        private Metrics metrics = new Metrics();
        private Optional<UnifiedJedis> limitsRedis = Optional.empty();
        private StageTracer tracer = StageTracer.noop();

        Starter with(String variable, String value) {
            overrides.put(variable, value);
            return this;
        }

        Starter with(Map<String, String> values) {
            overrides.putAll(values);
            return this;
        }

        Starter claims(ClaimStore value) {
            claimStore = value;
            return this;
        }

        Starter activity(ChatActivity value) {
            chatActivity = value;
            return this;
        }

        /** Timers and time from {@code manual}, which the test advances. */
        Starter scheduler(ManualScheduler manual) {
            scheduler = manual;
            clock = manual.clock();
            return this;
        }

        /** Wraps the real sender (e.g. in a {@link HoldingSender}). */
        Starter sender(UnaryOperator<MessageSender> wrap) {
            sender = wrap;
            return this;
        }

        /** The bot's group and global limits shared with other instances through {@code redis}. */
        Starter limitsRedis(UnifiedJedis redis) {
            limitsRedis = Optional.of(redis);
            return this;
        }

        /** Each part's delivery traced by {@code value}. */
        Starter tracer(StageTracer value) {
            tracer = value;
            return this;
        }

        Starter metrics(Metrics value) {
            metrics = value;
            return this;
        }

        EmitterService start() {
            Config all = config(overrides);
            EmitterConfig config = EmitterConfig.from(all);
            ScheduledExecutorService timers = scheduler;
            if (timers == null) {
                ScheduledThreadPoolExecutor own = EmitterThreads.scheduler();
                closers.push(own::shutdownNow);
                timers = own;
            } else {
                ScheduledExecutorService given = timers;
                closers.push(given::shutdownNow);
            }
            EmitterService service = new EmitterService(
                    config,
                    KafkaSettings.from(all),
                    sender.apply(MessageSenders.create(config, telegram, metrics, clock)),
                    telegram,
                    claimStore,
                    chatActivity,
                    metrics,
                    clock,
                    timers,
                    limitsRedis,
                    keyPrefix,
                    tracer);
            closers.push(service);
            service.start();
            return service;
        }
    }

    /** The person writes first: Telegram answers "chat not found" to a bot that writes to a stranger. */
    void chatOpens(long chatId) {
        emulator.injectMessage(chatId, "hello from " + chatId);
    }

    /** A part answering user message 1 of its chat. */
    public static ReplyPart part(long chatId, String replyId, int seq, boolean last, String text) {
        return part(chatId, 1, replyId, seq, last, text);
    }

    public static ReplyPart part(long chatId, long lastMessageId, String replyId, int seq, boolean last, String text) {
        return new ReplyPart(
                ReplyPart.SCHEMA_VERSION,
                replyId,
                "thought-" + replyId,
                chatId,
                lastMessageId,
                seq,
                last,
                text,
                System.currentTimeMillis());
    }

    void produce(ReplyPart part) {
        TestKafka.produce(topics.replies(), part.chatId(), part);
    }

    /** Every delivery on the delivered topic so far, in each chat's order. */
    synchronized List<Delivery> deliveries() {
        if (delivered == null) {
            delivered = new TopicReader<>(topics.delivered());
            closers.push(delivered);
        }
        return delivered.poll().stream().map(ConsumerRecord::value).toList();
    }

    /** Every delivery so far, once at least {@code count} of them match {@code wanted}. */
    List<Delivery> awaitDeliveries(String what, int count, Predicate<Delivery> wanted) {
        return Await.value(count + " deliveries: " + what, TIMEOUT, () -> {
            List<Delivery> all = deliveries();
            return all.stream().filter(wanted).count() >= count ? Optional.of(all) : Optional.empty();
        });
    }

    /** Every delivery so far, once the outcome of {@code replyId}'s part {@code seq} is among them. */
    List<Delivery> awaitOutcomeOf(String replyId, int seq) {
        return awaitDeliveries(replyId + "#" + seq, 1, d -> d.replyId().equals(replyId) && d.seq() == seq);
    }

    /** The (first) outcome of {@code replyId}'s part {@code seq}, once there is one. */
    Delivery outcomeOf(String replyId, int seq) {
        return awaitOutcomeOf(replyId, seq).stream()
                .filter(d -> d.replyId().equals(replyId) && d.seq() == seq)
                .findFirst()
                .orElseThrow();
    }

    List<String> awaitBotTexts(long chatId, int count) {
        Await.until(
                count + " bot messages in chat " + chatId,
                TIMEOUT,
                () -> emulator.botTexts(chatId).size() >= count);
        return emulator.botTexts(chatId);
    }

    /** What the bot did in the chat (messages and chat actions), in order. */
    List<TranscriptEntry> botEntries(long chatId) {
        return emulator.transcript(chatId).stream()
                .filter(TranscriptEntry::isFromBot)
                .toList();
    }

    /** The bot's side of the chat as "typing" / "message" steps. */
    List<String> botSteps(long chatId) {
        return botEntries(chatId).stream()
                .map(e -> e.isMessage() ? "message" : e.action())
                .toList();
    }

    long sendMessageCalls(long chatId) {
        return emulator.calls("sendmessage").stream()
                .filter(c -> Long.toString(chatId).equals(c.param("chat_id")))
                .count();
    }

    long typingCalls(long chatId) {
        return emulator.calls("sendchataction").stream()
                .filter(c -> Long.toString(chatId).equals(c.param("chat_id")))
                .count();
    }

    /** The partition of the replies topic a chat's parts land on (Kafka's default partitioner). */
    int partitionOf(long chatId) {
        byte[] key = topics.replies()
                .keySerde()
                .serializer()
                .serialize(topics.replies().name(), chatId);
        return Utils.toPositive(Utils.murmur2(key)) % TestKafka.PARTITIONS;
    }

    /** {@code count} chat ids from {@code from} on that share {@code from}'s partition. */
    List<Long> chatsOnThePartitionOf(long from, int count) {
        List<Long> out = new ArrayList<>();
        int partition = partitionOf(from);
        for (long id = from; out.size() < count; id++) {
            if (partitionOf(id) == partition) {
                out.add(id);
            }
        }
        return out;
    }

    /** Registers something to close with the fixture (before what was there already). */
    <T extends AutoCloseable> T track(T closeable) {
        closers.push(closeable);
        return closeable;
    }

    @Override
    public void close() {
        RuntimeException failure = null;
        while (!closers.isEmpty()) {
            try {
                closers.pop().close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("closing the " + name + " fixture failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }
}
