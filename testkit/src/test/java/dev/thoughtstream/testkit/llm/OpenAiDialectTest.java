package dev.thoughtstream.testkit.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.serde.Json;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The token events of {@link OpenAiDialect}: put together from a template, yet the bytes of a chunk tree. */
class OpenAiDialectTest {
    private static final Instant NOW = Instant.parse("2025-03-01T12:00:00Z");
    /** Tokens whose JSON needs escaping or multi-byte UTF-8, besides plain ones. */
    private static final List<String> TOKENS = List.of(
            "Hello",
            " world",
            "",
            "\n\n",
            " \"quoted\"",
            "back\\slash",
            "\ttab\r",
            "\u0001\u001f",
            " caf\u00e9",
            "\uD83D\uDE00",
            "</script>",
            "\u2028",
            "\"content\":\"\"");

    private final OpenAiDialect dialect = new OpenAiDialect();

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void tokenEventsAreExactlyTheSerialisedChunksOfEachToken(boolean includeUsage) throws Exception {
        // given a reply whose id and model themselves need escaping
        Reply reply = new Reply(
                "chatcmpl-\"odd\"",
                "model \"content\":\"\" \u00e9",
                NOW,
                String.join("", TOKENS),
                TOKENS,
                12,
                includeUsage,
                0,
                "stop");

        // when the tokens are rendered together, and one by one
        byte[] together = dialect.streamTokens(reply, TOKENS, NOW);
        ByteArrayOutputStream oneByOne = new ByteArrayOutputStream();
        for (String token : TOKENS) {
            oneByOne.writeBytes(dialect.streamToken(reply, token, NOW));
        }

        // then both are, byte for byte, one "data:" event per token of the chunk tree serialised by Jackson
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (String token : TOKENS) {
            expected.writeBytes(OpenAiDialect.event(OpenAiDialect.tokenChunk(reply, token)));
        }
        assertArrayEquals(expected.toByteArray(), together, new String(together, StandardCharsets.UTF_8));
        assertArrayEquals(expected.toByteArray(), oneByOne.toByteArray());
        // and each event parses back to its token, as a client reads it
        String[] events = new String(together, StandardCharsets.UTF_8).split("\n\n");
        assertEquals(TOKENS.size(), events.length);
        for (int i = 0; i < TOKENS.size(); i++) {
            JsonNode chunk = Json.mapper().readTree(events[i].substring("data: ".length()));
            assertEquals(
                    TOKENS.get(i),
                    chunk.path("choices").path(0).path("delta").path("content").asText());
            assertEquals(reply.model(), chunk.path("model").asText());
        }
    }
}
