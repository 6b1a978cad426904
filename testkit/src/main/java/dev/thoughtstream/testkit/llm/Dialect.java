package dev.thoughtstream.testkit.llm;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.time.Instant;
import java.util.List;

/** Renders requests and replies in one wire format; the streaming mechanics live in {@link FakeLlmServer}. */
interface Dialect {

    WireFormat format();

    /** Parses a chat request body; throws with a message fit for the client when it is not a valid request. */
    ChatCall parse(JsonNode body) throws BadRequestException;

    String jsonContentType();

    byte[] completion(Reply reply, Instant now);

    String streamContentType();

    /** Bytes before the first token (may be empty). */
    byte[] streamStart(Reply reply, Instant now);

    byte[] streamToken(Reply reply, String token, Instant now);

    /**
     * The bytes of {@link #streamToken} for each of {@code tokens} in turn, in one piece: what a paced stream writes
     * at once when it coalesces the tokens that fell due together.
     */
    default byte[] streamTokens(Reply reply, List<String> tokens, Instant now) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (String token : tokens) {
            out.writeBytes(streamToken(reply, token, now));
        }
        return out.toByteArray();
    }

    /** The normal end of a stream, terminator included. */
    byte[] streamEnd(Reply reply, Instant now);

    /** Bytes that carry no token, written while a stream is stalled to notice a client that hung up. */
    byte[] keepAlive(Reply reply, Instant now);

    byte[] error(int status, String message);

    /** An error reported inside a stream that already began (HTTP 200 sent), after which the stream ends. */
    byte[] streamError(Reply reply, String message);

    /** An error whose kind the wire format can name ({@code code}); formats without one ignore it. */
    default byte[] error(int status, String message, String code) {
        return error(status, message);
    }

    /** Default error message for a scripted status. */
    static String defaultErrorMessage(int status) {
        return switch (status) {
            case 400 -> "Bad request (scripted by the fake LLM server)";
            case 401 -> "Invalid API key (scripted by the fake LLM server)";
            case 403 -> "Forbidden (scripted by the fake LLM server)";
            case 404 -> "Model not found (scripted by the fake LLM server)";
            case 429 -> "Rate limit reached (scripted by the fake LLM server)";
            case 503 -> "The model is overloaded (scripted by the fake LLM server)";
            default ->
                status >= 500
                        ? "The server had an error processing the request (scripted by the fake LLM server)"
                        : "Request failed with status " + status + " (scripted by the fake LLM server)";
        };
    }

    /** Text of a message's content: a string, OpenAI content parts (text parts joined), or null/absent. */
    static String contentText(JsonNode content) throws BadRequestException {
        if (content == null || content.isNull() || content.isMissingNode()) {
            return "";
        }
        if (content.isTextual()) {
            return content.asText();
        }
        if (content.isArray()) {
            StringBuilder text = new StringBuilder();
            for (JsonNode part : content) {
                if ("text".equals(part.path("type").asText())
                        && part.path("text").isTextual()) {
                    text.append(part.path("text").asText());
                }
            }
            return text.toString();
        }
        throw new BadRequestException("message content must be a string or an array of content parts");
    }

    /** The {@code messages} array shared by both formats: non-empty, each with a string role. */
    static List<LlmMessage> messages(JsonNode body) throws BadRequestException {
        JsonNode messages = body.path("messages");
        if (!messages.isArray() || messages.isEmpty()) {
            throw new BadRequestException("'messages' must be a non-empty array");
        }
        List<LlmMessage> result = new java.util.ArrayList<>();
        for (JsonNode m : messages) {
            JsonNode role = m.path("role");
            if (!role.isTextual() || role.asText().isBlank()) {
                throw new BadRequestException("every message needs a string 'role'");
            }
            result.add(new LlmMessage(role.asText(), contentText(m.get("content"))));
        }
        return result;
    }

    /** The required {@code model} field. */
    static String model(JsonNode body) throws BadRequestException {
        JsonNode model = body.path("model");
        if (!model.isTextual() || model.asText().isBlank()) {
            throw new BadRequestException("'model' is required");
        }
        return model.asText();
    }
}
