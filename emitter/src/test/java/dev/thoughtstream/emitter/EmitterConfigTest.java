package dev.thoughtstream.emitter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EmitterConfigTest {
    private static final String TOKEN = "123:abc_DEF-ghi";

    private static Config config(String... pairs) {
        Map<String, String> values = new HashMap<>();
        values.put("TG_BOT_TOKEN", TOKEN);
        for (int i = 0; i < pairs.length; i += 2) {
            values.put(pairs[i], pairs[i + 1]);
        }
        return Config.of(values);
    }

    @Test
    void defaultsNeedOnlyTheBotToken() {
        EmitterConfig c = EmitterConfig.from(config());

        assertEquals(30, c.typingCps());
        assertEquals(Duration.ofMillis(400), c.typingMin());
        assertEquals(Duration.ofMillis(4000), c.typingMax());
        assertEquals(0.2, c.typingJitter());
        assertEquals(OptionalLong.empty(), c.typingSeed());
        assertEquals(Duration.ZERO, c.readingPause());
        assertEquals(Duration.ofDays(7), c.claimTtl());
        assertEquals(5, c.maxSendAttempts());
        assertEquals("thoughtstream-emitter", c.groupId());
        assertEquals("https://api.telegram.org", c.telegram().apiUrl().toString());
        assertEquals(8, c.sendThreads());
        assertEquals(1_000, c.maxBuffered());
        assertEquals(EmitterConfig.RedisMode.FAIL_OPEN, c.redisMode());
        assertEquals(1, c.chatRatePerSecond());
        assertEquals(3, c.chatBurst());
        assertEquals(20, c.groupRatePerMinute());
        assertEquals(30, c.globalRatePerSecond());
        assertFalse(c.dryRun());
    }

    @Test
    void everyVariableIsRead() {
        EmitterConfig c = EmitterConfig.from(config("TYPING_CPS", "12.5", "TYPING_MIN_MS", "100", "TYPING_MAX_MS",
                "900", "TYPING_JITTER", "0", "TYPING_SEED", "-7", "READING_PAUSE_MS", "250", "EMITTER_CLAIM_TTL_MS",
                "3600000", "EMITTER_MAX_SEND_ATTEMPTS", "2", "EMITTER_GROUP_ID", "g", "TG_API_URL",
                "http://127.0.0.1:8088", "EMITTER_SEND_THREADS", "3", "EMITTER_MAX_BUFFERED", "50",
                "EMITTER_REDIS_MODE", "fail-closed", "EMITTER_CHAT_RATE_PER_S", "0.5", "EMITTER_CHAT_BURST", "2",
                "EMITTER_GROUP_RATE_PER_MIN", "10", "EMITTER_GLOBAL_RATE_PER_S", "0", "EMITTER_DRY_RUN", "true"));

        assertEquals(12.5, c.typingCps());
        assertEquals(Duration.ofMillis(100), c.typingMin());
        assertEquals(Duration.ofMillis(900), c.typingMax());
        assertEquals(0, c.typingJitter());
        assertEquals(OptionalLong.of(-7), c.typingSeed());
        assertEquals(Duration.ofMillis(250), c.readingPause());
        assertEquals(Duration.ofHours(1), c.claimTtl());
        assertEquals(2, c.maxSendAttempts());
        assertEquals("g", c.groupId());
        assertEquals(8088, c.telegram().port());
        assertEquals(3, c.sendThreads());
        assertEquals(50, c.maxBuffered());
        assertEquals(EmitterConfig.RedisMode.FAIL_CLOSED, c.redisMode());
        assertEquals(0.5, c.chatRatePerSecond());
        assertEquals(2, c.chatBurst());
        assertEquals(10, c.groupRatePerMinute());
        assertEquals(0, c.globalRatePerSecond());
        assertTrue(c.dryRun());
    }

    @Test
    void aTypingMaximumBelowTheMinimumNamesTypingMaxMs() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> EmitterConfig.from(config("TYPING_MIN_MS", "500", "TYPING_MAX_MS", "100")));

        assertEquals("TYPING_MAX_MS", e.variable());
        assertTrue(e.getMessage().contains("TYPING_MIN_MS"), e.getMessage());
    }

    @Test
    void equalTypingBoundsAreAllowed() {
        EmitterConfig c = EmitterConfig.from(config("TYPING_MIN_MS", "0", "TYPING_MAX_MS", "0"));

        assertEquals(Duration.ZERO, c.typingMax());
    }

    @ParameterizedTest(name = "{0}={1} is rejected")
    @CsvSource({
        "TYPING_CPS, 0",
        "TYPING_CPS, fast",
        "TYPING_MIN_MS, -1",
        "TYPING_MAX_MS, 120001",
        "TYPING_JITTER, 1.5",
        "TYPING_SEED, seed",
        "READING_PAUSE_MS, 60001",
        "EMITTER_CLAIM_TTL_MS, 1000",
        "EMITTER_MAX_SEND_ATTEMPTS, 0",
        "EMITTER_SEND_THREADS, 0",
        "EMITTER_MAX_BUFFERED, 0",
        "EMITTER_REDIS_MODE, sometimes",
        "EMITTER_CHAT_RATE_PER_S, -1",
        "EMITTER_CHAT_BURST, 0",
        "EMITTER_GROUP_RATE_PER_MIN, -1",
        "EMITTER_GLOBAL_RATE_PER_S, lots",
        "EMITTER_DRY_RUN, maybe",
        "TG_API_URL, ftp://example.org",
        "TG_API_URL, http://example.org/some/path",
        "TG_BOT_TOKEN, not-a-token"
    })
    void anInvalidValueFailsNamingItsVariable(String variable, String value) {
        ConfigException e = assertThrows(ConfigException.class, () -> EmitterConfig.from(config(variable, value)));

        assertEquals(variable, e.variable());
        assertTrue(e.getMessage().startsWith(variable + ": "), e.getMessage());
    }

    @Test
    void aMissingTokenIsNamedAndAMalformedOneIsNotEchoed() {
        ConfigException missing = assertThrows(ConfigException.class,
                () -> EmitterConfig.from(Config.of(Map.of())));
        assertEquals("TG_BOT_TOKEN", missing.variable());

        ConfigException malformed = assertThrows(ConfigException.class,
                () -> EmitterConfig.from(config("TG_BOT_TOKEN", "secret/with/slashes")));
        assertFalse(malformed.getMessage().contains("secret/with/slashes"), malformed.getMessage());
    }
}
