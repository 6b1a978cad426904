package dev.thoughtstream.testkit.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.testkit.Await;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.exceptions.JedisConnectionException;

/** {@code common}'s {@link RedisClaimStore} against a real Redis ({@link TestRedis}). */
class RedisClaimStoreTest {
    private static final Duration LONG_TTL = Duration.ofMinutes(5);

    private RedisClaimStore store;

    @BeforeEach
    void connect() {
        store = new RedisClaimStore(RedisClaimStore.connect(TestRedis.settings()), TestRedis.uniqueKeyPrefix("claims"));
    }

    @AfterEach
    void close() {
        store.close();
    }

    @Test
    void theFirstClaimOfAKeyWinsAndASecondLoses() {
        assertTrue(store.claim("reply:1:part:0", "sender-a", LONG_TTL));

        assertFalse(store.claim("reply:1:part:0", "sender-b", LONG_TTL));
        assertEquals(Optional.of("sender-a"), store.get("reply:1:part:0"), "the loser did not overwrite");
    }

    @Test
    void afterTheTtlExpiresANewClaimWins() {
        // given a claim with a short TTL
        Duration shortTtl = Duration.ofMillis(200);
        assertTrue(store.claim("reply:2:part:0", "crashed-sender", shortTtl));
        assertFalse(store.claim("reply:2:part:0", "too-early", shortTtl));

        // when another sender keeps trying, then it wins once the TTL has passed
        Await.until(
                "the expired claim to be won again",
                Duration.ofSeconds(30),
                () -> store.claim("reply:2:part:0", "next-sender", LONG_TTL));
        assertEquals(Optional.of("next-sender"), store.get("reply:2:part:0"));
    }

    @Test
    void putOverwritesGetReadsAndDeleteRemoves() {
        assertEquals(Optional.empty(), store.get("reply:3:part:0"));

        store.claim("reply:3:part:0", "sending", LONG_TTL);
        store.put("reply:3:part:0", "sent:message-42", LONG_TTL);
        assertEquals(Optional.of("sent:message-42"), store.get("reply:3:part:0"));

        store.delete("reply:3:part:0");
        assertEquals(Optional.empty(), store.get("reply:3:part:0"));
        assertTrue(store.claim("reply:3:part:0", "after-delete", LONG_TTL), "a deleted key can be claimed again");
    }

    @Test
    void getAllReadsKeysInTheirOrderAndPutAllWritesThemAllWithTheTtl() {
        // given two keys of three set
        store.put("update:2", "seen", LONG_TTL);

        // when several are read at once, then each answer is in its key's place
        assertEquals(
                List.of(Optional.empty(), Optional.of("seen"), Optional.empty()),
                store.getAll(List.of("update:1", "update:2", "update:3")));
        assertEquals(List.of(), store.getAll(List.of()));

        // when several are written at once (a short TTL), then all hold the value, and all expire
        store.putAll(List.of("update:1", "update:3"), "1", Duration.ofMillis(300));
        assertEquals(
                List.of(Optional.of("1"), Optional.of("seen"), Optional.of("1")),
                store.getAll(List.of("update:1", "update:2", "update:3")));
        Await.until(
                "the short-lived keys to expire",
                Duration.ofSeconds(30),
                () -> store.getAll(List.of("update:1", "update:3")).stream().allMatch(Optional::isEmpty));
        assertEquals(Optional.of("seen"), store.get("update:2"));
    }

    @Test
    void replaceSetsTheNewValueOnlyWhileTheKeyHoldsTheExpectedOne() {
        // given a key held by a crashed process's attempt
        assertTrue(store.claim("thought:1", "node-1#old/7", LONG_TTL));

        // when it is replaced expecting another value, nothing changes
        assertFalse(store.replace("thought:1", "node-1#other/1", "node-1#new/1", LONG_TTL));
        assertEquals(Optional.of("node-1#old/7"), store.get("thought:1"));

        // and when it is replaced expecting the value it holds, the new value is set
        assertTrue(store.replace("thought:1", "node-1#old/7", "node-1#new/1", LONG_TTL));
        assertEquals(Optional.of("node-1#new/1"), store.get("thought:1"));
        // and a second taker expecting the old value loses
        assertFalse(store.replace("thought:1", "node-1#old/7", "node-1#newer/1", LONG_TTL));
        assertEquals(Optional.of("node-1#new/1"), store.get("thought:1"));
    }

    @Test
    void replaceDoesNotCreateAnAbsentKeyAndSetsTheNewTtl() {
        // given no key, replace creates none
        assertFalse(store.replace("thought:2", "node-1#old/1", "node-1#new/1", LONG_TTL));
        assertEquals(Optional.empty(), store.get("thought:2"));

        // given a key with a long TTL, replaced with a short one
        assertTrue(store.claim("thought:2", "node-1#old/1", LONG_TTL));
        assertTrue(store.replace("thought:2", "node-1#old/1", "node-1#new/1", Duration.ofMillis(200)));

        // then it expires after the new TTL
        Await.until(
                "the replaced claim to expire",
                Duration.ofSeconds(30),
                () -> store.get("thought:2").isEmpty());
    }

    @Test
    void keysOfDifferentPrefixesDoNotCollide() {
        try (RedisClaimStore other = new RedisClaimStore(
                RedisClaimStore.connect(TestRedis.settings()), TestRedis.uniqueKeyPrefix("claims"))) {
            assertTrue(store.claim("same-key", "a", LONG_TTL));
            assertTrue(other.claim("same-key", "b", LONG_TTL));
        }
    }

    @Test
    void aStorePointedAtAClosedPortFailsPromptlyInsteadOfHanging() throws IOException {
        // given a port nothing listens on
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = socket.getLocalPort();
        }
        RedisSettings settings = RedisSettings.from(
                Config.of(Map.of(RedisSettings.URL, "redis://127.0.0.1:" + closedPort, "REDIS_TIMEOUT_MS", "500")));

        try (RedisClaimStore unreachable = new RedisClaimStore(RedisClaimStore.connect(settings), "x:")) {
            // when claiming, then a Jedis connection error surfaces (the generous bound only catches a hang)
            assertTimeoutPreemptively(
                    Duration.ofSeconds(20),
                    () -> assertThrows(JedisConnectionException.class, () -> unreachable.claim("k", "v", LONG_TTL)));
        }
    }
}
