package dev.thoughtstream.common.event;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.serde.Json;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The time of the person's last message travels in a reply part without breaking readers or writers of before. */
class ReplyPartJsonTest {

    @Test
    void aPartWithTheTimeOfThePersonsLastMessageRoundTrips() throws Exception {
        ReplyPart part = new ReplyPart(1, "r:1:5", "1:5", 1, 5, 0, true, "hi", 2_000, 1_000L);

        ReplyPart back = Json.mapper().readValue(Json.mapper().writeValueAsBytes(part), ReplyPart.class);

        assertEquals(part, back);
        assertEquals(1_000L, back.lastMessageAtMs());
    }

    @Test
    void aPartOfAnOlderWriterReadsWithoutIt_andAPartWithoutItIsWrittenAsBefore() throws Exception {
        // given a part as written before the field existed
        String before = "{\"schemaVersion\":1,\"replyId\":\"r:1:5\",\"thoughtId\":\"1:5\",\"chatId\":1,"
                + "\"lastMessageId\":5,\"seq\":0,\"last\":true,\"text\":\"hi\",\"createdAtMs\":2000}";

        // when it is read, then it has no time of the person's message
        ReplyPart read = Json.mapper().readValue(before, ReplyPart.class);
        assertNull(read.lastMessageAtMs());
        assertEquals(new ReplyPart(1, "r:1:5", "1:5", 1, 5, 0, true, "hi", 2_000), read);

        // and a part without it is written without the field, as before
        JsonNode written = Json.mapper().valueToTree(read);
        assertFalse(written.has("lastMessageAtMs"), written.toString());
        assertEquals(before, Json.mapper().writeValueAsString(read));
    }

    @Test
    void theWaitOfAThoughtBeginsAtTheLatestDateOrEditDateOfItsMessages() {
        Thought thought = new Thought(
                Thought.SCHEMA_VERSION,
                "1:5",
                1,
                List.of(
                        new ThoughtMessage(5, "first", 10_000),
                        new ThoughtMessage(6, "edited later", 11_000, null, 14_000L),
                        new ThoughtMessage(7, "last sent", 12_000)),
                5,
                7,
                10_500,
                16_000,
                List.of());

        assertEquals(14_000, thought.lastWrittenAtMs());
        assertFalse(Json.mapper().valueToTree(thought).has("lastWrittenAtMs"), "not part of the thought's JSON");
    }
}
