package dev.thoughtstream.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class TelegramSettingsTest {

    @Test
    void defaultsToTheRealTelegramApi() {
        TelegramSettings s = TelegramSettings.from(Config.of(Map.of("TG_BOT_TOKEN", "123:abc-DEF_9")));

        assertEquals("https", s.scheme());
        assertEquals("api.telegram.org", s.host());
        assertEquals(443, s.port());
        assertEquals(123L, s.botId());
    }

    @Test
    void pointsAtTheEmulatorOrASelfHostedServer() {
        TelegramSettings s = TelegramSettings.from(
                Config.of(Map.of("TG_BOT_TOKEN", "123:abc", "TG_API_URL", "http://127.0.0.1:8088")));

        assertEquals("http", s.scheme());
        assertEquals(8088, s.port());
    }

    @Test
    void aMissingTokenFailsNamingTheVariable() {
        ConfigException e = assertThrows(ConfigException.class, () -> TelegramSettings.from(Config.of(Map.of())));

        assertEquals("TG_BOT_TOKEN", e.variable());
    }

    @Test
    void aMalformedTokenFailsWithoutEchoingIt() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> TelegramSettings.from(Config.of(Map.of("TG_BOT_TOKEN", "hunter2 with spaces"))));

        assertEquals("TG_BOT_TOKEN", e.variable());
        assertFalse(e.getMessage().contains("hunter2"));
    }

    @Test
    void aUrlWithAPathIsRejected() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> TelegramSettings.from(
                        Config.of(Map.of("TG_BOT_TOKEN", "1:a", "TG_API_URL", "https://proxy.example/telegram"))));

        assertEquals("TG_API_URL", e.variable());
    }

    @Test
    void toStringNeverShowsTheToken() {
        TelegramSettings s = TelegramSettings.from(Config.of(Map.of("TG_BOT_TOKEN", "123:secretpart")));

        assertFalse(s.toString().contains("secretpart"));
    }
}
