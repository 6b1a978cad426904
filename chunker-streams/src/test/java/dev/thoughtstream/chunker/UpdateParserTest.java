package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.serde.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class UpdateParserTest {

    @Test
    void aTextMessageYieldsItsIdsTextTimeAndSender() throws Exception {
        JsonNode update = Json.mapper().readTree("""
                {"update_id": 10, "message": {"message_id": 77, "date": 1772440000,
                  "chat": {"id": -100123, "type": "group"},
                  "from": {"id": 5, "is_bot": false, "first_name": "Ada"}, "text": "hello"}}""");

        assertEquals(new ParsedUpdate.TextMessage(-100123, 77, "hello", 1_772_440_000_000L, 5L, "Ada"),
                UpdateParser.parse(update));
    }

    @Test
    void aTextMessageWithoutSenderIsStillATextMessage() throws Exception {
        JsonNode update = Json.mapper().readTree("""
                {"update_id": 10, "message": {"message_id": 77, "date": 1, "chat": {"id": 9}, "text": "hi"}}""");

        assertEquals(new ParsedUpdate.TextMessage(9, 77, "hi", 1000, null, null), UpdateParser.parse(update));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "{\"update_id\":1,\"edited_message\":{\"message_id\":1,\"text\":\"x\"}} | edited_message",
        "{\"update_id\":1,\"callback_query\":{\"id\":\"q\"}} | callback_query",
        "{\"update_id\":1,\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":1},\"sticker\":{}}} | message without text (sticker)",
        "{\"update_id\":1,\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":1},\"photo\":[],\"caption\":\"c\"}} | message without text (photo)",
        "{\"update_id\":1} | empty update",
    })
    void updatesThatAreNotTextMessagesAreIgnoredWithTheirKind(String json, String kind) throws Exception {
        assertEquals(new ParsedUpdate.Ignored(kind), UpdateParser.parse(Json.mapper().readTree(json)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "[1,2] | update is not a JSON object",
        "{\"message\":\"hi\"} | update.message is not a JSON object",
        "{\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":1},\"text\":5}} | message.text is not a string",
        "{\"message\":{\"date\":1,\"chat\":{\"id\":1},\"text\":\"t\"}} | text message without a numeric message_id",
        "{\"message\":{\"message_id\":\"1\",\"date\":1,\"chat\":{\"id\":1},\"text\":\"t\"}} | text message without a numeric message_id",
        "{\"message\":{\"message_id\":1,\"chat\":{\"id\":1},\"text\":\"t\"}} | text message without a numeric date",
        "{\"message\":{\"message_id\":1,\"date\":1,\"text\":\"t\"}} | text message without a numeric chat.id",
        "{\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":1e400},\"text\":\"t\"}} | text message without a numeric chat.id",
    })
    void unusableTextMessagesAreMalformedWithAReason(String json, String reason) throws Exception {
        assertEquals(new ParsedUpdate.Malformed(reason), UpdateParser.parse(Json.mapper().readTree(json)));
    }
}
