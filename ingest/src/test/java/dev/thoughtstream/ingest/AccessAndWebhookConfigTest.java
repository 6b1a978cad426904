package dev.thoughtstream.ingest;

import static dev.thoughtstream.testkit.config.ConfigAssertions.assertRejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.ingest.intake.AccessSettings;
import dev.thoughtstream.ingest.intake.GroupMode;
import dev.thoughtstream.ingest.webhook.WebhookSettings;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The variables of webhook mode and of the access and abuse rules. */
class AccessAndWebhookConfigTest {
    private static final String TOKEN = "123456789:AAF-secret_part_of_the_token";
    private static final String SECRET = "s3cret_Token-value";

    private static Map<String, String> valid() {
        Map<String, String> v = new HashMap<>();
        v.put(TelegramSettings.TOKEN, TOKEN);
        return v;
    }

    private static Map<String, String> webhook() {
        Map<String, String> v = valid();
        v.put(IngestConfig.MODE, "webhook");
        v.put(IngestConfig.WEBHOOK_URL, "https://bot.example.com");
        v.put(IngestConfig.WEBHOOK_SECRET, SECRET);
        return v;
    }

    /** Asserts that {@code variable} set to {@code value} (over {@code v}) is refused, naming it in the message. */
    private static ConfigException invalid(Map<String, String> v, String variable, String value) {
        v.put(variable, value);
        return assertRejects(variable, () -> IngestConfig.from(Config.of(v)), variable);
    }

    @Test
    void givenNothingSet_thenPollingWithAddressedGroupsAFloodGuardAndAnOpenBot() {
        IngestConfig config = IngestConfig.from(Config.of(valid()));

        assertEquals(IngestMode.POLLING, config.mode());
        assertNull(config.webhook());
        AccessSettings access = config.access();
        assertTrue(access.isOpen());
        assertEquals(GroupMode.ADDRESSED, access.groupMode());
        assertEquals(30, access.maxMessagesPerMinute());
        assertEquals(4096, access.maxMessageChars());
        assertEquals("", access.botUsername(), "asked with getMe at startup");
        assertEquals(AccessSettings.DEFAULT_DENIED_TEXT, access.deniedText());
    }

    @Test
    void givenTheAccessVariables_thenEachIsRead() {
        Map<String, String> v = valid();
        v.put(IngestConfig.ALLOWED_USER_IDS, "1, 2,3");
        v.put(IngestConfig.ALLOWED_CHAT_IDS, "-100123");
        v.put(IngestConfig.ACCESS_DENIED_TEXT, "No.\\nSorry.");
        v.put(IngestConfig.GROUP_MODE, "ALL");
        v.put(IngestConfig.BOT_USERNAME, "@my_test_bot");
        v.put(IngestConfig.MAX_MSGS_PER_MIN, "0");
        v.put(IngestConfig.FLOOD_NOTICE_TEXT, "Easy!");
        v.put(IngestConfig.MAX_MESSAGE_CHARS, "1000");
        v.put(IngestConfig.TOO_LONG_NOTICE_TEXT, "Only {max}.");

        AccessSettings access = IngestConfig.from(Config.of(v)).access();

        assertEquals(Set.of(1L, 2L, 3L), access.allowedUsers());
        assertEquals(Set.of(-100123L), access.allowedChats());
        assertFalse(access.isOpen());
        assertEquals("No.\nSorry.", access.deniedText());
        assertEquals(GroupMode.ALL, access.groupMode());
        assertEquals("my_test_bot", access.botUsername());
        assertEquals(0, access.maxMessagesPerMinute());
        assertEquals("Easy!", access.floodNoticeText());
        assertEquals("Only 1000.", access.tooLongNotice());
    }

    @Test
    void givenInvalidAccessValues_thenStartupFailsNamingTheVariable() {
        invalid(valid(), IngestConfig.ALLOWED_USER_IDS, "12,abc");
        invalid(valid(), IngestConfig.GROUP_MODE, "some");
        invalid(valid(), IngestConfig.BOT_USERNAME, "no spaces allowed");
        invalid(valid(), IngestConfig.MAX_MSGS_PER_MIN, "-1");
        invalid(valid(), IngestConfig.MAX_MESSAGE_CHARS, "10");
        invalid(valid(), IngestConfig.ACCESS_DENIED_TEXT, "x".repeat(5000));
    }

    @Test
    void givenWebhookMode_thenUrlAndSecretAreRequiredAndTheDefaultPathIsStableAndSecretFree() {
        invalid(webhook(), IngestConfig.WEBHOOK_URL, "");
        invalid(webhook(), IngestConfig.WEBHOOK_SECRET, "");
        invalid(webhook(), IngestConfig.WEBHOOK_SECRET, "has spaces in it");
        invalid(webhook(), IngestConfig.WEBHOOK_URL, "ftp://bot.example.com");
        invalid(webhook(), IngestConfig.WEBHOOK_PATH, "no-leading-slash");
        invalid(webhook(), IngestConfig.WEBHOOK_MAX_CONNECTIONS, "0");
        invalid(webhook(), IngestConfig.WEBHOOK_MAX_CONNECTIONS, "101");
        ConfigException secretless = invalid(webhook(), IngestConfig.WEBHOOK_SECRET, "bad secret!");
        assertFalse(secretless.getMessage().contains("bad secret!"), "the secret is not echoed");

        WebhookSettings w = IngestConfig.from(Config.of(webhook())).webhook();
        WebhookSettings again = IngestConfig.from(Config.of(webhook())).webhook();

        assertEquals(IngestMode.WEBHOOK, IngestConfig.from(Config.of(webhook())).mode());
        assertEquals(8090, w.port());
        assertTrue(w.path().matches("/telegram/[0-9a-f]{16}"), w.path());
        assertEquals(w.path(), again.path(), "every instance and restart registers the same URL");
        assertFalse(w.path().contains(SECRET));
        assertEquals("https://bot.example.com" + w.path(), w.webhookUrl());
        assertEquals(Duration.ofSeconds(8), w.ackTimeout());
        assertTrue(w.deleteOnStop());
        assertEquals(40, w.maxConnections(), "Telegram's own default");
        assertFalse(w.toString().contains(SECRET));
        assertFalse(w.toString().contains(w.path()), "the path is a capability too");
    }

    @Test
    void givenEveryWebhookSetting_thenEachIsRead() {
        Map<String, String> v = webhook();
        v.put(IngestConfig.WEBHOOK_URL, "https://bot.example.com/hooks/");
        v.put(IngestConfig.WEBHOOK_PATH, "/tg/abc123");
        v.put(IngestConfig.WEBHOOK_PORT, "9443");
        v.put(IngestConfig.WEBHOOK_ACK_TIMEOUT_MS, "3000");
        v.put(IngestConfig.WEBHOOK_DELETE_ON_STOP, "false");
        v.put(IngestConfig.WEBHOOK_MAX_CONNECTIONS, "100");

        WebhookSettings w = IngestConfig.from(Config.of(v)).webhook();

        assertEquals("https://bot.example.com/hooks/tg/abc123", w.webhookUrl());
        assertEquals(9443, w.port());
        assertEquals(Duration.ofSeconds(3), w.ackTimeout());
        assertFalse(w.deleteOnStop());
        assertEquals(100, w.maxConnections());
    }
}
