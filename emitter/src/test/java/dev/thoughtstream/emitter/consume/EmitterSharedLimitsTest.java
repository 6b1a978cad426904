package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.ApiCall;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/**
 * Telegram counts its flood limits per bot, however many instances send for it (Bot API FAQ, "My bot is hitting
 * limits, how do I avoid this?"): two emitters on one Redis keep one bot-wide limit between them, and without Redis
 * each keeps to its share. The emulator enforces Telegram's limits (30 a second, 1 a second per chat, 20 a minute per
 * group) and answers 429 past them.
 */
class EmitterSharedLimitsTest {
    private static final long FIRST_CHAT = 6_101;
    private static final int CHATS = 240;
    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(90);
    /**
     * 429s tolerated: a send held up on its way (a stall of the test machine, a new connection) can arrive together
     * with later ones, which no rate kept at the sending end can prevent. Two instances each sending 30 a second
     * would be refused about half of their sends.
     */
    private static final int HANDFUL = 5;
    /** Two instances, each allowed the bot's whole 30 a second on its own. */
    private static final Map<String, String> TWO_INSTANCES = Map.of(
            "EMITTER_GLOBAL_RATE_PER_S", "30",
            "EMITTER_LIMIT_INSTANCES", "2",
            "TYPING_MIN_MS", "0",
            "TYPING_MAX_MS", "0");

    private EmitterFixture fx;

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("shared-limits");
        for (int i = 0; i < CHATS; i++) {
            fx.chatOpens(FIRST_CHAT + i);
        }
        fx.emulator.enforceTelegramLimits();
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void twoEmittersOnOneRedisKeepTheBotWithinThirtyMessagesASecondTogether() {
        // given two emitters sharing the bot's limits through one Redis, both owning partitions
        RedisClient redis = fx.track(RedisClaimStore.connect(TestRedis.settings()));
        EmitterService first =
                fx.emitter().with(TWO_INSTANCES).limitsRedis(redis).start();
        EmitterService second =
                fx.emitter().with(TWO_INSTANCES).limitsRedis(redis).start();
        awaitTwoMembersWithPartitions();

        // when 240 chats get a one-part reply at once
        produceOnePartPerChat("r-shared-");

        // then every chat gets its message
        awaitAllSent();
        // and Telegram, counting 30 a second for the bot, refused at most a handful of sends (each sent again later),
        // though each instance alone may send 30 a second
        assertEquals(CHATS, acceptedSendTimes().size());
        assertTrue(rejectedSends() <= HANDFUL, rejectedSends() + " sendMessage calls answered 429");
        // and no second saw more than 30 attempts, but for those refused
        int busiest = busiestSecond(attemptTimes());
        assertTrue(busiest <= 30 + HANDFUL, "a one-second window saw " + busiest + " sendMessage calls");
        // and both instances sent, waiting for the shared window, and never lost Redis
        assertTrue(sent(first) > 0 && sent(second) > 0, sent(first) + " and " + sent(second) + " sent");
        assertTrue(first.metrics().rateLimitedCount("global") + second.metrics().rateLimitedCount("global") > 0);
        assertEquals(0, first.limitsRedisFallbacks() + second.limitsRedisFallbacks());
    }

    @Test
    void withRedisDownEachEmitterFallsBackToItsShareCountsItAndTheBotStaysWithinItsLimit() throws IOException {
        // given two emitters whose limits Redis cannot be reached (claims still work), each expecting one other
        RedisClient unreachable = fx.track(RedisClaimStore.connect(unreachableRedis()));
        EmitterService first =
                fx.emitter().with(TWO_INSTANCES).limitsRedis(unreachable).start();
        EmitterService second =
                fx.emitter().with(TWO_INSTANCES).limitsRedis(unreachable).start();
        awaitTwoMembersWithPartitions();

        // when 240 chats get a one-part reply at once
        produceOnePartPerChat("r-fallback-");

        // then every chat still gets its message
        awaitAllSent();
        // and each instance fell back once (however often it tried Redis again), and says so
        assertEquals(1, first.limitsRedisFallbacks());
        assertEquals(1, second.limitsRedisFallbacks());
        // and with each keeping to half of the limit, Telegram refused at most a handful (before the fall-back)
        assertTrue(rejectedSends() <= HANDFUL, rejectedSends() + " sendMessage calls answered 429");
        // and no second saw more than 30 attempts, but for those refused
        int busiest = busiestSecond(attemptTimes());
        assertTrue(busiest <= 30 + HANDFUL, "a one-second window saw " + busiest + " sendMessage calls");
        // and both instances sent
        assertTrue(sent(first) > 0 && sent(second) > 0, sent(first) + " and " + sent(second) + " sent");
    }

    private void produceOnePartPerChat(String replyPrefix) {
        for (int i = 0; i < CHATS; i++) {
            fx.produce(EmitterFixture.part(FIRST_CHAT + i, replyPrefix + i, 0, true, "hello " + i));
        }
    }

    private void awaitAllSent() {
        Await.value(CHATS + " SENT", DELIVERY_TIMEOUT, () -> {
            long sent = fx.deliveries().stream()
                    .filter(d -> d.outcome() == Delivery.Outcome.SENT)
                    .count();
            return sent >= CHATS ? Optional.of(sent) : Optional.empty();
        });
        for (int i = 0; i < CHATS; i++) {
            assertEquals(List.of("hello " + i), fx.emulator.botTexts(FIRST_CHAT + i));
        }
    }

    private static long sent(EmitterService emitter) {
        return emitter.metrics().parts(Delivery.Outcome.SENT);
    }

    /** When Telegram accepted each sendMessage (the emulator's clock), in order. */
    private List<Long> acceptedSendTimes() {
        return fx.emulator.calls("sendmessage").stream()
                .filter(ApiCall::succeeded)
                .map(ApiCall::at)
                .sorted()
                .toList();
    }

    /** When each sendMessage reached Telegram, accepted or refused, in order. */
    private List<Long> attemptTimes() {
        return fx.emulator.calls("sendmessage").stream()
                .map(ApiCall::at)
                .sorted()
                .toList();
    }

    private long rejectedSends() {

        return fx.emulator.calls("sendmessage").stream()
                .filter(call -> call.status() == 429)
                .count();
    }

    /** The most sends in any one-second window, as Telegram's sliding window counts them. */
    static int busiestSecond(List<Long> at) {
        int busiest = 0;
        int start = 0;
        for (int end = 0; end < at.size(); end++) {
            while (at.get(start) <= at.get(end) - 1_000) {
                start++;
            }
            busiest = Math.max(busiest, end - start + 1);
        }
        return busiest;
    }

    /** Both emitters in the consumer group, each with partitions, so that both send. */
    private void awaitTwoMembersWithPartitions() {
        try (Admin admin =
                Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()))) {
            Await.until("two emitters sharing the partitions", EmitterFixture.TIMEOUT, () -> {
                ConsumerGroupDescription group;
                try {
                    group = admin.describeConsumerGroups(List.of(fx.groupId))
                            .describedGroups()
                            .get(fx.groupId)
                            .get();
                } catch (ExecutionException e) {
                    return false;
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(e);
                }
                return group.members().size() == 2
                        && group.members().stream()
                                .allMatch(m -> !m.assignment().topicPartitions().isEmpty());
            });
        }
    }

    private static RedisSettings unreachableRedis() throws IOException {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        return RedisSettings.from(
                Config.of(Map.of(RedisSettings.URL, "redis://127.0.0.1:" + closedPort, "REDIS_TIMEOUT_MS", "300")));
    }
}
