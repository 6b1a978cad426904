package dev.thoughtstream.common.event;

import java.util.Objects;

/** One user message inside a thought. */
public record ThoughtMessage(long messageId, String text, long sentAtMs) {
    public ThoughtMessage {
        Objects.requireNonNull(text, "text");
    }
}
