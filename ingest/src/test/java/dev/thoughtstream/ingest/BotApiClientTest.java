package dev.thoughtstream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.testkit.telegram.ApiCall;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class BotApiClientTest {
    private static final String TOKEN = "123456:bot-api-client_TOKEN";
    private static final String URL = "http://127.0.0.1:9/telegram/webhook";

    private TelegramEmulator telegram;
    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeEach
    void startEmulator() {
        telegram = TelegramEmulator.builder().botToken(TOKEN).build().start();
    }

    @AfterEach
    void stopEmulator() {
        telegram.close();
    }

    private BotApiClient client() {
        return new BotApiClient(
                TelegramSettings.from(
                        Config.of(Map.of(TelegramSettings.TOKEN, TOKEN, TelegramSettings.API_URL, telegram.baseUrl()))),
                http);
    }

    @Test
    void instancesSettingTheWebhookTogetherAllSucceedByWaitingOutTelegramsOnePerSecondLimit() {
        // Given two ingest instances starting in webhook mode at the same moment
        BotApiClient first = client();
        BotApiClient second = client();

        // When both set the same webhook, one right after the other
        first.setWebhook(URL, new Secret("s3cret"), List.of("message"), 40);
        second.setWebhook(URL, new Secret("s3cret"), List.of("message"), 40);

        // Then Telegram (the emulator) refused the second at first with 429, and both calls ended with the webhook set
        List<Integer> statuses =
                telegram.calls("setWebhook").stream().map(ApiCall::status).toList();
        assertTrue(statuses.contains(429), "the second setWebhook within a second was refused first: " + statuses);
        assertEquals(200, statuses.get(statuses.size() - 1), statuses.toString());
        assertEquals(2, statuses.stream().filter(s -> s == 200).count(), statuses.toString());
        assertEquals(URL, telegram.webhook().url());
    }

    @Test
    void getUpdatesGivesTelegramsRawUpdatesAndConfirmsBelowItsOffset() throws InterruptedException {
        // Given two pending updates
        long first = telegram.injectMessage(42, "one").updateId();
        long second = telegram.injectMessage(42, "two").updateId();

        // When polled without an offset, then with the second's id
        List<JsonNode> all =
                client().getUpdates(0, 0, 100, Duration.ofSeconds(5)).await();
        List<JsonNode> rest =
                client().getUpdates(second, 0, 100, Duration.ofSeconds(5)).await();

        // Then the first answer holds both as Telegram sent them, and the offset confirmed the first
        assertEquals(
                List.of(first, second),
                all.stream().map(u -> u.path("update_id").asLong()).toList());
        assertEquals("one", all.get(0).at("/message/text").asText());
        assertEquals(
                List.of(second),
                rest.stream().map(u -> u.path("update_id").asLong()).toList());
        assertEquals(1, telegram.pendingUpdates());
    }

    @Test
    void aRefusedGetUpdatesCarriesItsStatusAndRetryAfterButNeverTheToken() {
        // Given Telegram answering 429 with retry_after, then 409
        telegram.addFault("getUpdates", 429, 7, 1, null, "Too Many Requests: retry after 7");
        telegram.addFault("getUpdates", 409, 1);

        // When polled twice
        BotApiClient.Refused tooMany = assertThrows(
                BotApiClient.Refused.class,
                () -> client().getUpdates(0, 0, 100, Duration.ofSeconds(5)).await());
        BotApiClient.Refused conflict = assertThrows(
                BotApiClient.Refused.class,
                () -> client().getUpdates(0, 0, 100, Duration.ofSeconds(5)).await());

        // Then each names its status, the 429 its wait, and neither the token
        assertEquals(429, tooMany.status());
        assertEquals(7, tooMany.retryAfterSeconds());
        assertEquals(409, conflict.status());
        assertEquals(0, conflict.retryAfterSeconds());
        assertFalse(tooMany.getMessage().contains(TOKEN.substring(TOKEN.indexOf(':') + 1)), tooMany.getMessage());
    }
}
