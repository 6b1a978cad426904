package dev.thoughtstream.testkit.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.redis.ChatActivity;
import dev.thoughtstream.common.redis.InMemoryChatActivity;
import dev.thoughtstream.common.redis.RedisChatActivity;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.testkit.Await;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.exceptions.JedisException;

class ChatActivityTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private final List<AutoCloseable> toClose = new CopyOnWriteArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (AutoCloseable c : toClose) {
            c.close();
        }
    }

    private <T extends AutoCloseable> T track(T c) {
        toClose.add(0, c);
        return c;
    }

    private RedisChatActivity activity(RedisSettings settings, String prefix) {
        RedisClient client = track(RedisClaimStore.connect(settings));
        return track(new RedisChatActivity(client, prefix, Duration.ofMinutes(10)));
    }

    @Test
    void onlyANewerMessageRaisesTheRegisterAndAnOlderOneNeverLowersIt() {
        RedisChatActivity ingest = activity(TestRedis.settings(), TestRedis.uniqueKeyPrefix("activity"));

        assertTrue(ingest.recordIngested(42, 10));
        assertFalse(ingest.recordIngested(42, 10), "the same message again is not newer");
        assertFalse(ingest.recordIngested(42, 9), "an older message does not lower it");
        assertTrue(ingest.recordIngested(42, 11));

        assertEquals(OptionalLong.of(11), ingest.newest(42));
        assertEquals(OptionalLong.empty(), ingest.newest(43));
        assertTrue(ingest.isSuperseded(42, 10));
        assertFalse(ingest.isSuperseded(42, 11));
        assertFalse(ingest.isSuperseded(43, 1), "a chat with no known message supersedes nothing");
    }

    @Test
    void aBatchRaisesOnlyTheChatsWithANewerMessageAndAnnouncesEachOnce() throws Exception {
        // given: chat 1 at message 10, chat 2 at 20, and a listener in another instance
        String prefix = TestRedis.uniqueKeyPrefix("activity");
        RedisChatActivity ingest = activity(TestRedis.settings(), prefix);
        RedisChatActivity emitter = activity(TestRedis.settings(), prefix);
        List<String> heard = new CopyOnWriteArrayList<>();
        emitter.subscribe((chat, message) -> heard.add(chat + ":" + message));
        assertTrue(emitter.startSubscriber(TIMEOUT));
        ingest.recordIngested(Map.of(1L, 10L, 2L, 20L));
        Await.until("the first two announced", TIMEOUT, () -> heard.size() == 2);

        // when one batch brings chat 1 a newer message, chat 2 an older one and chat 3 its first
        Map<Long, Long> batch = new LinkedHashMap<>();
        batch.put(1L, 11L);
        batch.put(2L, 19L);
        batch.put(3L, -5L);
        assertEquals(Set.of(1L, 3L), ingest.recordIngested(batch));

        // then only the raised chats are announced, and chat 2 keeps its newer message
        Await.until("the raises announced", TIMEOUT, () -> heard.size() == 4);
        assertEquals(Set.of("1:10", "2:20", "1:11", "3:-5"), Set.copyOf(heard));
        assertEquals(OptionalLong.of(11), ingest.newest(1));
        assertEquals(OptionalLong.of(20), ingest.newest(2));
        assertEquals(Set.of(), ingest.recordIngested(Map.of()));
    }

    @Test
    void anotherInstanceHearsOfANewerMessageAtOnceThroughPubSub() throws Exception {
        String prefix = TestRedis.uniqueKeyPrefix("activity");
        RedisChatActivity ingest = activity(TestRedis.settings(), prefix);
        RedisChatActivity emitter = activity(TestRedis.settings(), prefix);
        List<String> heard = new CopyOnWriteArrayList<>();
        emitter.subscribe((chat, message) -> heard.add(chat + ":" + message));
        assertTrue(emitter.startSubscriber(TIMEOUT));

        ingest.recordIngested(7, 100);
        ingest.recordIngested(7, 99);
        ingest.recordIngested(8, 5);

        Await.until("both newer messages announced", TIMEOUT, () -> heard.size() >= 2);
        assertEquals(List.of("7:100", "8:5"), heard, "the older message is not announced");
        assertEquals(OptionalLong.of(100), emitter.newest(7));
    }

    @Test
    void theRegisterExpiresSoIdleChatsLeaveNothingBehind() {
        RedisSettings settings = TestRedis.settings();
        String prefix = TestRedis.uniqueKeyPrefix("activity");
        RedisClient client = track(RedisClaimStore.connect(settings));
        RedisChatActivity ingest = track(new RedisChatActivity(client, prefix, Duration.ofMillis(300)));

        ingest.recordIngested(5, 1);

        long ttl = client.pttl(prefix + "chat:5:newest");
        assertTrue(ttl > 0 && ttl <= 300, "ttl " + ttl);
        Await.until("the register to expire", TIMEOUT, () -> ingest.newest(5).isEmpty());
    }

    @Test
    void theSubscriberComesBackAfterRedisRestartsAndDoesNotTrustWhatItMissed(@TempDir Path dir) throws Exception {
        RedisServer server = RedisServer.start(dir, 0);
        int port = server.port();
        RedisSettings settings =
                RedisSettings.from(Config.of(Map.of("REDIS_URL", server.url().toString())));
        String prefix = "restart:";
        RedisChatActivity ingest = activity(settings, prefix);
        RedisChatActivity emitter = activity(settings, prefix);
        List<String> heard = new CopyOnWriteArrayList<>();
        emitter.subscribe((chat, message) -> heard.add(chat + ":" + message));
        assertTrue(emitter.startSubscriber(TIMEOUT));
        ingest.recordIngested(1, 1);
        Await.until("the first announcement", TIMEOUT, () -> heard.contains("1:1"));

        // When Redis goes away, reads fail (callers fail open) and the subscription is known to be lost
        server.close();
        Await.until("the subscription to be noticed lost", TIMEOUT, () -> !emitter.isSubscribed());
        assertThrows(JedisException.class, () -> emitter.newest(1));

        // Then, with Redis back on the same port, the subscriber resubscribes and hears new messages
        try (RedisServer again = RedisServer.start(dir.resolve("again"), port)) {
            Await.until("the subscriber to be back", TIMEOUT, emitter::isSubscribed);
            Await.until("an announcement after the restart", TIMEOUT, () -> {
                ingest.recordIngested(2, heard.size() + 10L);
                return heard.stream().anyMatch(h -> h.startsWith("2:"));
            });
            assertEquals(OptionalLong.empty(), emitter.newest(1), "the restarted Redis lost chat 1; no stale cache");
        }
    }

    @Test
    void theInMemoryFallbackHasTheSameSemanticsWithinOneJvm() {
        ChatActivity activity = new InMemoryChatActivity();
        List<String> heard = new CopyOnWriteArrayList<>();
        activity.subscribe((chat, message) -> heard.add(chat + ":" + message));

        assertTrue(activity.recordIngested(3, 5));
        assertFalse(activity.recordIngested(3, 5));
        assertFalse(activity.recordIngested(3, 4));
        assertTrue(activity.recordIngested(3, 6));

        assertEquals(List.of("3:5", "3:6"), heard);
        assertTrue(activity.isSuperseded(3, 5));
    }
}
