package dev.thoughtstream.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.logging.LogSettings;
import dev.thoughtstream.common.service.Infra;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A configuration check reports every bad variable at once, although each settings class stops at its first: each
 * shared settings class's bad values are all named, with their values (secrets never) and the expected form.
 */
class ConfigCheckTest {
    private static final String TOKEN = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    @Test
    void everyBadKafkaVariableIsReportedNotOnlyTheFirst() {
        // given Kafka settings with three bad values
        Config config = Config.of(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "kafka:9092",
                "TOPIC_PARTITIONS", "abc",
                "TOPIC_REPLICATION_FACTOR", "0",
                "INSTANCE_ID", "no spaces please"));

        // when they are checked
        ConfigCheck check = ConfigCheck.of(config).check(KafkaSettings::from);

        // then all three are named, each with its value and what was expected
        assertFalse(check.passed());
        assertEquals(Set.of("INSTANCE_ID", "TOPIC_PARTITIONS", "TOPIC_REPLICATION_FACTOR"), check.variables());
        assertEquals(
                List.of(
                        "INSTANCE_ID: expected 1 to 200 of A-Z a-z 0-9 . _ - but was 'no spaces please'",
                        "TOPIC_PARTITIONS: expected a whole number but was 'abc'",
                        "TOPIC_REPLICATION_FACTOR: expected a value in [1, 32767] but was 0"),
                check.lines());
    }

    @Test
    void aMissingRequiredVariableDoesNotHideTheBadOnesAfterIt() {
        // given no bootstrap servers (read first) and a bad partition count (read after)
        Config config = Config.of(Map.of("TOPIC_PARTITIONS", "-1"));

        ConfigCheck check = ConfigCheck.of(config).check(KafkaSettings::from);

        assertEquals(Set.of("KAFKA_BOOTSTRAP_SERVERS", "TOPIC_PARTITIONS"), check.variables());
        assertTrue(
                check.lines().contains("KAFKA_BOOTSTRAP_SERVERS: is required but not set"),
                check.lines().toString());
    }

    @Test
    void aBadRequiredTokenDoesNotHideABadApiUrlAndItsValueIsNeverShown() {
        // given a mistyped bot token (required, and a secret) and an API URL with a path
        String mistyped = "123456789-AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";
        Config config = Config.of(Map.of("TG_BOT_TOKEN", mistyped, "TG_API_URL", "https://api.telegram.org/bot"));

        ConfigCheck check = ConfigCheck.of(config).check(TelegramSettings::from);

        // then both are reported, and the token's value appears nowhere
        assertEquals(Set.of("TG_API_URL", "TG_BOT_TOKEN"), check.variables());
        assertFalse(check.report().contains(mistyped), check.report());
        assertFalse(check.report().contains("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw"), check.report());
    }

    @Test
    void aPasswordInTheRedisUrlIsNotRepeated() {
        // given a Redis URL with a password and the wrong scheme, and a bad timeout
        Config config = Config.of(Map.of("REDIS_URL", "http://user:hunter22@redis:6379", "REDIS_TIMEOUT_MS", "soon"));

        ConfigCheck check = ConfigCheck.of(config).check(RedisSettings::from);

        assertEquals(Set.of("REDIS_TIMEOUT_MS", "REDIS_URL"), check.variables());
        assertFalse(check.report().contains("hunter22"), check.report());
        assertTrue(check.report().contains("REDIS_TIMEOUT_MS: expected a whole number but was 'soon'"), check.report());
    }

    @Test
    void aSecretQuotedByAnyMessageIsRedacted() {
        // given a reader whose message quotes a key (a mistake a check must not pass on)
        Config config = Config.of(Map.of("LLM_API_KEY", "sk-verysecret", "LLM_MODEL", "gpt-9"));

        ConfigCheck check = ConfigCheck.of(config).check(c -> {
            throw new ConfigException("LLM_MODEL", "unknown for the key " + c.string("LLM_API_KEY", ""));
        });

        assertEquals("invalid configuration: LLM_MODEL: unknown for the key <redacted> (was 'gpt-9')", check.report());
    }

    @Test
    void aVariableBadForSeveralReadersIsReportedOnceAndEveryReaderIsChecked() {
        // given a bad LOG_FORMAT, read by both the logging settings and the shared settings, and a bad HTTP_PORT
        Config config = Config.of(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "kafka:9092",
                "LOG_FORMAT", "loud",
                "LOG_LEVEL", "LOUD",
                "HTTP_PORT", "eighty"));

        ConfigCheck check = ConfigCheck.of(config).check(LogSettings::from).check(c -> Infra.Settings.from(c, false));

        assertEquals(Set.of("HTTP_PORT", "LOG_FORMAT", "LOG_LEVEL"), check.variables());
        assertEquals(3, check.lines().size());
        assertTrue(
                check.report().startsWith("invalid configuration, 3 variables to fix:\n  HTTP_PORT: "), check.report());
    }

    @Test
    void oneBadVariableIsOneLineAsBefore() {
        Config config = Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092", "TOPIC_PARTITIONS", "abc"));

        ConfigCheck check = ConfigCheck.of(config).check(KafkaSettings::from);

        assertEquals("invalid configuration: TOPIC_PARTITIONS: expected a whole number but was 'abc'", check.report());
    }

    @Test
    void aProblemThatDoesNotQuoteTheValueGetsItAdded() {
        Config config = Config.of(Map.of("SOME_LIMIT", "7"));

        ConfigCheck check = ConfigCheck.of(config).check(c -> {
            if (c.isSet("SOME_LIMIT")) {
                throw new ConfigException("SOME_LIMIT", "must be at least OTHER_LIMIT (9)");
            }
        });

        assertEquals(List.of("SOME_LIMIT: must be at least OTHER_LIMIT (9) (was '7')"), check.lines());
    }

    @Test
    void aGoodConfigurationPassesWithNothingToReport() {
        Config config = Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka:9092", "TG_BOT_TOKEN", TOKEN));

        ConfigCheck check = ConfigCheck.of(config)
                .check(KafkaSettings::from)
                .check(RedisSettings::from)
                .check(TelegramSettings::from)
                .check(LogSettings::from);

        assertTrue(check.passed());
        assertEquals("", check.report());
    }

    @Test
    void hostsAreNotLookedUp() {
        // given names no resolver knows (.invalid, RFC 2606): a check that looked them up would fail
        Config config = Config.of(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "kafka.invalid:9092",
                "REDIS_URL", "redis://redis.invalid:6379",
                "TG_BOT_TOKEN", TOKEN,
                "TG_API_URL", "http://telegram.invalid:8081"));

        ConfigCheck check = ConfigCheck.of(config)
                .check(KafkaSettings::from)
                .check(RedisSettings::from)
                .check(TelegramSettings::from);

        assertTrue(check.passed(), check.report());
    }
}
