package dev.thoughtstream.chunker;

import java.time.Duration;
import java.util.Objects;

/**
 * How much conversation a chat keeps and how much of it a thought carries.
 *
 * @param window      {@code CONTEXT_WINDOW_MS}: every message younger than this is kept
 * @param minMessages {@code CONTEXT_MIN_MESSAGES}: the newest this many messages are kept however old they are
 * @param maxChars    {@code CONTEXT_MAX_CHARS}: the most text a thought's context snapshot carries
 */
public record ContextPolicy(Duration window, int minMessages, int maxChars) {
    public ContextPolicy {
        Objects.requireNonNull(window, "window");
        if (window.isNegative()) {
            throw new IllegalArgumentException("window must not be negative");
        }
        if (minMessages < 0 || maxChars < 0) {
            throw new IllegalArgumentException("minMessages and maxChars must not be negative");
        }
    }
}
