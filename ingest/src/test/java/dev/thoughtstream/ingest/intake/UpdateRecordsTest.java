package dev.thoughtstream.ingest.intake;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thoughtstream.common.serde.Json;
import org.junit.jupiter.api.Test;

class UpdateRecordsTest {

    private static long chatOf(String json) throws Exception {
        return UpdateRecords.chatIdOf(Json.mapper().readTree(json));
    }

    @Test
    void aMessageBelongsToItsChat() throws Exception {
        assertEquals(
                -100123,
                chatOf(
                        "{\"update_id\":1,\"message\":{\"message_id\":5,\"from\":{\"id\":42},\"chat\":{\"id\":-100123}}}"));
    }

    @Test
    void anEditBelongsToItsChat() throws Exception {
        assertEquals(42, chatOf("{\"update_id\":1,\"edited_message\":{\"message_id\":5,\"chat\":{\"id\":42}}}"));
    }

    @Test
    void aCallbackQueryBelongsToTheChatOfItsMessage() throws Exception {
        assertEquals(
                77,
                chatOf(
                        "{\"update_id\":1,\"callback_query\":{\"id\":\"x\",\"from\":{\"id\":42},\"message\":{\"chat\":{\"id\":77}}}}"));
    }

    @Test
    void anInlineQueryHasNoChatSoItBelongsToItsSender() throws Exception {
        assertEquals(
                42, chatOf("{\"update_id\":1,\"inline_query\":{\"id\":\"x\",\"from\":{\"id\":42},\"query\":\"q\"}}"));
    }

    @Test
    void anUpdateNamingNoChatOrUserGetsKeyZeroRatherThanBeingDropped() throws Exception {
        assertEquals(0, chatOf("{\"update_id\":1,\"poll\":{\"id\":\"p\",\"question\":\"?\"}}"));
    }
}
