package dev.thoughtstream.chunker.parse;

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

        assertEquals(
                new ParsedUpdate.TextMessage(-100123, 77, "hello", 1_772_440_000_000L, 5L, "Ada"),
                UpdateParser.parse(update));
    }

    @Test
    void aTextMessageWithoutSenderIsStillATextMessage() throws Exception {
        JsonNode update = Json.mapper().readTree("""
                {"update_id": 10, "message": {"message_id": 77, "date": 1, "chat": {"id": 9}, "text": "hi"}}""");

        assertEquals(new ParsedUpdate.TextMessage(9, 77, "hi", 1000, null, null), UpdateParser.parse(update));
    }

    @Test
    void anEditedTextMessageYieldsItsNewTextAndEditTime() throws Exception {
        JsonNode update = Json.mapper().readTree("""
                {"update_id": 11, "edited_message": {"message_id": 77, "date": 1772440000, "edit_date": 1772440030,
                  "chat": {"id": 9}, "from": {"id": 5, "first_name": "Ada"}, "text": "hello, fixed"}}""");

        assertEquals(
                new ParsedUpdate.TextMessage(
                        9, 77, "hello, fixed", 1_772_440_000_000L, 5L, "Ada", null, 1_772_440_030_000L, null),
                UpdateParser.parse(update));
    }

    @Test
    void aCaptionIsTheTextOfAPhotoAndNamesWhatItCaptions() throws Exception {
        JsonNode update = Json.mapper().readTree("""
                {"update_id": 12, "message": {"message_id": 78, "date": 1, "chat": {"id": 9},
                  "photo": [{"file_id": "a"}], "caption": "my cat", "media_group_id": "album-1"}}""");

        assertEquals(
                new ParsedUpdate.TextMessage(9, 78, "my cat", 1000, null, null, "photo", null, "album-1"),
                UpdateParser.parse(update));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":3},\"sticker\":{}}} | sticker",
                "{\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":3},\"voice\":{}}} | voice",
                "{\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":3},\"photo\":[]}} | photo",
                "{\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":3},\"document\":{}}} | document",
                "{\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":3},\"video_note\":{}}} | video_note",
                "{\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":3},\"location\":{}}} | location",
                "{\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":3},\"contact\":{}}} | contact",
            })
    void contentWithoutWordsIsANonTextMessageOfItsKind(String json, String kind) throws Exception {
        assertEquals(
                new ParsedUpdate.NonTextMessage(3, 1, kind, null),
                UpdateParser.parse(Json.mapper().readTree(json)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "{\"update_id\":1,\"callback_query\":{\"id\":\"q\"}} | callback_query",
                "{\"update_id\":1,\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":1},\"new_chat_members\":[]}} | message without text (new_chat_members)",
                "{\"update_id\":1,\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":1},\"pinned_message\":{}}} | message without text (pinned_message)",
                "{\"update_id\":1,\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":1}}} | message without text (no known content)",
                "{\"update_id\":1,\"edited_message\":{\"message_id\":1,\"date\":1,\"edit_date\":2,\"chat\":{\"id\":1},\"location\":{}}} | edited message without text (location)",
                "{\"update_id\":1,\"edited_channel_post\":{\"message_id\":1,\"text\":\"x\"}} | edited_channel_post",
                "{\"update_id\":1} | empty update",
            })
    void updatesTheChunkerDoesNotActOnAreIgnoredWithTheirKind(String json, String kind) throws Exception {
        assertEquals(
                new ParsedUpdate.Ignored(kind), UpdateParser.parse(Json.mapper().readTree(json)));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "[1,2] | update is not a JSON object",
                "{\"message\":\"hi\"} | update.message is not a JSON object",
                "{\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":1},\"text\":5}} | message.text is not a string",
                "{\"message\":{\"date\":1,\"chat\":{\"id\":1},\"text\":\"t\"}} | text message without a numeric message_id",
                "{\"message\":{\"message_id\":\"1\",\"date\":1,\"chat\":{\"id\":1},\"text\":\"t\"}} | text message without a numeric message_id",
                "{\"message\":{\"message_id\":1,\"chat\":{\"id\":1},\"text\":\"t\"}} | text message without a numeric date",
                "{\"message\":{\"message_id\":1,\"date\":1,\"text\":\"t\"}} | text message without a numeric chat.id",
                "{\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":1e400},\"text\":\"t\"}} | text message without a numeric chat.id",
                "{\"edited_message\":[]} | update.edited_message is not a JSON object",
                "{\"edited_message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":1},\"text\":\"t\"}} | edited message without a numeric edit_date",
                "{\"edited_message\":{\"date\":1,\"edit_date\":2,\"chat\":{\"id\":1},\"text\":\"t\"}} | text edited message without a numeric message_id",
                "{\"message\":{\"message_id\":1,\"date\":1,\"chat\":{\"id\":1},\"photo\":[],\"caption\":7}} | message.caption is not a string",
                "{\"message\":{\"date\":1,\"chat\":{\"id\":1},\"sticker\":{}}} | sticker message without a numeric message_id",
                "{\"message\":{\"message_id\":1,\"date\":1,\"sticker\":{}}} | sticker message without a numeric chat.id",
            })
    void unusableTextMessagesAreMalformedWithAReason(String json, String reason) throws Exception {
        assertEquals(
                new ParsedUpdate.Malformed(reason),
                UpdateParser.parse(Json.mapper().readTree(json)));
    }
}
