package dev.thoughtstream.emitter;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import dev.thoughtstream.testkit.telegram.TranscriptEntry;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Predicate;
import okhttp3.OkHttpClient;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.telegram.telegrambots.meta.generics.TelegramClient;

/**
 * One emitter test's world: its own topic prefix and consumer group on the shared test broker, its own key
 * prefix on the test Redis, a fresh Telegram emulator, and TelegramBots' real OkHttp client pointed at it.
 */
final class EmitterFixture implements AutoCloseable {
    static final String TOKEN = "987654321:EmitterTestSecret_Tok-42xyz";
    static final Duration TIMEOUT = Duration.ofSeconds(30);

    final String name;
    final TelegramEmulator emulator;
    final String topicPrefix;
    final Topics topics;
    final String groupId;
    final String keyPrefix;
    final RedisClaimStore claims;
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
        this.http = TelegramClients.http();
        closers.push(() -> TelegramClients.release(http));
        this.telegram = TelegramClients.create(settings(), http);
    }

    static EmitterFixture create(String name) {
        return new EmitterFixture(name);
    }

    TelegramSettings settings() {
        return TelegramSettings.from(Config.of(Map.of(
                TelegramSettings.TOKEN, TOKEN, TelegramSettings.API_URL, emulator.baseUrl())));
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

    /** A started emitter on this fixture's topics, group, claims and emulator; closed with the fixture. */
    EmitterService startEmitter(Map<String, String> overrides, ClaimStore claimStore, Pause pause) {
        Config config = config(overrides);
        EmitterService service = new EmitterService(EmitterConfig.from(config), TestKafka.settings(topicPrefix),
                telegram, claimStore, Clock.systemUTC(), pause);
        closers.push(service);
        service.start();
        return service;
    }

    EmitterService startEmitter(Map<String, String> overrides) {
        return startEmitter(overrides, claims, Pause.REAL);
    }

    EmitterService startEmitter() {
        return startEmitter(Map.of());
    }

    /** The person writes first: Telegram answers "chat not found" to a bot that writes to a stranger. */
    void chatOpens(long chatId) {
        emulator.injectMessage(chatId, "hello from " + chatId);
    }

    static ReplyPart part(long chatId, String replyId, int seq, boolean last, String text) {
        return new ReplyPart(ReplyPart.SCHEMA_VERSION, replyId, "thought-" + replyId, chatId, 1, seq, last, text,
                System.currentTimeMillis());
    }

    void produce(ReplyPart part) {
        TestKafka.produce(topics.replies(), part.chatId(), part);
    }

    /** Every delivery on the delivered topic so far, in each chat's order. */
    List<Delivery> deliveries() {
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

    List<String> awaitBotTexts(long chatId, int count) {
        Await.until(count + " bot messages in chat " + chatId, TIMEOUT,
                () -> emulator.botTexts(chatId).size() >= count);
        return emulator.botTexts(chatId);
    }

    /** What the bot did in the chat (messages and chat actions), in order. */
    List<TranscriptEntry> botEntries(long chatId) {
        return emulator.transcript(chatId).stream().filter(TranscriptEntry::isFromBot).toList();
    }

    long sendMessageCalls(long chatId) {
        return emulator.calls("sendmessage").stream()
                .filter(c -> Long.toString(chatId).equals(c.param("chat_id")))
                .count();
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
