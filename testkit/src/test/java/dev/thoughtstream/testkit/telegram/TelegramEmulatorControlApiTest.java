package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.testkit.MutableClock;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The people's side over plain HTTP: what devstack's web page and scripted scenarios use. */
class TelegramEmulatorControlApiTest {
    private static final String BOT = "/bot1:control/";

    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T12:00:00Z"));
    private final TelegramEmulator telegram =
            TelegramEmulator.builder().clock(clock).build().start();
    private final RawHttp http = new RawHttp(telegram.baseUrl());

    @AfterEach
    void stop() {
        telegram.close();
    }

    @Test
    void aPostedMessageBecomesAnUpdateAndATranscriptEntry() {
        // when a person writes through the control API
        HttpResponse<String> posted =
                http.postJson("/emulator/chats/42/messages", "{\"text\":\"hello\",\"firstName\":\"Ann\"}");

        // then the answer names the update and message, the bot can poll it, and the chat lists it
        assertEquals(200, posted.statusCode(), posted.body());
        assertEquals("{\"updateId\":1,\"messageId\":1}", posted.body());
        JsonNode update = RawHttp.json(http.postJson(BOT + "getUpdates", "{}")).at("/result/0");
        assertEquals(1, update.path("update_id").asLong());
        assertEquals("hello", update.at("/message/text").asText());
        assertEquals(42, update.at("/message/from/id").asLong());
        assertEquals("Ann", update.at("/message/chat/first_name").asText());
        assertEquals(
                clock.instant().getEpochSecond(), update.at("/message/date").asLong());

        assertEquals(
                "[{\"from\":\"user\",\"text\":\"hello\",\"messageId\":1,\"name\":\"Ann\",\"at\":" + clock.millis()
                        + "}]",
                http.get("/emulator/chats/42/transcript").body());
        JsonNode chats = RawHttp.json(http.get("/emulator/chats"));
        assertEquals(42, chats.at("/0/id").asLong());
        assertEquals("Ann", chats.at("/0/title").asText());
        assertEquals(1, chats.at("/0/messages").asInt());
        assertEquals(clock.millis(), chats.at("/0/lastActivity").asLong());
    }

    @Test
    void theTranscriptSinceAnIndexReturnsOnlyNewerEntries() {
        // given a conversation of three entries
        http.postJson("/emulator/chats/42/messages", "{\"text\":\"one\"}");
        http.postJson(BOT + "sendChatAction", "{\"chat_id\":42,\"action\":\"typing\"}");
        http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"two\"}");

        // when the page asks for entries from index 1 on
        HttpResponse<String> since = http.get("/emulator/chats/42/transcript?since=1");

        // then it gets the typing action and the bot's message, plus the emulator's clock for the typing age
        JsonNode entries = RawHttp.json(since);
        assertEquals(2, entries.size());
        assertEquals("typing", entries.at("/0/action").asText());
        assertEquals("bot", entries.at("/1/from").asText());
        assertEquals("two", entries.at("/1/text").asText());
        assertEquals(2, entries.at("/1/messageId").asInt());
        assertEquals(
                String.valueOf(clock.millis()),
                since.headers().firstValue("X-Emulator-Now").orElse(""));
        assertEquals("[]", http.get("/emulator/chats/42/transcript?since=3").body());
        assertEquals("[]", http.get("/emulator/chats/777/transcript").body());
    }

    @Test
    void theChatListCountsMessagesNotTypingActionsEditsOrDeletedMessages() {
        // given a person's message, the bot typing twice, two bot messages, an edit and a deletion
        http.postJson("/emulator/chats/42/messages", "{\"text\":\"one\"}");
        http.postJson(BOT + "sendChatAction", "{\"chat_id\":42,\"action\":\"typing\"}");
        http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"two\"}");
        http.postJson(BOT + "sendChatAction", "{\"chat_id\":42,\"action\":\"typing\"}");
        http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"three\"}");
        http.postJson(BOT + "editMessageText", "{\"chat_id\":42,\"message_id\":2,\"text\":\"two!\"}");
        http.postJson(BOT + "deleteMessage", "{\"chat_id\":42,\"message_id\":3}");

        // when the page lists the chats
        JsonNode chats = RawHttp.json(http.get("/emulator/chats"));

        // then the chat counts the two messages it still shows, though its transcript has seven entries
        assertEquals(7, telegram.transcript(42).size());
        assertEquals(2, chats.at("/0/messages").asInt(), chats.toString());
        assertTrue(chats.at("/0/entries").isMissingNode(), chats.toString());
    }

    @Test
    void groupMediaRepliesAndEditsArriveAsTelegramShapesThem() {
        // given a photo in a group and a reply to it
        http.postJson(
                "/emulator/chats/-100/messages",
                "{\"chatType\":\"group\",\"chatTitle\":\"Team\",\"userId\":7,"
                        + "\"firstName\":\"Bo\",\"kind\":\"photo\",\"caption\":\"look\"}");
        http.postJson(
                "/emulator/chats/-100/messages",
                "{\"chatType\":\"group\",\"userId\":8,\"firstName\":\"Cy\","
                        + "\"text\":\"nice\",\"replyToMessageId\":1}");

        // when Cy edits the reply
        HttpResponse<String> edited = http.postJson("/emulator/chats/-100/messages/2/edit", "{\"text\":\"very nice\"}");

        // then the bot sees a photo with caption, a reply embedding it, and an edited_message
        assertEquals("{\"updateId\":3,\"messageId\":2}", edited.body());
        JsonNode updates = RawHttp.json(http.postJson(BOT + "getUpdates", "{}")).path("result");
        assertEquals("group", updates.at("/0/message/chat/type").asText());
        assertEquals("Team", updates.at("/0/message/chat/title").asText());
        assertEquals(2, updates.at("/0/message/photo").size());
        assertEquals("look", updates.at("/0/message/caption").asText());
        assertEquals(8, updates.at("/1/message/from/id").asLong());
        assertEquals("look", updates.at("/1/message/reply_to_message/caption").asText());
        assertEquals("very nice", updates.at("/2/edited_message/text").asText());
        assertTrue(updates.at("/2/edited_message/edit_date").isNumber());
        JsonNode transcript = RawHttp.json(http.get("/emulator/chats/-100/transcript"));
        assertEquals("photo", transcript.at("/0/kind").asText());
        assertEquals(1, transcript.at("/1/replyTo").asInt());
        assertEquals("edit", transcript.at("/2/action").asText());
    }

    @Test
    void faultsCanBePlannedListedAndCleared() {
        // given a chat and a planned 429 for sendMessage
        http.postJson("/emulator/chats/42/messages", "{\"text\":\"hi\"}");
        HttpResponse<String> planned = http.postJson(
                "/emulator/faults", "{\"method\":\"sendMessage\",\"status\":429,\"retryAfter\":2,\"times\":3}");
        assertEquals("{\"ok\":true}", planned.body());
        assertEquals(
                3, RawHttp.json(http.get("/emulator/faults")).at("/0/remaining").asInt());

        // when the bot sends, then it gets Telegram's 429 with retry_after
        HttpResponse<String> limited = http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"x\"}");
        assertEquals(429, limited.statusCode());
        assertEquals(
                "{\"ok\":false,\"error_code\":429,\"description\":\"Too Many Requests: retry after 2\","
                        + "\"parameters\":{\"retry_after\":2}}",
                limited.body());

        // and once cleared, sending works again
        assertEquals(200, http.delete("/emulator/faults").statusCode());
        assertEquals("[]", http.get("/emulator/faults").body());
        assertEquals(
                200,
                http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"x\"}")
                        .statusCode());
    }

    @Test
    void aGroupTakesTwentyMessagesAMinuteAndThenIsToldToWait() {
        // given Telegram's limits switched on, and a group and a private chat
        http.postJson("/emulator/chats/-100/messages", "{\"chatType\":\"group\",\"userId\":7,\"text\":\"hi\"}");
        http.postJson("/emulator/chats/42/messages", "{\"text\":\"hi\"}");
        assertEquals(
                "{\"ok\":true}",
                http.postJson(
                                "/emulator/limits",
                                "{\"perChatPerSecond\":1,\"perGroupPerMinute\":20,\"globalPerSecond\":30}")
                        .body());

        // when the bot sends 20 messages into the group, one a second
        for (int i = 0; i < 20; i++) {
            assertEquals(
                    200,
                    http.postJson(BOT + "sendMessage", "{\"chat_id\":-100,\"text\":\"m" + i + "\"}")
                            .statusCode(),
                    "message " + i);
            clock.advance(Duration.ofSeconds(1));
        }

        // then the 21st within the minute gets 429 with how long until the first one leaves the window
        HttpResponse<String> limited = http.postJson(BOT + "sendMessage", "{\"chat_id\":-100,\"text\":\"more\"}");
        assertEquals(429, limited.statusCode());
        assertEquals(40, RawHttp.json(limited).at("/parameters/retry_after").asInt());
        // and a private chat is not held back by the group's window
        assertEquals(
                200,
                http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"x\"}")
                        .statusCode());

        // and once the minute has passed since the first, the group may be written to again
        clock.advance(Duration.ofSeconds(40));
        assertEquals(
                200,
                http.postJson(BOT + "sendMessage", "{\"chat_id\":-100,\"text\":\"later\"}")
                        .statusCode());

        // and with the limits off, nothing is counted
        assertEquals(200, http.delete("/emulator/limits").statusCode());
        for (int i = 0; i < 25; i++) {
            assertEquals(
                    200,
                    http.postJson(BOT + "sendMessage", "{\"chat_id\":-100,\"text\":\"free\"}")
                            .statusCode());
        }
    }

    @Test
    void recordedCallsCanBeQueriedByMethod() {
        http.postJson("/emulator/chats/42/messages", "{\"text\":\"hi\"}");
        http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"answer\",\"parse_mode\":\"HTML\"}");
        http.get(BOT + "getMe");

        JsonNode calls = RawHttp.json(http.get("/emulator/calls?method=sendMessage"));

        assertEquals(1, calls.size());
        assertEquals("sendmessage", calls.at("/0/method").asText());
        assertEquals("answer", calls.at("/0/params/text").asText());
        assertEquals(200, calls.at("/0/status").asInt());
        assertEquals(2, RawHttp.json(http.get("/emulator/calls")).size());
    }

    @Test
    void blockingAndUnblockingDecideWhetherTheBotMayWrite() {
        http.postJson("/emulator/chats/42/messages", "{\"text\":\"hi\"}");

        assertEquals(
                "{\"ok\":true}", http.postJson("/emulator/chats/42/block", "").body());
        assertEquals(
                403,
                http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"x\"}")
                        .statusCode());
        assertTrue(RawHttp.json(http.get("/emulator/chats")).at("/0/blocked").asBoolean());
        assertEquals(
                "{\"ok\":true}", http.postJson("/emulator/chats/42/unblock", "").body());
        assertEquals(
                200,
                http.postJson(BOT + "sendMessage", "{\"chat_id\":42,\"text\":\"x\"}")
                        .statusCode());
    }

    @Test
    void resetForgetsEverythingButKeepsUpdateIdsIncreasing() {
        http.postJson("/emulator/chats/42/messages", "{\"text\":\"hi\"}");
        http.postJson("/emulator/faults", "{\"method\":\"getMe\",\"status\":500}");

        assertEquals("{\"ok\":true}", http.postJson("/emulator/reset", "").body());

        assertEquals("[]", http.get("/emulator/chats").body());
        assertEquals(0, telegram.pendingUpdates());
        assertEquals(200, http.get(BOT + "getMe").statusCode());
        assertEquals(
                "{\"updateId\":2,\"messageId\":1}",
                http.postJson("/emulator/chats/42/messages", "{\"text\":\"again\"}")
                        .body());
    }

    @Test
    void badRequestsGetAClearJsonErrorAndLoseNothing() {
        http.postJson("/emulator/chats/42/messages", "{\"text\":\"kept\"}");

        assertError(400, "body is not valid JSON", http.postJson("/emulator/chats/42/messages", "{\"text\": "));
        assertError(400, "body must be a JSON object", http.postJson("/emulator/chats/42/messages", "[1]"));
        assertError(400, "text must not be empty", http.postJson("/emulator/chats/42/messages", "{}"));
        assertError(
                400, "chat id must be an integer", http.postJson("/emulator/chats/abc/messages", "{\"text\":\"x\"}"));
        assertError(
                400,
                "field 'userId' must be an integer",
                http.postJson("/emulator/chats/42/messages", "{\"text\":\"x\",\"userId\":true}"));
        assertError(
                400,
                "userId must be 42",
                http.postJson("/emulator/chats/42/messages", "{\"text\":\"x\",\"userId\":43}"));
        assertError(
                400,
                "chatType must be one of",
                http.postJson("/emulator/chats/-5/messages", "{\"text\":\"x\",\"chatType\":\"channel\"}"));
        assertError(
                400,
                "fault status must be an HTTP error status",
                http.postJson("/emulator/faults", "{\"method\":\"getMe\",\"status\":200}"));
        assertError(404, "chat 5 not found", http.postJson("/emulator/chats/5/block", ""));
        assertError(
                404, "message 9 not found", http.postJson("/emulator/chats/42/messages/9/edit", "{\"text\":\"x\"}"));
        assertError(404, "no such resource", http.get("/emulator/nothing"));
        assertError(405, "use POST", http.get("/emulator/reset"));

        assertEquals(1, telegram.transcript(42).size(), "failed requests changed nothing");
        assertEquals(1, telegram.pendingUpdates());
    }

    @Test
    void theRootServesTheWebChatPage() {
        HttpResponse<String> page = http.get("/");

        assertEquals(200, page.statusCode());
        assertTrue(page.headers().firstValue("Content-Type").orElse("").startsWith("text/html"));
        assertTrue(page.body().contains("<textarea id=\"text\""));
        assertTrue(page.body().contains("/emulator/chats/"));
    }

    @Test
    void theWebChatHasAnIconWhereverABrowserLooksForIt() {
        // given the page links its icon
        String page = http.get("/").body();
        assertTrue(page.contains("<link rel=\"icon\" href=\"/favicon.svg\""), "the page links its icon");

        // when a browser fetches the linked icon, or /favicon.ico as browsers do on their own
        for (String path : List.of("/favicon.svg", "/favicon.ico")) {
            HttpResponse<String> icon = http.get(path);

            // then it gets an SVG image, not a 404
            assertEquals(200, icon.statusCode(), path);
            assertEquals(
                    "image/svg+xml", icon.headers().firstValue("Content-Type").orElse(""), path);
            assertTrue(icon.body().startsWith("<svg"), path);
        }
    }

    private static void assertError(int status, String messagePart, HttpResponse<String> response) {
        assertEquals(status, response.statusCode(), response.body());
        JsonNode body = RawHttp.json(response);
        assertFalse(body.path("ok").asBoolean(true));
        assertTrue(
                body.path("error").asText().contains(messagePart),
                "expected '" + messagePart + "' in " + response.body());
    }
}
