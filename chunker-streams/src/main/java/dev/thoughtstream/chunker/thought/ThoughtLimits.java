package dev.thoughtstream.chunker.thought;

import java.time.Duration;
import java.util.Objects;

/**
 * How long a thought may wait and how big it may grow.
 *
 * @param continuation {@code CHUNK_CONTINUATION_MS}: added to the gap after a message that
 *                     {@linkplain Continuation looks unfinished}
 * @param maxWait      {@code CHUNK_MAX_WAIT_MS}: a thought closes at the latest this long after its first message
 *                     arrived, however many messages keep coming
 * @param maxMessages  {@code CHUNK_MAX_MESSAGES}: a thought closes as soon as it holds this many messages
 * @param maxChars     {@code CHUNK_MAX_CHARS}: a thought closes as soon as its texts together are this long
 */
public record ThoughtLimits(Duration continuation, Duration maxWait, int maxMessages, int maxChars) {
    public ThoughtLimits {
        Objects.requireNonNull(continuation, "continuation");
        Objects.requireNonNull(maxWait, "maxWait");
        if (continuation.isNegative() || maxWait.isNegative() || maxWait.isZero()) {
            throw new IllegalArgumentException("continuation must not be negative and maxWait must be positive");
        }
        if (maxMessages < 1 || maxChars < 1) {
            throw new IllegalArgumentException("maxMessages and maxChars must be at least 1");
        }
    }

    /**
     * When a thought is due if nothing else arrives: the gap after now, plus the continuation when its last message
     * looks unfinished, but never later than {@code maxWait} after it opened. The cap is part of the deadline, so
     * the deadline index alone closes a thought that keeps being extended.
     */
    public long deadline(long gapMs, long openedAtMs, String lastText, long nowMs) {
        long wait = gapMs + (Continuation.looksUnfinished(lastText) ? continuation.toMillis() : 0);
        return Math.min(nowMs + wait, openedAtMs + maxWait.toMillis());
    }

    /** Why {@code thought} must close now, or null while it may stay open. */
    public String capReached(OpenThought thought) {
        if (thought.messages().size() >= maxMessages) {
            return "it holds " + thought.messages().size() + " messages (CHUNK_MAX_MESSAGES=" + maxMessages + ")";
        }
        if (thought.textLength() >= maxChars) {
            return "it holds " + thought.textLength() + " characters (CHUNK_MAX_CHARS=" + maxChars + ")";
        }
        return null;
    }
}
