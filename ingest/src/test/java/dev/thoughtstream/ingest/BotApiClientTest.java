package dev.thoughtstream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.testkit.telegram.ApiCall;
import dev.thoughtstream.testkit.telegram.Fault;
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

    private TelegramSettings settings() {
        return TelegramSettings.from(
                Config.of(Map.of(TelegramSettings.TOKEN, TOKEN, TelegramSettings.API_URL, telegram.baseUrl())));
    }

    private BotApiClient client() {
        return new BotApiClient(settings(), http);
    }

    private List<Integer> statuses(String method) {
        return telegram.calls(method).stream().map(ApiCall::status).toList();
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
    void anHtmlBadGatewayFromTelegramsFrontEndIsRetriedUntilTheWebhookIsSet() {
        // given Telegram's front end answers the next two setWebhook calls with nginx's 502 page
        telegram.addFault(Fault.nginx("setWebhook", 502, 2));

        // when ingest sets its webhook
        client().setWebhook(URL, new Secret("s3cret"), List.of("message"), 40);

        // then it tried again after each page, and the webhook is set
        assertEquals(List.of(502, 502, 200), statuses("setWebhook"));
        assertEquals(URL, telegram.webhook().url());
    }

    @Test
    void aGatewayTimeoutOnDeleteWebhookIsRetriedBecauseDeletingTwiceIsHarmless() {
        // given a webhook, and a 504 page that comes after Telegram deleted it
        client().setWebhook(URL, new Secret("s3cret"), List.of("message"), 40);
        telegram.addFault(Fault.nginx("deleteWebhook", 504, 1).processedFirst());

        // when ingest deletes it
        client().deleteWebhook();

        // then the call was repeated and the webhook is gone
        assertEquals(List.of(504, 200), statuses("deleteWebhook"));
        assertEquals("", telegram.webhook().url());
    }

    @Test
    void aFrontEndThatStaysDownFailsTheCallInOneLineWithoutTheToken() {
        // given Telegram's front end answers every getMe with nginx's 502 page, and a client retrying for 1 s
        telegram.addFault(Fault.nginx("getMe", 502, 1_000));
        BotApiClient client = new BotApiClient(settings(), http, Duration.ofSeconds(1), Duration.ofSeconds(1));

        // when ingest asks who the bot is
        IllegalStateException failure = assertThrows(IllegalStateException.class, client::getMe);

        // then it tried more than once, and the failure says what answered, in one line, without the token
        assertTrue(statuses("getMe").size() >= 2, statuses("getMe").toString());
        String message = failure.getMessage();
        assertTrue(message.startsWith("getMe still failing after "), message);
        assertTrue(message.contains("HTTP 502 with text/html, not the Bot API's JSON"), message);
        assertFalse(message.contains("\n"), message);
        assertFalse(message.contains(TOKEN.substring(TOKEN.indexOf(':') + 1)), message);
        assertNull(failure.getCause());
    }

    @Test
    void aNonJsonAnswerThatIsNotAServerErrorIsNotRetried() {
        // given nginx refuses the next setWebhook as too large (a 4xx page: repeating it will not help)
        telegram.addFault(Fault.nginx("setWebhook", 413, 1));

        IllegalStateException failure = assertThrows(
                IllegalStateException.class,
                () -> client().setWebhook(URL, new Secret("s3cret"), List.of("message"), 40));

        assertEquals(List.of(413), statuses("setWebhook"));
        assertTrue(failure.getMessage().contains("HTTP 413 with text/html"), failure.getMessage());
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

    @Test
    void anHtmlPageAnsweringGetUpdatesIsAServerErrorWithItsStatus() {
        // Given Telegram's front end answering the next getUpdates with nginx's 502 page
        telegram.addFault(Fault.nginx("getUpdates", 502, 1));

        // When polled
        BotApiClient.ServerError failure = assertThrows(
                BotApiClient.ServerError.class,
                () -> client().getUpdates(0, 0, 100, Duration.ofSeconds(5)).await());

        // Then the poller sees a refusal with the real status, saying what answered
        assertEquals(502, failure.status());
        assertTrue(failure.getMessage().contains("HTTP 502 with text/html"), failure.getMessage());
    }
}
