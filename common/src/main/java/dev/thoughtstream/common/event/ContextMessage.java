package dev.thoughtstream.common.event;

import java.util.Objects;

/**
 * One turn of the conversation memory that a thought carries to the model.
 *
 * @param role who said it
 * @param text what was said
 * @param atMs when, epoch milliseconds
 */
public record ContextMessage(Role role, String text, long atMs) {
    public enum Role {
        USER,
        ASSISTANT
    }

    public ContextMessage {
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(text, "text");
    }
}
