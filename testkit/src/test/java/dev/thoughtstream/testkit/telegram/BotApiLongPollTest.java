package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** getUpdates' long-poll timeout, clamped as the real Bot API server clamps it. */
class BotApiLongPollTest {

    @Test
    void aTimeoutAboveFiftySecondsIsHeldForFiftySeconds() {
        // Given a client asking for a ten-minute long poll, when the emulator reads it, then it waits 50 s at most
        assertEquals(50_000, BotApi.longPollMillis(600));
        assertEquals(50_000, BotApi.longPollMillis(51));
    }

    @Test
    void aTimeoutWithinTheLimitIsKeptAsAsked() {
        assertEquals(50_000, BotApi.longPollMillis(50));
        assertEquals(30_000, BotApi.longPollMillis(30));
    }

    @Test
    void noTimeoutOrANegativeOneAnswersAtOnce() {
        assertEquals(0, BotApi.longPollMillis(null));
        assertEquals(0, BotApi.longPollMillis(0));
        assertEquals(0, BotApi.longPollMillis(-5));
    }
}
