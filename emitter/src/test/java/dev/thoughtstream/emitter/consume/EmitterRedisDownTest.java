package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.redis.RedisChatActivity;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.emitter.lane.PartSender;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.redis.RedisServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/**
 * Without Redis the bot keeps talking when told to fail open (and says so in its counters), and holds its tongue
 * until Redis is back when told to fail closed.
 */
class EmitterRedisDownTest {
    private static final long CHAT = 4_701;

    private EmitterFixture fx;

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("redis-down");
        fx.chatOpens(CHAT);
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    private static RedisSettings redisAt(int port) {
        return RedisSettings.from(
                Config.of(Map.of(RedisSettings.URL, "redis://127.0.0.1:" + port, "REDIS_TIMEOUT_MS", "300")));
    }

    @Test
    void failOpenPartsAreStillSentWhenRedisIsUnreachableAndTheCountersSaySo() throws IOException {
        // given an emitter whose Redis (claims and staleness signal) is unreachable, failing open (the default)
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        RedisClient unreachable = fx.track(RedisClaimStore.connect(redisAt(closedPort)));
        EmitterService emitter = fx.emitter()
                .claims(new RedisClaimStore(unreachable, "ts-test:"))
                .activity(fx.track(new RedisChatActivity(unreachable, "ts-test:", Duration.ofHours(1))))
                .start();

        // when a two-part reply arrives
        fx.produce(EmitterFixture.part(CHAT, "r-no-redis", 0, false, "still"));
        fx.produce(EmitterFixture.part(CHAT, "r-no-redis", 1, true, "talking"));

        // then both reach the person and are reported SENT
        assertEquals(List.of("still", "talking"), fx.awaitBotTexts(CHAT, 2));
        List<Delivery> all = fx.awaitOutcomeOf("r-no-redis", 1);
        assertTrue(all.stream().allMatch(d -> d.outcome() == Delivery.Outcome.SENT), all.toString());
        // and the unprotected sends are counted, as are the failed Redis calls (for each part: the staleness
        // checks before typing and before sending, the look-up, the claim and the record)
        Await.until("two sends counted as unprotected", EmitterFixture.TIMEOUT, () -> emitter.sentWithoutClaim() == 2);
        assertEquals(10, emitter.redisErrors());
    }

    @Test
    void failClosedAPartWaitsWhileRedisIsDownAndIsSentOnceWhenItIsBack() {
        // given an emitter failing closed, on a Redis of its own, which then stops
        RedisServer own = RedisServer.start(0);
        int port = own.port();
        RedisClient client = fx.track(RedisClaimStore.connect(redisAt(port)));
        EmitterService emitter = fx.emitter()
                .with("EMITTER_REDIS_OUTAGE", "fail-closed")
                .claims(new RedisClaimStore(client, "ts-test:"))
                .activity(fx.track(new RedisChatActivity(client, "ts-test:", Duration.ofHours(1))))
                .start();
        own.close();

        // when a part arrives while Redis is down
        fx.produce(EmitterFixture.part(CHAT, "r-closed", 0, true, "when it is safe"));

        // then nothing is sent while its claim cannot be taken; the lane keeps asking
        Await.until("several failed Redis calls", EmitterFixture.TIMEOUT, () -> emitter.redisErrors() >= 4);
        assertEquals(0, fx.sendMessageCalls(CHAT));
        assertEquals(1, emitter.pendingParts());

        // and once Redis is back, it is sent, once, claimed and recorded
        fx.track(RedisServer.start(port));
        assertEquals(List.of("when it is safe"), fx.awaitBotTexts(CHAT, 1));
        Delivery sent = fx.outcomeOf("r-closed", 0);
        assertEquals(Delivery.Outcome.SENT, sent.outcome());
        assertEquals(1, fx.sendMessageCalls(CHAT));
        assertEquals(0, emitter.sentWithoutClaim());
        assertEquals(
                java.util.Optional.of("sent:" + sent.telegramMessageId()),
                new RedisClaimStore(client, "ts-test:")
                        .get(PartSender.claimKey(EmitterFixture.part(CHAT, "r-closed", 0, true, "when it is safe"))));
    }
}
