package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Telegram restarting its update ids lower after a long idle, and the Bot API server answering an offset beyond its
 * queue from the head of the queue without dropping anything (tdlib/telegram-bot-api Client.cpp
 * {@code do_get_updates}, tdlib/td TQueue.cpp {@code TQueueImpl::get}).
 */
class TelegramEmulatorUpdateIdRestartTest {
    private static final String TOKEN = "777:restart_TOKEN";
    private static final String BOT = "/bot" + TOKEN + "/";

    private TelegramEmulator telegram;
    private RawHttp http;

    @BeforeEach
    void startEmulator() {
        telegram = TelegramEmulator.builder()
                .botToken(TOKEN)
                .idsStartAt(500, 1)
                .build()
                .start();
        http = new RawHttp(telegram.baseUrl());
    }

    @AfterEach
    void stopEmulator() {
        telegram.close();
    }

    @Test
    void afterARestartAnOffsetBeyondTheQueueIsAnsweredFromTheHeadAndConfirmsNothing() {
        // given a bot that read and confirmed updates 500 and 501
        telegram.injectMessage(42, "before");
        telegram.injectMessage(42, "before too");
        assertEquals(List.of(500L, 501L), updateIds(http.postJson(BOT + "getUpdates", "{\"offset\":500}")));
        assertEquals(List.of(), updateIds(http.postJson(BOT + "getUpdates", "{\"offset\":502}")));

        // when Telegram restarts the ids at 1 and two more messages arrive
        telegram.restartUpdateIds(1);
        long first = telegram.injectMessage(42, "after").updateId();
        long second = telegram.injectMessage(42, "after too").updateId();
        assertEquals(1, first);
        assertEquals(2, second);

        // then the bot's old offset is answered from the head, as often as it asks, and drops nothing
        assertEquals(List.of(1L, 2L), updateIds(http.postJson(BOT + "getUpdates", "{\"offset\":502}")));
        assertEquals(List.of(1L, 2L), updateIds(http.postJson(BOT + "getUpdates", "{\"offset\":502}")));
        assertEquals(2, telegram.pendingUpdates());
        // and an offset above the new ids confirms them
        assertEquals(List.of(), updateIds(http.postJson(BOT + "getUpdates", "{\"offset\":3}")));
        assertEquals(0, telegram.pendingUpdates());
        assertEquals(3, telegram.confirmedOffset());
    }

    @Test
    void anOffsetUpToTenAboveTheNextIdStillConfirmsAsTheRealQueueDoes() {
        // given two pending updates, 500 and 501 (the next id is 502)
        telegram.injectMessage(42, "a");
        telegram.injectMessage(42, "b");

        // when the offset is 512, ten above the next id, it is accepted and confirms both
        assertEquals(List.of(), updateIds(http.postJson(BOT + "getUpdates", "{\"offset\":512}")));
        assertEquals(0, telegram.pendingUpdates());

        // then one beyond that is out of range: the next update is answered from the head, unconfirmed
        telegram.injectMessage(42, "c");
        assertEquals(List.of(502L), updateIds(http.postJson(BOT + "getUpdates", "{\"offset\":514}")));
        assertEquals(1, telegram.pendingUpdates());
    }

    @Test
    void theControlApiRestartsIdsOnlyWhileNothingIsPending() {
        // given a pending update
        telegram.injectMessage(42, "pending");

        // when a restart is asked for, it is refused while the update is pending
        HttpResponse<String> refused = http.postJson("/emulator/updates/restart-ids", "{\"next\":1}");
        assertEquals(409, refused.statusCode(), refused.body());
        assertTrue(RawHttp.json(refused).path("error").asText().contains("pending"), refused.body());
        assertThrows(IllegalStateException.class, () -> telegram.restartUpdateIds(1));

        // then once it is confirmed the restart is accepted and the next update gets the new id
        http.postJson(BOT + "getUpdates", "{\"offset\":501}");
        assertEquals(
                "{\"ok\":true}",
                http.postJson("/emulator/updates/restart-ids", "{\"next\":7}").body());
        assertEquals(
                7,
                RawHttp.json(http.get("/emulator/state")).path("nextUpdateId").asLong());
        assertEquals(7, telegram.injectMessage(42, "after").updateId());
        // and a missing or non-positive id is a bad request
        assertEquals(400, http.postJson("/emulator/updates/restart-ids", "{}").statusCode());
        HttpResponse<String> zero = http.postJson("/emulator/updates/restart-ids", "{\"next\":0}");
        assertEquals(400, zero.statusCode(), zero.body());
        assertFalse(RawHttp.json(zero).path("ok").asBoolean(true));
    }

    private static List<Long> updateIds(HttpResponse<String> response) {
        assertEquals(200, response.statusCode(), response.body());
        List<Long> ids = new ArrayList<>();
        JsonNode result = RawHttp.json(response).path("result");
        result.forEach(u -> ids.add(u.path("update_id").asLong()));
        return ids;
    }
}
