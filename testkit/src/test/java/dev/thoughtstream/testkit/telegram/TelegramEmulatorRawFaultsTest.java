package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.serde.Json;
import java.net.http.HttpResponse;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Faults that are not the Bot API's JSON: Telegram's front end (nginx) answering for the Bot API server behind it,
 * with any status, content type and body, planned over the control API or in Java, and answered over real HTTP.
 */
class TelegramEmulatorRawFaultsTest {
    private static final String BOT = "/bot1:raw/";
    private static final String NGINX_502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            + "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";

    private final TelegramEmulator telegram = TelegramEmulator.builder().build().start();
    private final RawHttp http = new RawHttp(telegram.baseUrl());

    @AfterEach
    void stop() {
        telegram.close();
    }

    @Test
    void aFaultPostedWithAContentTypeAndBodyIsAnsweredExactlySoAndNothingIsSent() {
        // given a chat, and a planned HTML 502 for its next two sendMessage calls
        http.postJson("/emulator/chats/42/messages", "{\"text\":\"hi\"}");
        HttpResponse<String> planned = http.postJson(
                "/emulator/faults",
                "{\"method\":\"sendMessage\",\"status\":502,\"times\":2,\"contentType\":\"text/html\",\"body\":"
                        + "\"<html><body>bad gateway</body></html>\"}");
        assertEquals("{\"ok\":true}", planned.body());

        // when the bot sends twice
        HttpResponse<String> first = http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"one\"}");
        HttpResponse<String> second = http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"two\"}");

        // then both get exactly that answer, and neither message reached the chat
        for (HttpResponse<String> answer : List.of(first, second)) {
            assertEquals(502, answer.statusCode());
            assertEquals(
                    "text/html", answer.headers().firstValue("Content-Type").orElse(""));
            assertEquals("<html><body>bad gateway</body></html>", answer.body());
        }
        assertEquals(1, telegram.transcript(42).size(), "only the person's message");
        assertEquals(
                List.of(502, 502),
                telegram.calls("sendMessage").stream().map(ApiCall::status).toList());

        // and the fault is used up: the next send goes through
        assertEquals("[]", http.get("/emulator/faults").body());
        assertEquals(
                200,
                http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"three\"}")
                        .statusCode());
    }

    @Test
    void theNginxHelperAnswersNginxsOwnErrorPageForAnyMethodEvenOneTheEmulatorLacks() {
        // given nginx pages planned for a known and an unknown method
        telegram.addFault(Fault.nginx("getMe", 502, 1));
        telegram.addFault(Fault.nginx("getChatMenuButton", 504, 1));

        // when the bot calls them
        HttpResponse<String> getMe = http.get(BOT + "getMe");
        HttpResponse<String> unknown = http.postJson(BOT + "getChatMenuButton", "{}");

        // then each is nginx's page, byte for byte, as text/html
        assertEquals(502, getMe.statusCode());
        assertEquals("text/html", getMe.headers().firstValue("Content-Type").orElse(""));
        assertEquals(NGINX_502, getMe.body());
        assertEquals(504, unknown.statusCode());
        assertTrue(unknown.body().contains("<title>504 Gateway Time-out</title>"), unknown.body());
        assertEquals(Fault.nginxErrorPage(502), getMe.body());

        // and afterwards the unknown method is the Bot API's JSON 404 again
        HttpResponse<String> after = http.postJson(BOT + "getChatMenuButton", "{}");
        assertEquals(404, after.statusCode());
        assertFalse(RawHttp.json(after).path("ok").asBoolean(true));
    }

    @Test
    void aProcessedFaultCarriesTheCallOutAndThenAnswersTheGatewayTimeout() {
        // given a chat, and a gateway timeout that comes after the Bot API sent the message
        http.postJson("/emulator/chats/42/messages", "{\"text\":\"hi\"}");
        http.postJson(
                "/emulator/faults",
                "{\"method\":\"sendMessage\",\"status\":504,\"contentType\":\"text/html\",\"processed\":true,"
                        + "\"body\":" + jsonString(Fault.nginxErrorPage(504)) + "}");

        // when the bot sends
        HttpResponse<String> answer = http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"delivered\"}");

        // then it sees nginx's 504, but the person got the message
        assertEquals(504, answer.statusCode());
        assertEquals(Fault.nginxErrorPage(504), answer.body());
        List<TranscriptEntry> transcript = telegram.transcript(42);
        assertEquals(2, transcript.size());
        assertEquals("delivered", transcript.get(1).text());
    }

    @Test
    void aRawFaultCanNarrowToOneChatAndCarryARetryAfterHeader() {
        // given two chats, and a plain-text 429 with Retry-After for one of them
        http.postJson("/emulator/chats/1/messages", "{\"text\":\"hi\"}");
        http.postJson("/emulator/chats/2/messages", "{\"text\":\"hi\"}");
        http.postJson(
                "/emulator/faults",
                "{\"method\":\"sendMessage\",\"status\":429,\"chatId\":2,\"retryAfter\":3,"
                        + "\"contentType\":\"text/plain\",\"body\":\"slow down\"}");

        // when the bot sends to both
        HttpResponse<String> toOne = http.postJson(BOT + "sendMessage", "{\"chat_id\":1,\"text\":\"x\"}");
        HttpResponse<String> toTwo = http.postJson(BOT + "sendMessage", "{\"chat_id\":2,\"text\":\"x\"}");

        // then only chat 2's call got the raw answer
        assertEquals(200, toOne.statusCode());
        assertEquals(429, toTwo.statusCode());
        assertEquals("slow down", toTwo.body());
        assertEquals("3", toTwo.headers().firstValue("Retry-After").orElse(""));
    }

    @Test
    void theFaultListShowsARawFaultsContentTypeAndBody() {
        telegram.addFault("sendMessage", 503, 4, "text/html", "<p>down</p>");

        JsonNode listed = RawHttp.json(http.get("/emulator/faults")).path(0);

        assertEquals("sendmessage", listed.path("method").asText());
        assertEquals(503, listed.path("status").asInt());
        assertEquals(4, listed.path("remaining").asInt());
        assertEquals("text/html", listed.path("contentType").asText());
        assertEquals("<p>down</p>", listed.path("body").asText());
        assertTrue(telegram.faults().get(0).raw());
    }

    @Test
    void malformedRawFaultsAreRefusedWithAClearError() {
        assertRefused(
                "fault status must be an HTTP status (200-599)",
                "{\"method\":\"getMe\",\"status\":99,\"contentType\":\"text/html\",\"body\":\"x\"}");
        assertRefused(
                "either a description", "{\"method\":\"getMe\",\"status\":502,\"description\":\"d\",\"body\":\"x\"}");
        assertRefused(
                "field 'body' must be a string", "{\"method\":\"getMe\",\"status\":502,\"body\":{\"html\":true}}");
        assertRefused(
                "field 'processed' must be true or false",
                "{\"method\":\"getMe\",\"status\":504,\"body\":\"x\",\"processed\":\"yes\"}");
        assertThrows(IllegalArgumentException.class, () -> Fault.nginxErrorPage(418));
        assertEquals("[]", http.get("/emulator/faults").body(), "nothing was planned");
    }

    private void assertRefused(String expected, String fault) {
        HttpResponse<String> answer = http.postJson("/emulator/faults", fault);
        assertEquals(400, answer.statusCode(), answer.body());
        String error = RawHttp.json(answer).path("error").asText();
        assertTrue(error.contains(expected), error);
    }

    private static String jsonString(String text) {
        return Json.mapper().getNodeFactory().textNode(text).toString();
    }
}
