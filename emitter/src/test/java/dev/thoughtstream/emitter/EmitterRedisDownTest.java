package dev.thoughtstream.emitter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.testkit.Await;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Without Redis the bot keeps talking (fail-open), and says so in its counters. */
class EmitterRedisDownTest {
    private static final long CHAT = 4_701;

    private EmitterFixture fx;
    private RedisClaimStore unreachable;

    @BeforeEach
    void setUp() throws IOException {
        fx = EmitterFixture.create("redis-down");
        fx.chatOpens(CHAT);
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        unreachable = new RedisClaimStore(RedisClaimStore.connect(RedisSettings.from(Config.of(Map.of(
                RedisSettings.URL, "redis://127.0.0.1:" + closedPort, "REDIS_TIMEOUT_MS", "200")))), "ts-test:");
    }

    @AfterEach
    void tearDown() {
        unreachable.close();
        fx.close();
    }

    @Test
    void partsAreStillSentWhenRedisIsUnreachableAndTheCounterSaysSo() {
        // given an emitter whose Redis is unreachable
        EmitterService emitter = fx.startEmitter(Map.of(), unreachable, Pause.REAL);

        // when a two-part reply arrives
        fx.produce(EmitterFixture.part(CHAT, "r-no-redis", 0, false, "still"));
        fx.produce(EmitterFixture.part(CHAT, "r-no-redis", 1, true, "talking"));

        // then both reach the person and are reported SENT
        assertEquals(List.of("still", "talking"), fx.awaitBotTexts(CHAT, 2));
        List<Delivery> all = fx.awaitOutcomeOf("r-no-redis", 1);
        assertTrue(all.stream().allMatch(d -> d.outcome() == Delivery.Outcome.SENT), all.toString());
        // and the unprotected sends are counted (as are the failed Redis commands: claim and record, twice)
        Await.until("two sends counted as unprotected", EmitterFixture.TIMEOUT,
                () -> emitter.sentWithoutClaim() == 2);
        assertEquals(4, emitter.claimStoreErrors());
    }
}
