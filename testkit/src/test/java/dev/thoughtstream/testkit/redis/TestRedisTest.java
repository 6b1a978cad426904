package dev.thoughtstream.testkit.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

class TestRedisTest {

    @Test
    void theSharedRedisIsStartedOnceAndAnswers() {
        // when the URL is asked for twice, then it is the same server, and a real one
        assertEquals(TestRedis.url(), TestRedis.url());
        assertEquals(TestRedis.url(), TestRedis.settings().url());
        try (RedisClient client =
                RedisClient.create(TestRedis.url().getHost(), TestRedis.url().getPort())) {
            assertEquals("PONG", client.ping());
            assertTrue(client.info("server").contains("redis_version:"));
        }
    }

    @Test
    void uniqueKeyPrefixesDiffer() {
        Set<String> prefixes = IntStream.range(0, 100)
                .mapToObj(i -> TestRedis.uniqueKeyPrefix("emitter test"))
                .collect(java.util.stream.Collectors.toSet());
        assertEquals(100, prefixes.size());
        prefixes.forEach(p -> assertTrue(p.startsWith("test:emitter-test:") && p.endsWith(":"), p));
    }
}
