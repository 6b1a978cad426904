package dev.thoughtstream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.TelegramSettings;
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

    private static ConfigException invalid(String variable, String value) {
        Map<String, String> v = valid();
        v.put(variable, value);
        return assertThrows(ConfigException.class, () -> IngestConfig.from(Config.of(v)));
    }

    @Test
    void givenOnlyTheToken_thenTelegramDefaultsApply() {
        IngestConfig config = IngestConfig.from(Config.of(valid()));

        assertEquals(URI.create("https://api.telegram.org"), config.telegram().apiUrl());
        assertEquals(123456789L, config.telegram().botId());
        assertEquals(50, config.pollTimeout());
        assertEquals(Duration.ofHours(25), config.dedupTtl(), "longer than Telegram keeps unconfirmed updates");
        assertEquals(Duration.ofSeconds(10), config.retryBackoffMax());
        assertEquals(new IngestConfig.Lease(Duration.ofSeconds(10), Duration.ofSeconds(1), true), config.lease());
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
        v.put(IngestConfig.LEASE_REQUIRED, "false");

        IngestConfig config = IngestConfig.from(Config.of(v));

        assertEquals(URI.create("http://127.0.0.1:8088"), config.telegram().apiUrl());
        assertEquals(8088, config.telegram().port());
        assertEquals(5, config.pollTimeout());
        assertEquals(Duration.ofDays(2), config.dedupTtl());
        assertEquals(Duration.ofMillis(2500), config.retryBackoffMax());
        assertEquals(new IngestConfig.Lease(Duration.ofSeconds(30), Duration.ofMillis(250), false), config.lease());
    }

    @Test
    void givenBadLeaseSettings_thenTheErrorNamesTheVariable() {
        assertEquals("INGEST_LEASE_TTL_MS", invalid(IngestConfig.LEASE_TTL, "100").variable());
        assertEquals("INGEST_LEASE_TTL_MS", invalid(IngestConfig.LEASE_TTL, "10s").variable());
        assertEquals("INGEST_LEASE_RETRY_MS", invalid(IngestConfig.LEASE_RETRY, "0").variable());
        assertEquals("INGEST_LEASE_REQUIRED", invalid(IngestConfig.LEASE_REQUIRED, "maybe").variable());
    }

    @Test
    void givenAPollTimeoutThatIsNotANumber_thenTheErrorNamesTheVariableAndTheValue() {
        ConfigException e = invalid(IngestConfig.POLL_TIMEOUT, "soon");

        assertEquals("INGEST_POLL_TIMEOUT_S", e.variable());
        assertTrue(e.getMessage().startsWith("INGEST_POLL_TIMEOUT_S: "), e.getMessage());
        assertTrue(e.getMessage().contains("'soon'"), e.getMessage());
    }

    @Test
    void givenAPollTimeoutBeyondTelegramsLimit_thenTheErrorNamesTheVariableAndTheRange() {
        ConfigException e = invalid(IngestConfig.POLL_TIMEOUT, "51");

        assertEquals("INGEST_POLL_TIMEOUT_S", e.variable());
        assertTrue(e.getMessage().contains("[0, 50]"), e.getMessage());
        assertEquals("INGEST_POLL_TIMEOUT_S", invalid(IngestConfig.POLL_TIMEOUT, "-1").variable());
    }

    @Test
    void givenADedupTtlShorterThanTelegramKeepsUpdates_thenItIsRejected() {
        ConfigException e = invalid(IngestConfig.DEDUP_TTL, "3600000");

        assertEquals("INGEST_DEDUP_TTL_MS", e.variable());
        assertTrue(e.getMessage().contains("86400000"), "names the one-day minimum: " + e.getMessage());
    }

    @Test
    void givenABadRetryBackoff_thenTheErrorNamesTheVariable() {
        assertEquals("INGEST_RETRY_BACKOFF_MAX_MS", invalid(IngestConfig.RETRY_BACKOFF_MAX, "5").variable());
        assertEquals("INGEST_RETRY_BACKOFF_MAX_MS", invalid(IngestConfig.RETRY_BACKOFF_MAX, "10s").variable());
    }

    @Test
    void givenNoToken_thenTheErrorNamesIt() {
        ConfigException e = assertThrows(ConfigException.class, () -> IngestConfig.from(Config.of(Map.of())));

        assertEquals("TG_BOT_TOKEN", e.variable());
    }

    @Test
    void givenAMalformedToken_thenTheErrorNamesTheVariableWithoutEchoingTheValue() {
        ConfigException e = invalid(TelegramSettings.TOKEN, "secret_but_mistyped");

        assertEquals("TG_BOT_TOKEN", e.variable());
        assertFalse(e.getMessage().contains("secret_but_mistyped"), e.getMessage());
    }

    @Test
    void givenAnApiUrlWithAPath_thenItIsRejectedBecauseTelegramBotsAppendsItsOwn() {
        assertEquals("TG_API_URL", invalid(TelegramSettings.API_URL, "http://127.0.0.1:8088/bot").variable());
        assertEquals("TG_API_URL", invalid(TelegramSettings.API_URL, "ftp://example.org").variable());
    }

    @Test
    void theConfigurationPrintsWithoutTheToken() {
        String printed = IngestConfig.from(Config.of(valid())).toString();

        assertFalse(printed.contains("secret_part_of_the_token"), printed);
        assertTrue(printed.contains("pollTimeout=50"), printed);
    }
}
