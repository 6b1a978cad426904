package dev.thoughtstream.testkit.llm;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A chat request as {@link FakeLlmServer} received it, recorded before any scripted behaviour ran (so requests that
 * were then failed, hung or cut off are here too).
 *
 * @param format               which API the request used
 * @param path                 the request path, e.g. {@code /v1/chat/completions}
 * @param stream               whether the client asked for a streamed reply (Ollama streams unless told not to)
 * @param model                the requested model name; {@code null} if the body could not be parsed
 * @param messages             the conversation the client sent, in order; empty if the body could not be parsed
 * @param authorizationPresent whether an {@code Authorization} header was sent (its value is never kept)
 * @param at                   when the server received it, by the server's clock
 * @param body                 the raw request body, for assertions on options this record does not model
 */
public record RecordedRequest(
        WireFormat format,
        String path,
        boolean stream,
        String model,
        List<LlmMessage> messages,
        boolean authorizationPresent,
        Instant at,
        String body) {

    public RecordedRequest {
        Objects.requireNonNull(format, "format");
        Objects.requireNonNull(path, "path");
        messages = List.copyOf(messages);
        Objects.requireNonNull(at, "at");
        body = body == null ? "" : body;
    }

    /** The content of the last message with role {@code user}, or {@code null} if there is none. */
    public String lastUserMessage() {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if ("user".equals(messages.get(i).role())) {
                return messages.get(i).content();
            }
        }
        return null;
    }
}
