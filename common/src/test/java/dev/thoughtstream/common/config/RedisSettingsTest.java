package dev.thoughtstream.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RedisSettingsTest {

    @Test
    void redisUrlWinsOverHostAndPort() {
        RedisSettings s =
                RedisSettings.from(Config.of(Map.of("REDIS_URL", "redis://cache:6400/2", "REDIS_HOST", "other")));

        assertEquals("cache", s.url().getHost());
        assertEquals("ts:", s.keyPrefix(), "the default key prefix");
        assertEquals(6400, s.url().getPort());
    }

    @Test
    void theOriginalBotsRedisHostStillWorks() {
        RedisSettings s = RedisSettings.from(Config.of(Map.of("REDIS_HOST", "redis")));

        assertEquals("redis://redis:6379", s.url().toString());
        assertTrue(RedisSettings.isConfigured(Config.of(Map.of("REDIS_HOST", "redis"))));
        assertFalse(RedisSettings.isConfigured(Config.of(Map.of())));
    }

    @Test
    void aNonRedisUrlFailsNamingTheVariableWithoutThePassword() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> RedisSettings.from(Config.of(Map.of("REDIS_URL", "http://user:s3cret@cache:6379"))));

        assertEquals("REDIS_URL", e.variable());
        assertFalse(e.getMessage().contains("s3cret"), e.getMessage());
    }

    @Test
    void toStringRedactsCredentials() {
        RedisSettings s = RedisSettings.from(Config.of(Map.of("REDIS_URL", "redis://:s3cret@cache:6379")));

        assertFalse(s.toString().contains("s3cret"), s.toString());
    }

    @Test
    void deploymentsSharingARedisSeparateTheirKeysWithAPrefix() {
        RedisSettings s = RedisSettings.from(Config.of(Map.of("REDIS_HOST", "redis", "REDIS_KEY_PREFIX", "staging:")));

        assertEquals("staging:", s.keyPrefix());
    }
}
