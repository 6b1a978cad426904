package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Wire-level Bot API behaviour (long polls, offsets, conflicts, parameter forms) over plain HTTP. */
class TelegramEmulatorBotApiTest {
    private static final String TOKEN = "777:raw-API_token";
    private static final String BOT = "/bot" + TOKEN + "/";

    private TelegramEmulator telegram;
    private RawHttp http;

    @BeforeEach
    void startEmulator() {
        telegram = TelegramEmulator.builder().botToken(TOKEN).build().start();
        http = new RawHttp(telegram.baseUrl());
    }

    @AfterEach
    void stopEmulator() {
        telegram.close();
    }

    @Test
    void aLongPollAnswersAnEmptyResultAfterItsTimeoutWhenNothingArrives() {
        // given no pending updates
        long started = System.nanoTime();

        // when the bot long-polls for one second
        HttpResponse<String> response = http.postJson(BOT + "getUpdates", "{\"timeout\":1}");

        // then it waited (at least) the timeout and got an empty result
        long waitedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
        assertEquals(200, response.statusCode());
        assertEquals("{\"ok\":true,\"result\":[]}", response.body());
        assertTrue(waitedMillis >= 900, "answered after " + waitedMillis + " ms, before the timeout");
    }

    @Test
    void aLongPollAnswersAsSoonAsAnUpdateArrives() throws Exception {
        // given a bot waiting in a long poll
        CompletableFuture<HttpResponse<String>> poll = http.postJsonAsync(BOT + "getUpdates", "{\"timeout\":50}");
        Wait.until("the long poll is waiting", () -> telegram.activePolls() == 1);

        // when a person writes
        telegram.injectMessage(42, "wake up");

        // then the poll returns the update well before its 50 s timeout
        JsonNode answer = RawHttp.json(poll.get(20, TimeUnit.SECONDS));
        assertEquals("wake up", answer.at("/result/0/message/text").asText());
        assertEquals(42, answer.at("/result/0/message/chat/id").asLong());
    }

    @Test
    void aSecondConcurrentGetUpdatesTerminatesTheFirstWithConflict() throws Exception {
        // given a waiting long poll
        CompletableFuture<HttpResponse<String>> first = http.postJsonAsync(BOT + "getUpdates", "{\"timeout\":50}");
        Wait.until("the first poll is waiting", () -> telegram.activePolls() == 1);

        // when a second bot instance polls too
        CompletableFuture<HttpResponse<String>> second = http.postJsonAsync(BOT + "getupdates", "{\"timeout\":50}");

        // then the first ends with 409 like Telegram's, and the second keeps polling and gets the next update
        HttpResponse<String> terminated = first.get(20, TimeUnit.SECONDS);
        assertEquals(409, terminated.statusCode());
        assertEquals(
                "{\"ok\":false,\"error_code\":409,\"description\":\"Conflict: terminated by other getUpdates "
                        + "request; make sure that only one bot instance is running\"}",
                terminated.body());
        Wait.until("the second poll is waiting", () -> telegram.activePolls() == 1);
        telegram.injectMessage(42, "for the survivor");
        assertEquals(
                "for the survivor",
                RawHttp.json(second.get(20, TimeUnit.SECONDS))
                        .at("/result/0/message/text")
                        .asText());
    }

    @Test
    void updatesStayPendingUntilAHigherOffsetConfirmsThem() {
        // given three updates
        long a = telegram.injectMessage(42, "a").updateId();
        long b = telegram.injectMessage(42, "b").updateId();
        long c = telegram.injectMessage(43, "c").updateId();

        // when polled without an offset, twice, they come back both times
        assertEquals(List.of(a, b, c), updateIds(http.postJson(BOT + "getUpdates", "{}")));
        assertEquals(List.of(a, b, c), updateIds(http.postJson(BOT + "getUpdates", "{\"limit\":5}")));

        // then an offset confirms everything below it, and limit caps the batch
        assertEquals(List.of(b), updateIds(http.postJson(BOT + "getUpdates", "{\"offset\":" + b + ",\"limit\":1}")));
        assertEquals(2, telegram.pendingUpdates());
        assertEquals(b, telegram.confirmedOffset());

        // and a negative offset keeps only the last |offset| updates
        assertEquals(List.of(c), updateIds(http.postJson(BOT + "getUpdates", "{\"offset\":-1}")));
        assertEquals(1, telegram.pendingUpdates());
        assertEquals(c, telegram.confirmedOffset());
        assertEquals(List.of(), updateIds(http.postJson(BOT + "getUpdates", "{\"offset\":" + (c + 1) + "}")));
        assertEquals(0, telegram.pendingUpdates());
    }

    @Test
    void getUpdatesIsRefusedWhileAWebhookIsSet() {
        // given a webhook (nothing listens there; deliveries just fail)
        assertEquals(
                200,
                http.postJson(BOT + "setWebhook", "{\"url\":\"http://127.0.0.1:9/hook\"}")
                        .statusCode());

        // when the bot polls, then Telegram's conflict answer comes back
        HttpResponse<String> refused = http.postJson(BOT + "getUpdates", "{}");
        assertEquals(409, refused.statusCode());
        assertEquals(
                "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
                        + "the webhook first",
                RawHttp.json(refused).path("description").asText());

        // and after deleteWebhook polling works again
        assertEquals(200, http.postJson(BOT + "deleteWebhook", "{}").statusCode());
        assertEquals(200, http.postJson(BOT + "getUpdates", "{}").statusCode());
    }

    @Test
    void aSecondSetWebhookWithinASecondIsAnsweredTooManyRequestsEvenForTheSameUrl() {
        // given a webhook just set
        String hook = "{\"url\":\"http://127.0.0.1:9/hook\"}";
        assertEquals(200, http.postJson(BOT + "setWebhook", hook).statusCode());

        // when it is set again at once, to the same URL
        HttpResponse<String> again = http.postJson(BOT + "setWebhook", hook);

        // then Telegram's flood answer comes back, asking to retry after a second
        assertEquals(429, again.statusCode());
        assertEquals(
                "Too Many Requests: retry after 1",
                RawHttp.json(again).path("description").asText());
        assertEquals(
                1, RawHttp.json(again).path("parameters").path("retry_after").asInt());
        // and removing the webhook is not limited
        assertEquals(200, http.postJson(BOT + "deleteWebhook", "{}").statusCode());
        assertEquals(200, http.postJson(BOT + "setWebhook", "{\"url\":\"\"}").statusCode());
    }

    @Test
    void methodNamesAreCaseInsensitiveAndParametersMayComeAsFormOrQueryString() {
        // given a chat somebody wrote from
        telegram.injectMessage(42, "hi");

        // when the bot calls in upper case, with a form body and with a query string
        HttpResponse<String> me = http.get(BOT + "GETME");
        HttpResponse<String> form = http.postForm(BOT + "SendMessage", "chat_id=42&text=via+form%21");
        HttpResponse<String> query = http.get(BOT + "sendmessage?chat_id=42&text=via%20query");

        // then all work, and the messages are in the chat
        assertEquals(200, me.statusCode());
        assertTrue(RawHttp.json(me).at("/result/is_bot").asBoolean());
        assertEquals(
                BotIdentity.DEFAULT.username(),
                RawHttp.json(me).at("/result/username").asText());
        assertEquals(200, form.statusCode(), form.body());
        assertEquals(200, query.statusCode(), query.body());
        assertEquals(List.of("via form!", "via query"), telegram.botTexts(42));
        assertEquals(2, telegram.calls("sendMessage").size());
        assertEquals("via form!", telegram.calls("sendMessage").get(0).param("text"));
    }

    @Test
    void anUnknownMethodIsNotFound() {
        HttpResponse<String> response = http.postJson(BOT + "sendTelepathy", "{}");

        assertEquals(404, response.statusCode());
        assertEquals(
                "{\"ok\":false,\"error_code\":404,\"description\":\"Not Found: method not found\"}", response.body());
    }

    @Test
    void aWrongTokenIsUnauthorizedAndNotRecorded() {
        HttpResponse<String> response = http.postJson("/bot999:wrong/getMe", "{}");

        assertEquals(401, response.statusCode());
        assertEquals("{\"ok\":false,\"error_code\":401,\"description\":\"Unauthorized\"}", response.body());
        assertTrue(telegram.calls().isEmpty());
    }

    @Test
    void anEmulatorWithoutExpectedTokenAcceptsAnyToken() {
        try (TelegramEmulator open = TelegramEmulator.builder().build().start()) {
            HttpResponse<String> response = new RawHttp(open.baseUrl()).get("/bot1:any/getMe");

            assertEquals(200, response.statusCode());
        }
    }

    @Test
    void malformedJsonIsABadRequestAndTheServerKeepsServing() {
        HttpResponse<String> response = http.postJson(BOT + "sendMessage", "{\"chat_id\": 42, \"text\": ");

        assertEquals(400, response.statusCode());
        assertFalse(RawHttp.json(response).path("ok").asBoolean());
        assertEquals(200, http.get(BOT + "getMe").statusCode());
    }

    @Test
    void invalidParametersGetTelegramsAnswers() {
        telegram.injectMessage(42, "hi");

        assertEquals(
                "Bad Request: chat_id is empty",
                RawHttp.json(http.postJson(BOT + "sendMessage", "{\"text\":\"x\"}"))
                        .path("description")
                        .asText());
        assertEquals(
                "Bad Request: message text is empty",
                RawHttp.json(http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"\"}"))
                        .path("description")
                        .asText());
        assertEquals(
                "Bad Request: wrong parameter action in request",
                RawHttp.json(http.postJson(BOT + "sendChatAction", "{\"chat_id\":42,\"action\":\"dancing\"}"))
                        .path("description")
                        .asText());
        assertEquals(
                "Bad Request: message to be replied not found",
                RawHttp.json(http.postJson(
                                BOT + "sendMessage",
                                "{\"chat_id\":42,\"text\":\"x\",\"reply_parameters\":{\"message_id\":99}}"))
                        .path("description")
                        .asText());
    }

    private static List<Long> updateIds(HttpResponse<String> response) {
        assertEquals(200, response.statusCode(), response.body());
        List<Long> ids = new ArrayList<>();
        RawHttp.json(response)
                .path("result")
                .forEach(u -> ids.add(u.path("update_id").asLong()));
        return ids;
    }
}
