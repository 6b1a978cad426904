package dev.thoughtstream.testkit.llm;

import java.util.Objects;

/**
 * One chat message as a client sent it: the role ({@code system}, {@code user}, {@code assistant}, {@code tool}) and
 * its text. Structured content (OpenAI content parts) is flattened to the concatenation of its text parts.
 */
public record LlmMessage(String role, String content) {
    public LlmMessage {
        Objects.requireNonNull(role, "role");
        content = content == null ? "" : content;
    }

    public static LlmMessage system(String content) {
        return new LlmMessage("system", content);
    }

    public static LlmMessage user(String content) {
        return new LlmMessage("user", content);
    }

    public static LlmMessage assistant(String content) {
        return new LlmMessage("assistant", content);
    }
}
