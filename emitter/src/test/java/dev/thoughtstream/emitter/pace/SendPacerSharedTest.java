package dev.thoughtstream.emitter.pace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.emitter.EmitterConfig;
import dev.thoughtstream.emitter.EmitterMetrics;
import dev.thoughtstream.emitter.ManualScheduler;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.redis.TestRedis;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/**
 * The pacer with the bot's windows shared through Redis ({@link SharedSendLimits}), on time the test controls: a
 * permit comes through the callback once the bot's turn has come, and a turn not used is given back.
 */
class SendPacerSharedTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private final ManualScheduler time = new ManualScheduler();
    private final ScheduledThreadPoolExecutor limitsThread = new ScheduledThreadPoolExecutor(1);
    private final RedisClient redis = RedisClaimStore.connect(TestRedis.settings());
    private final EmitterMetrics metrics = new EmitterMetrics(new Metrics());
    private final List<Long> granted = new CopyOnWriteArrayList<>();
    private final List<SendPacer.Permit> permits = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() {
        time.shutdownNow();
        limitsThread.shutdownNow();
        redis.close();
    }

    /** The bot's 30 a second, shared (3 at once, then one every 1000/26 ms); no chat or group limit. */
    private SendPacer pacer() {
        EmitterConfig.RateLimits limits = new EmitterConfig.RateLimits(0, 1, 0, 30, 1);
        SharedSendLimits shared = new SharedSendLimits(
                limits,
                redis,
                SharedSendLimits.keyBase(TestRedis.uniqueKeyPrefix("pacer-shared"), new Secret("1:pacer")),
                time.clock(),
                metrics);
        return SendPacer.from(limits, time.clock(), time, metrics, shared, limitsThread);
    }

    private SendPacer.Request ask(SendPacer pacer, long chatId) {
        return pacer.acquire(chatId, p -> {
            granted.add(chatId);
            permits.add(p);
        });
    }

    @Test
    void aPermitComesThroughTheCallbackOnceTheBotsSharedTurnHasCome() {
        SendPacer pacer = pacer();

        // when four chats ask at once
        List<SendPacer.Request> requests = List.of(ask(pacer, 1), ask(pacer, 2), ask(pacer, 3), ask(pacer, 4));

        // then none is granted on the caller's thread (Redis is asked elsewhere), three come at once
        requests.forEach(r -> assertNull(r.grantedNow()));
        Await.until("three permits", TIMEOUT, () -> granted.size() == 3);
        // and the fourth once the bucket has refilled one (1000/26 ms)
        Await.until(
                "the fourth waiting for its turn",
                TIMEOUT,
                () -> time.pendingDelays().size() == 1);
        assertEquals(Duration.ofMillis(39), time.pendingDelays().get(0));
        time.advance(Duration.ofMillis(39));
        Await.until("the fourth permit", TIMEOUT, () -> granted.size() == 4);
        assertEquals(List.of(1L, 2L, 3L, 4L), granted);
        assertEquals(1, metrics.rateLimitedCount("global"));
    }

    @Test
    void aRequestCancelledWhileWaitingForItsTurnGivesTheTurnBack() {
        SendPacer pacer = pacer();
        for (long chat = 1; chat <= 3; chat++) {
            ask(pacer, chat);
        }
        Await.until("three permits", TIMEOUT, () -> granted.size() == 3);

        // given a fourth waiting 39 ms for its turn, withdrawn (its part went stale)
        SendPacer.Request fourth = ask(pacer, 4);
        Await.until("the fourth waiting", TIMEOUT, () -> time.pendingDelays().size() == 1);
        fourth.cancel();

        // when a fifth asks
        ask(pacer, 5);

        // then it takes the turn the fourth gave back: it waits as long as the fourth would have, not a turn more
        // (the fourth's timer still runs, and finds it withdrawn)
        Await.until("the fifth waiting", TIMEOUT, () -> time.pendingDelays().size() == 2);
        assertEquals(List.of(Duration.ofMillis(39), Duration.ofMillis(39)), time.pendingDelays());
        time.advance(Duration.ofMillis(39));
        Await.until("the fifth permit", TIMEOUT, () -> granted.contains(5L));
        assertTrue(!granted.contains(4L), "the withdrawn request got no permit");
    }
}
