package dev.thoughtstream.testkit.llm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.common.serde.Json;
import java.io.ByteArrayOutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;

/**
 * OpenAI chat completions: a JSON object, or server-sent events of {@code chat.completion.chunk}s. The OpenAI API
 * reference ("Create chat completion", {@code stream}): partial message deltas "sent as data-only server-sent events
 * as they become available, with the stream terminated by a {@code data: [DONE]} message". An event ends at its blank
 * line, however the bytes are split into writes (the HTML Standard, "Server-sent events", "Interpreting an event
 * stream"), which is how LangChain4j's client reads them (line by line), so several events may travel in one write.
 */
final class OpenAiDialect implements Dialect {
    static final String SYSTEM_FINGERPRINT = "fp_thoughtstream_fake";
    /** Where a token chunk's content goes: the only {@code "content":""} of a chunk serialised with empty content. */
    private static final byte[] EMPTY_CONTENT = "\"content\":\"\"".getBytes(StandardCharsets.UTF_8);

    @Override
    public WireFormat format() {
        return WireFormat.OPENAI;
    }

    @Override
    public ChatCall parse(JsonNode body) throws BadRequestException {
        String model = Dialect.model(body);
        boolean stream = body.path("stream").asBoolean(false);
        boolean includeUsage = body.path("stream_options").path("include_usage").asBoolean(false);
        return new ChatCall(model, Dialect.messages(body), stream, includeUsage);
    }

    @Override
    public String jsonContentType() {
        return "application/json";
    }

    @Override
    public String streamContentType() {
        return "text/event-stream; charset=utf-8";
    }

    @Override
    public byte[] completion(Reply reply, Instant now) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("id", reply.id());
        root.put("object", "chat.completion");
        root.put("created", reply.created().getEpochSecond());
        root.put("model", reply.model());
        ObjectNode choice = root.putArray("choices").addObject();
        choice.put("index", 0);
        ObjectNode message = choice.putObject("message");
        message.put("role", "assistant");
        message.put("content", reply.text());
        message.putNull("refusal");
        choice.putNull("logprobs");
        choice.put("finish_reason", reply.finishReason());
        root.set("usage", usage(reply));
        root.put("system_fingerprint", SYSTEM_FINGERPRINT);
        return json(root);
    }

    @Override
    public byte[] streamStart(Reply reply, Instant now) {
        ObjectNode chunk = chunk(reply);
        ObjectNode choice = chunk.withArrayProperty("choices").addObject();
        choice.put("index", 0);
        ObjectNode delta = choice.putObject("delta");
        delta.put("role", "assistant");
        delta.put("content", "");
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return event(chunk);
    }

    @Override
    public byte[] streamToken(Reply reply, String token, Instant now) {
        return streamTokens(reply, List.of(token), now);
    }

    /**
     * One {@code chat.completion.chunk} event per token (the OpenAI API reference, "The chat completion chunk
     * object": {@code choices[0].delta.content} carries the token). A reply's token chunks differ only in their
     * content, so the chunk is serialised once, with empty content, and each token, serialised as a JSON string by
     * the same mapper, is put in its place: the same bytes as a tree per token, without building one.
     */
    @Override
    public byte[] streamTokens(Reply reply, List<String> tokens, Instant now) {
        byte[] template = event(tokenChunk(reply, ""));
        int content = lastIndexOf(template, EMPTY_CONTENT);
        if (content < 0) {
            throw new IllegalStateException("no empty content in the token chunk template");
        }
        // The empty content's two quotes give way to the token as a JSON string.
        int value = content + EMPTY_CONTENT.length - 2;
        ByteArrayOutputStream out = new ByteArrayOutputStream(tokens.size() * (template.length + 16));
        for (String token : tokens) {
            out.write(template, 0, value);
            out.writeBytes(json(token));
            out.write(template, value + 2, template.length - value - 2);
        }
        return out.toByteArray();
    }

    /** The chunk of one token, built as a tree: the template of {@link #streamTokens}. */
    static ObjectNode tokenChunk(Reply reply, String token) {
        ObjectNode chunk = chunk(reply);
        ObjectNode choice = chunk.withArrayProperty("choices").addObject();
        choice.put("index", 0);
        choice.putObject("delta").put("content", token);
        choice.putNull("logprobs");
        choice.putNull("finish_reason");
        return chunk;
    }

    private static int lastIndexOf(byte[] bytes, byte[] part) {
        for (int i = bytes.length - part.length; i >= 0; i--) {
            if (Arrays.equals(bytes, i, i + part.length, part, 0, part.length)) {
                return i;
            }
        }
        return -1;
    }

    @Override
    public byte[] streamEnd(Reply reply, Instant now) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ObjectNode last = chunk(reply);
        ObjectNode choice = last.withArrayProperty("choices").addObject();
        choice.put("index", 0);
        choice.putObject("delta");
        choice.putNull("logprobs");
        choice.put("finish_reason", reply.finishReason());
        out.writeBytes(event(last));
        if (reply.includeUsage()) {
            ObjectNode usage = chunk(reply);
            usage.set("usage", usage(reply));
            out.writeBytes(event(usage));
        }
        out.writeBytes("data: [DONE]\n\n".getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    /**
     * An SSE event whose data is an error object instead of a chunk, as OpenAI sends when a generation fails after the
     * stream began (the same {@code {"error": {...}}} shape as its error responses); no {@code [DONE]} follows.
     */
    @Override
    public byte[] streamError(Reply reply, String message) {
        byte[] error = error(500, message);
        return ("data: " + new String(error, StandardCharsets.UTF_8) + "\n\n").getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] keepAlive(Reply reply, Instant now) {
        // An SSE comment line: clients skip it, it delivers no event.
        return ": keep-alive\n\n".getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public byte[] error(int status, String message) {
        return error(status, message, null);
    }

    /** With a {@code code}, it is also the error's type, as in OpenAI's {@code insufficient_quota} answer. */
    @Override
    public byte[] error(int status, String message, String scriptedCode) {
        ObjectNode root = Json.mapper().createObjectNode();
        ObjectNode error = root.putObject("error");
        error.put("message", message);
        error.put("type", scriptedCode != null ? scriptedCode : errorType(status));
        error.putNull("param");
        String code = scriptedCode != null ? scriptedCode : errorCode(status);
        if (code == null) {
            error.putNull("code");
        } else {
            error.put("code", code);
        }
        return json(root);
    }

    private static String errorType(int status) {
        if (status == 429) {
            return "requests";
        }
        return status >= 500 ? "server_error" : "invalid_request_error";
    }

    private static String errorCode(int status) {
        return switch (status) {
            case 401 -> "invalid_api_key";
            case 404 -> "model_not_found";
            case 429 -> "rate_limit_exceeded";
            default -> null;
        };
    }

    /** Every chunk of one reply shares id, created and model; with include_usage each one carries "usage". */
    private static ObjectNode chunk(Reply reply) {
        ObjectNode chunk = Json.mapper().createObjectNode();
        chunk.put("id", reply.id());
        chunk.put("object", "chat.completion.chunk");
        chunk.put("created", reply.created().getEpochSecond());
        chunk.put("model", reply.model());
        chunk.put("system_fingerprint", SYSTEM_FINGERPRINT);
        chunk.putArray("choices");
        if (reply.includeUsage()) {
            chunk.putNull("usage");
        }
        return chunk;
    }

    private static ObjectNode usage(Reply reply) {
        ObjectNode usage = Json.mapper().createObjectNode();
        usage.put("prompt_tokens", reply.promptTokens());
        usage.put("completion_tokens", reply.completionTokens());
        usage.put("total_tokens", reply.promptTokens() + reply.completionTokens());
        return usage;
    }

    static byte[] event(JsonNode data) {
        // JSON escapes line breaks inside strings, so one "data:" line always holds the whole chunk.
        byte[] json = json(data);
        ByteArrayOutputStream out = new ByteArrayOutputStream(json.length + 8);
        out.writeBytes("data: ".getBytes(StandardCharsets.UTF_8));
        out.writeBytes(json);
        out.writeBytes("\n\n".getBytes(StandardCharsets.UTF_8));
        return out.toByteArray();
    }

    static byte[] json(Object value) {
        try {
            return Json.mapper().writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
