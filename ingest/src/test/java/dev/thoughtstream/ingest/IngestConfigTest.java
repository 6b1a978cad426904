package dev.thoughtstream.ingest;

import static dev.thoughtstream.testkit.config.ConfigAssertions.assertRejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.RedisOutage;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.testkit.config.ConfigAssertions.SettingsRead;
import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class IngestConfigTest {
    private static final String TOKEN = "123456789:AAF-secret_part_of_the_token";

    private static Map<String, String> valid() {
        Map<String, String> v = new HashMap<>();
        v.put(TelegramSettings.TOKEN, TOKEN);
        return v;
    }

    /** Reading the settings with {@code variable} set to {@code value}. */
    private static SettingsRead with(String variable, String value) {
        Map<String, String> v = valid();
        v.put(variable, value);
        return () -> IngestConfig.from(Config.of(v));
    }

    @Test
    void givenOnlyTheToken_thenTelegramDefaultsApply() {
        IngestConfig config = IngestConfig.from(Config.of(valid()));

        assertEquals(URI.create("https://api.telegram.org"), config.telegram().apiUrl());
        assertEquals(123456789L, config.telegram().botId());
        assertEquals(50, config.pollTimeout());
        assertEquals(Duration.ofHours(25), config.dedupTtl(), "longer than Telegram keeps unconfirmed updates");
        assertEquals(Duration.ofSeconds(10), config.retryBackoffMax());
        assertEquals(
                new IngestConfig.Lease(Duration.ofSeconds(10), Duration.ofSeconds(1), RedisOutage.FAIL_CLOSED),
                config.lease());
        assertTrue(config.lease().required(), "fail-closed: polling stops once the lease ran out");
        assertEquals(Duration.ofMillis(3333), config.lease().renewInterval(), "three renewals per ttl");
    }

    @Test
    void givenEverySetting_thenEachIsRead() {
        Map<String, String> v = valid();
        v.put(TelegramSettings.API_URL, "http://127.0.0.1:8088");
        v.put(IngestConfig.POLL_TIMEOUT, "5");
        v.put(IngestConfig.DEDUP_TTL, "172800000");
        v.put(IngestConfig.RETRY_BACKOFF_MAX, "2500");
        v.put(IngestConfig.LEASE_TTL, "30000");
        v.put(IngestConfig.LEASE_RETRY, "250");
        v.put(IngestConfig.REDIS_OUTAGE, "fail-open");

        IngestConfig config = IngestConfig.from(Config.of(v));

        assertEquals(URI.create("http://127.0.0.1:8088"), config.telegram().apiUrl());
        assertEquals(8088, config.telegram().port());
        assertEquals(5, config.pollTimeout());
        assertEquals(Duration.ofDays(2), config.dedupTtl());
        assertEquals(Duration.ofMillis(2500), config.retryBackoffMax());
        assertEquals(
                new IngestConfig.Lease(Duration.ofSeconds(30), Duration.ofMillis(250), RedisOutage.FAIL_OPEN),
                config.lease());
        assertFalse(config.lease().required());
    }

    @Test
    @SuppressWarnings("deprecation")
    void givenOnlyTheOldLeaseRequiredVariable_thenItStillSetsTheRedisOutageMode() {
        // given: a deployment that still sets the old true/false variable
        Map<String, String> v = valid();
        v.put(IngestConfig.LEASE_REQUIRED, "false");

        // when
        IngestConfig config = IngestConfig.from(Config.of(v));

        // then: false meant "keep polling through a Redis outage"
        assertEquals(RedisOutage.FAIL_OPEN, config.lease().outage());
    }

    @Test
    @SuppressWarnings("deprecation")
    void givenBothTheOldAndTheNewVariable_thenTheNewOneWins() {
        Map<String, String> v = valid();
        v.put(IngestConfig.LEASE_REQUIRED, "false");
        v.put(IngestConfig.REDIS_OUTAGE, "fail-closed");

        assertEquals(
                RedisOutage.FAIL_CLOSED, IngestConfig.from(Config.of(v)).lease().outage());
    }

    @Test
    @SuppressWarnings("deprecation")
    void givenBadLeaseSettings_thenTheErrorNamesTheVariable() {
        assertRejects("INGEST_LEASE_TTL_MS", with(IngestConfig.LEASE_TTL, "100"));
        assertRejects("INGEST_LEASE_TTL_MS", with(IngestConfig.LEASE_TTL, "10s"));
        assertRejects("INGEST_LEASE_RETRY_MS", with(IngestConfig.LEASE_RETRY, "0"));
        assertRejects("INGEST_REDIS_OUTAGE", with(IngestConfig.REDIS_OUTAGE, "maybe"));
        assertRejects("INGEST_LEASE_REQUIRED", with(IngestConfig.LEASE_REQUIRED, "maybe"));
    }

    @Test
    void givenAPollTimeoutThatIsNotANumber_thenTheErrorNamesTheVariableAndTheValue() {
        ConfigException e = assertRejects("INGEST_POLL_TIMEOUT_S", with(IngestConfig.POLL_TIMEOUT, "soon"), "'soon'");

        assertTrue(e.getMessage().startsWith("INGEST_POLL_TIMEOUT_S: "), e.getMessage());
    }

    @Test
    void givenAPollTimeoutBeyondTelegramsLimit_thenTheErrorNamesTheVariableAndTheRange() {
        assertRejects("INGEST_POLL_TIMEOUT_S", with(IngestConfig.POLL_TIMEOUT, "51"), "[0, 50]");
        assertRejects("INGEST_POLL_TIMEOUT_S", with(IngestConfig.POLL_TIMEOUT, "-1"));
    }

    @Test
    void givenADedupTtlShorterThanTelegramKeepsUpdates_thenItIsRejected() {
        // the message names the one-day minimum
        assertRejects("INGEST_DEDUP_TTL_MS", with(IngestConfig.DEDUP_TTL, "3600000"), "86400000");
    }

    @Test
    void givenABadRetryBackoff_thenTheErrorNamesTheVariable() {
        assertRejects("INGEST_RETRY_BACKOFF_MAX_MS", with(IngestConfig.RETRY_BACKOFF_MAX, "5"));
        assertRejects("INGEST_RETRY_BACKOFF_MAX_MS", with(IngestConfig.RETRY_BACKOFF_MAX, "10s"));
    }

    @Test
    void givenNoToken_thenTheErrorNamesIt() {
        assertRejects("TG_BOT_TOKEN", () -> IngestConfig.from(Config.of(Map.of())));
    }

    @Test
    void givenAMalformedToken_thenTheErrorNamesTheVariableWithoutEchoingTheValue() {
        ConfigException e = assertRejects("TG_BOT_TOKEN", with(TelegramSettings.TOKEN, "secret_but_mistyped"));

        assertFalse(e.getMessage().contains("secret_but_mistyped"), e.getMessage());
    }

    @Test
    void givenAnApiUrlWithAPath_thenItIsRejectedBecauseTelegramBotsAppendsItsOwn() {
        assertRejects("TG_API_URL", with(TelegramSettings.API_URL, "http://127.0.0.1:8088/bot"));
        assertRejects("TG_API_URL", with(TelegramSettings.API_URL, "ftp://example.org"));
    }

    @Test
    void theConfigurationPrintsWithoutTheToken() {
        String printed = IngestConfig.from(Config.of(valid())).toString();

        assertFalse(printed.contains("secret_part_of_the_token"), printed);
        assertTrue(printed.contains("pollTimeout=50"), printed);
    }
}
