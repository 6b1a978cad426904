package dev.thoughtstream.testkit.llm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.common.serde.Json;
import java.io.ByteArrayOutputStream;
import java.time.Instant;

/** Ollama chat: one JSON object, or newline-delimited JSON objects ending with {@code "done":true}. */
final class OllamaDialect implements Dialect {

    @Override
    public WireFormat format() {
        return WireFormat.OLLAMA;
    }

    @Override
    public ChatCall parse(JsonNode body) throws BadRequestException {
        String model = Dialect.model(body);
        // Ollama streams unless the request says "stream": false.
        JsonNode stream = body.path("stream");
        if (!stream.isMissingNode() && !stream.isNull() && !stream.isBoolean()) {
            throw new BadRequestException("'stream' must be a boolean");
        }
        return new ChatCall(model, Dialect.messages(body), stream.asBoolean(true), true);
    }

    @Override
    public String jsonContentType() {
        return "application/json; charset=utf-8";
    }

    @Override
    public String streamContentType() {
        return "application/x-ndjson";
    }

    @Override
    public byte[] completion(Reply reply, Instant now) {
        ObjectNode root = message(reply, reply.text(), now);
        finish(root, reply);
        return OpenAiDialect.json(root);
    }

    @Override
    public byte[] streamStart(Reply reply, Instant now) {
        return new byte[0];
    }

    @Override
    public byte[] streamToken(Reply reply, String token, Instant now) {
        ObjectNode line = message(reply, token, now);
        line.put("done", false);
        return line(line);
    }

    @Override
    public byte[] streamEnd(Reply reply, Instant now) {
        ObjectNode last = message(reply, "", now);
        finish(last, reply);
        return line(last);
    }

    @Override
    public byte[] keepAlive(Reply reply, Instant now) {
        // A chunk with empty content, as Ollama itself sends at times: a valid line that adds no token.
        return streamToken(reply, "", now);
    }

    @Override
    public byte[] streamError(Reply reply, String message) {
        // One NDJSON line, like every other line of the stream (Ollama's API docs, "Errors", streaming).
        byte[] error = error(500, message);
        byte[] line = new byte[error.length + 1];
        System.arraycopy(error, 0, line, 0, error.length);
        line[error.length] = '\n';
        return line;
    }

    @Override
    public byte[] error(int status, String message) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("error", message);
        return OpenAiDialect.json(root);
    }

    private static ObjectNode message(Reply reply, String content, Instant now) {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("model", reply.model());
        root.put("created_at", now.toString());
        ObjectNode message = root.putObject("message");
        message.put("role", "assistant");
        message.put("content", content);
        return root;
    }

    private static void finish(ObjectNode root, Reply reply) {
        long total = Math.max(1, System.nanoTime() - reply.startNanos());
        root.put("done_reason", reply.finishReason());
        root.put("done", true);
        root.put("total_duration", total);
        root.put("load_duration", 0);
        root.put("prompt_eval_count", reply.promptTokens());
        root.put("prompt_eval_duration", total / 4);
        root.put("eval_count", reply.completionTokens());
        root.put("eval_duration", total - total / 4);
    }

    private static byte[] line(JsonNode node) {
        byte[] json = OpenAiDialect.json(node);
        ByteArrayOutputStream out = new ByteArrayOutputStream(json.length + 1);
        out.writeBytes(json);
        out.write('\n');
        return out.toByteArray();
    }
}
