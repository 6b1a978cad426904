package dev.thoughtstream.emitter.pace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.emitter.EmitterConfig;
import dev.thoughtstream.emitter.EmitterMetrics;
import dev.thoughtstream.testkit.MutableClock;
import dev.thoughtstream.testkit.redis.TestRedis;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/** The bot's windows in Redis, on a clock the test moves: turns for every instance, and each one's share without. */
class SharedSendLimitsTest {
    private static final Secret TOKEN = new Secret("123456:SharedLimitsSecret_Tok");

    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
    private final List<AutoCloseable> closers = new ArrayList<>();
    private final String keyBase = SharedSendLimits.keyBase(TestRedis.uniqueKeyPrefix("shared-limits"), TOKEN);

    @AfterEach
    void tearDown() throws Exception {
        Collections.reverse(closers);
        for (AutoCloseable c : closers) {
            c.close();
        }
    }

    private static EmitterConfig.RateLimits limits(int groupPerMinute, int globalPerSecond, int instances) {
        return new EmitterConfig.RateLimits(1, 3, groupPerMinute, globalPerSecond, instances);
    }

    private SharedSendLimits instance(RedisSettings redis, EmitterConfig.RateLimits limits, EmitterMetrics metrics) {
        RedisClient client = RedisClaimStore.connect(redis);
        closers.add(client::close);
        return new SharedSendLimits(limits, client, keyBase, clock, metrics);
    }

    @Test
    void twoInstancesTakingTurnsNeverPutMoreThanThirtyInAnySecond() {
        // given two instances sharing the bot's 30 a second through Redis
        SharedSendLimits a = instance(TestRedis.settings(), limits(0, 30, 2), new EmitterMetrics(new Metrics()));
        SharedSendLimits b = instance(TestRedis.settings(), limits(0, 30, 2), new EmitterMetrics(new Metrics()));

        // when each asks for 150 turns at once, in turn
        List<Long> sendAt = new ArrayList<>();
        for (int i = 0; i < 150; i++) {
            sendAt.add(clock.millis() + a.reserveGlobal().waitMillis());
            sendAt.add(clock.millis() + b.reserveGlobal().waitMillis());
        }

        // then the turns spread over about ten seconds and no second holds more than 30
        Collections.sort(sendAt);
        assertTrue(busiest(sendAt, 1_000) <= 30, "a second held " + busiest(sendAt, 1_000));
        assertTrue(sendAt.get(sendAt.size() - 1) - sendAt.get(0) >= 10_000, "300 turns within 10 s");
        assertTrue(a.onShared() && b.onShared());
    }

    @Test
    void aGroupGetsAFewMessagesAtOnceAndNoMoreThanTwentyInAnyMinute() {
        // given two instances sharing a group's 20 a minute (as after a rebalance)
        SharedSendLimits a = instance(TestRedis.settings(), limits(20, 0, 2), new EmitterMetrics(new Metrics()));
        SharedSendLimits b = instance(TestRedis.settings(), limits(20, 0, 2), new EmitterMetrics(new Metrics()));

        // when both send 30 messages into the group at once
        List<Long> sendAt = new ArrayList<>();
        for (int i = 0; i < 30; i++) {
            sendAt.add(clock.millis() + a.reserveGroup(-1001L).waitMillis());
            sendAt.add(clock.millis() + b.reserveGroup(-1001L).waitMillis());
        }

        // then the first five go at once, and no minute holds more than 20
        Collections.sort(sendAt);
        assertEquals(5, sendAt.stream().filter(t -> t == clock.millis()).count());
        assertTrue(busiest(sendAt, 60_000) <= 20, "a minute held " + busiest(sendAt, 60_000));
        // and another group is not held back by it
        assertEquals(0, a.reserveGroup(-1002L).waitMillis());
    }

    @Test
    void aTurnGivenBackIsTakenByTheNext() {
        SharedSendLimits a = instance(TestRedis.settings(), limits(0, 30, 1), new EmitterMetrics(new Metrics()));
        List<SharedSendLimits.Reservation> turns = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            turns.add(a.reserveGlobal());
        }
        long next = a.reserveGlobal().waitMillis();

        // when the last turn taken is given back (its message was never sent)
        a.refundGlobal(turns.get(9));

        // then the next one waits no longer than the one before it
        assertTrue(a.reserveGlobal().waitMillis() <= next);
    }

    @Test
    void withRedisUnreachableAnInstanceKeepsToItsShareAndCountsTheFallBackOnce() throws IOException {
        // given an instance of two whose Redis cannot be reached
        EmitterMetrics metrics = new EmitterMetrics(new Metrics());
        SharedSendLimits a = instance(unreachableRedis(), limits(20, 30, 2), metrics);

        // when it takes 60 turns, trying Redis again every second
        List<Long> sendAt = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            sendAt.add(clock.millis() + a.reserveGlobal().waitMillis());
            clock.advance(Duration.ofMillis(50));
        }

        // then it keeps to half of the bot's 30 a second, and the outage counts once
        Collections.sort(sendAt);
        assertTrue(busiest(sendAt, 1_000) <= 15, "a second held " + busiest(sendAt, 1_000));
        assertFalse(a.onShared());
        assertEquals(1, metrics.limitsRedisFallbacks());
    }

    @Test
    void theKeysNameTheBotByAHashOfItsTokenNeverTheToken() {
        String base = SharedSendLimits.keyBase("ts:", TOKEN);

        assertTrue(base.matches("ts:emitter:limits:[0-9a-f]{16}:"), base);
        assertFalse(base.contains("SharedLimitsSecret"));
        assertEquals(base, SharedSendLimits.keyBase("ts:", new Secret(TOKEN.reveal())));
        assertFalse(base.equals(SharedSendLimits.keyBase("ts:", new Secret("123456:another"))));
    }

    /** The most times in any window of {@code periodMs}, counted as Telegram's sliding windows count them. */
    private static int busiest(List<Long> sorted, long periodMs) {
        int most = 0;
        int start = 0;
        for (int end = 0; end < sorted.size(); end++) {
            while (sorted.get(start) <= sorted.get(end) - periodMs) {
                start++;
            }
            most = Math.max(most, end - start + 1);
        }
        return most;
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
