package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class TelegramEmulatorIdsTest {

    @Test
    void idsStartWhereTheBuilderSaysSoARestartedEmulatorNeverReusesThem() {
        try (TelegramEmulator emulator =
                TelegramEmulator.builder().idsStartAt(1_000_000, 500).build().start()) {
            UserMessage first = emulator.injectMessage(42, "hi");
            UserMessage second = emulator.injectMessage(42, "again");
            UserMessage otherChat = emulator.injectMessage(43, "hello");

            assertEquals(1_000_000, first.updateId());
            assertEquals(1_000_001, second.updateId());
            assertEquals(500, first.messageId());
            assertEquals(501, second.messageId());
            assertEquals(500, otherChat.messageId(), "message ids are per chat");
        }
    }

    @Test
    void idsBeyondTelegramsThirtyTwoBitsAreRefused() {
        assertThrows(
                IllegalArgumentException.class, () -> TelegramEmulator.builder().idsStartAt(1L + Integer.MAX_VALUE, 1));
    }
}
