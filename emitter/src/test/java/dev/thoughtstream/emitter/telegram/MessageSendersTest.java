package dev.thoughtstream.emitter.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.emitter.EmitterConfig;
import dev.thoughtstream.emitter.consume.EmitterFixture;
import java.time.Clock;
import java.util.Map;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/** The one switch point that decides how messages leave the emitter. */
class MessageSendersTest {

    private static EmitterConfig config(String dryRun) {
        return EmitterConfig.from(
                Config.of(Map.of(TelegramSettings.TOKEN, EmitterFixture.TOKEN, "EMITTER_DRY_RUN", dryRun)));
    }

    @Test
    void byDefaultMessagesGoToTelegram() {
        OkHttpClient http = TelegramClients.http();
        try {
            EmitterConfig config = config("false");
            MessageSender sender = MessageSenders.create(
                    config, TelegramClients.create(config.telegram(), http), new Metrics(), Clock.systemUTC());
            assertInstanceOf(TelegramMessageSender.class, sender);
        } finally {
            TelegramClients.release(http);
        }
    }

    @Test
    void dryRunRecordsInsteadOfCallingTelegramAndAnswersWithSyntheticIds() {
        OkHttpClient http = TelegramClients.http();
        try {
            EmitterConfig config = config("true");
            MessageSender sender = MessageSenders.create(
                    config, TelegramClients.create(config.telegram(), http), new Metrics(), Clock.systemUTC());
            DryRunMessageSender dryRun = assertInstanceOf(DryRunMessageSender.class, sender);
            assertEquals(new MessageSender.Sent(-1), dryRun.send(7, "hello"));
            assertEquals(1, dryRun.recorded(7).size());
        } finally {
            TelegramClients.release(http);
        }
    }
}
