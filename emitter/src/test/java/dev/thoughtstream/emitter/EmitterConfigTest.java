package dev.thoughtstream.emitter;

import static dev.thoughtstream.testkit.config.ConfigAssertions.assertRejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.RedisOutage;
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

        assertEquals(30, c.typing().charsPerSecond());
        assertEquals(Duration.ofMillis(400), c.typing().min());
        assertEquals(Duration.ofMillis(4000), c.typing().max());
        assertEquals(0.2, c.typing().jitter());
        assertEquals(OptionalLong.empty(), c.typing().seed());
        assertEquals(Duration.ZERO, c.typing().readingPause());
        assertEquals(Duration.ofDays(7), c.claims().ttl());
        assertEquals(5, c.claims().maxAttempts());
        assertEquals("thoughtstream-emitter", c.consumer().groupId());
        assertEquals("https://api.telegram.org", c.telegram().apiUrl().toString());
        assertEquals(8, c.sending().threads());
        assertEquals(1_000, c.consumer().maxBuffered());
        assertEquals(RedisOutage.FAIL_OPEN, c.claims().redisOutage());
        assertEquals(1, c.limits().chatPerSecond());
        assertEquals(3, c.limits().chatBurst());
        assertEquals(20, c.limits().groupPerMinute());
        assertEquals(30, c.limits().globalPerSecond());
        assertEquals(1, c.limits().instances());
        assertFalse(c.sending().dryRun());
    }

    @Test
    void everyVariableIsRead() {
        EmitterConfig c = EmitterConfig.from(config(
                "TYPING_CPS",
                "12.5",
                "TYPING_MIN_MS",
                "100",
                "TYPING_MAX_MS",
                "900",
                "TYPING_JITTER",
                "0",
                "TYPING_SEED",
                "-7",
                "READING_PAUSE_MS",
                "250",
                "EMITTER_CLAIM_TTL_MS",
                "3600000",
                "EMITTER_MAX_SEND_ATTEMPTS",
                "2",
                "EMITTER_GROUP_ID",
                "g",
                "TG_API_URL",
                "http://127.0.0.1:8088",
                "EMITTER_SEND_THREADS",
                "3",
                "EMITTER_MAX_BUFFERED",
                "50",
                "EMITTER_REDIS_OUTAGE",
                "fail-closed",
                "EMITTER_CHAT_RATE_PER_S",
                "0.5",
                "EMITTER_CHAT_BURST",
                "2",
                "EMITTER_GROUP_RATE_PER_MIN",
                "10",
                "EMITTER_GLOBAL_RATE_PER_S",
                "0",
                "EMITTER_LIMIT_INSTANCES",
                "3",
                "EMITTER_DRY_RUN",
                "true"));

        assertEquals(12.5, c.typing().charsPerSecond());
        assertEquals(Duration.ofMillis(100), c.typing().min());
        assertEquals(Duration.ofMillis(900), c.typing().max());
        assertEquals(0, c.typing().jitter());
        assertEquals(OptionalLong.of(-7), c.typing().seed());
        assertEquals(Duration.ofMillis(250), c.typing().readingPause());
        assertEquals(Duration.ofHours(1), c.claims().ttl());
        assertEquals(2, c.claims().maxAttempts());
        assertEquals("g", c.consumer().groupId());
        assertEquals(8088, c.telegram().port());
        assertEquals(3, c.sending().threads());
        assertEquals(50, c.consumer().maxBuffered());
        assertEquals(RedisOutage.FAIL_CLOSED, c.claims().redisOutage());
        assertEquals(0.5, c.limits().chatPerSecond());
        assertEquals(2, c.limits().chatBurst());
        assertEquals(10, c.limits().groupPerMinute());
        assertEquals(0, c.limits().globalPerSecond());
        assertEquals(3, c.limits().instances());
        assertTrue(c.sending().dryRun());
    }

    @Test
    void anInstancesShareOfTheBotsLimitsIsItsPartOfThemAndNeverNothing() {
        EmitterConfig.RateLimits limits = EmitterConfig.from(config(
                        "EMITTER_LIMIT_INSTANCES", "4", "EMITTER_GROUP_RATE_PER_MIN", "2", "EMITTER_CHAT_BURST", "2"))
                .limits();

        EmitterConfig.RateLimits share = limits.localShare();

        assertEquals(7, share.globalPerSecond());
        assertEquals(1, share.groupPerMinute());
        assertEquals(1, share.chatPerSecond());
        assertEquals(2, share.chatBurst());
        assertEquals(0, limits.share(0));
    }

    @Test
    void aTypingMaximumBelowTheMinimumNamesTypingMaxMs() {
        assertRejects(
                "TYPING_MAX_MS",
                () -> EmitterConfig.from(config("TYPING_MIN_MS", "500", "TYPING_MAX_MS", "100")),
                "TYPING_MIN_MS");
    }

    @Test
    void equalTypingBoundsAreAllowed() {
        EmitterConfig c = EmitterConfig.from(config("TYPING_MIN_MS", "0", "TYPING_MAX_MS", "0"));

        assertEquals(Duration.ZERO, c.typing().max());
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
        "EMITTER_REDIS_OUTAGE, sometimes",
        "EMITTER_REDIS_MODE, sometimes",
        "EMITTER_CHAT_RATE_PER_S, -1",
        "EMITTER_CHAT_BURST, 0",
        "EMITTER_GROUP_RATE_PER_MIN, -1",
        "EMITTER_GLOBAL_RATE_PER_S, lots",
        "EMITTER_LIMIT_INSTANCES, 0",
        "EMITTER_LIMIT_INSTANCES, many",
        "EMITTER_DRY_RUN, maybe",
        "TG_API_URL, ftp://example.org",
        "TG_API_URL, http://example.org/some/path",
        "TG_BOT_TOKEN, not-a-token"
    })
    void anInvalidValueFailsNamingItsVariable(String variable, String value) {
        ConfigException e = assertRejects(variable, () -> EmitterConfig.from(config(variable, value)));

        assertTrue(e.getMessage().startsWith(variable + ": "), e.getMessage());
    }

    @Test
    void theRedisOutageSwitchIsStillReadUnderItsEarlierName() {
        // given only the deprecated EMITTER_REDIS_MODE
        EmitterConfig c = EmitterConfig.from(config("EMITTER_REDIS_MODE", "fail-closed"));

        // then it is read as EMITTER_REDIS_OUTAGE
        assertEquals(RedisOutage.FAIL_CLOSED, c.claims().redisOutage());
    }

    @Test
    void theNewRedisOutageNameWinsOverTheEarlierOne() {
        // given both names, saying different things
        EmitterConfig c =
                EmitterConfig.from(config("EMITTER_REDIS_OUTAGE", "fail-open", "EMITTER_REDIS_MODE", "fail-closed"));

        // then the new one counts
        assertEquals(RedisOutage.FAIL_OPEN, c.claims().redisOutage());
    }

    @Test
    void aMissingTokenIsNamedAndAMalformedOneIsNotEchoed() {
        assertRejects("TG_BOT_TOKEN", () -> EmitterConfig.from(Config.of(Map.of())));

        ConfigException malformed =
                assertRejects("TG_BOT_TOKEN", () -> EmitterConfig.from(config("TG_BOT_TOKEN", "secret/with/slashes")));
        assertFalse(malformed.getMessage().contains("secret/with/slashes"), malformed.getMessage());
    }
}
