package dev.thoughtstream.chunker.context;

import dev.thoughtstream.common.event.ContextMessage;

/**
 * What a context message weighs in the context store, for the byte cap ({@code CONTEXT_MAX_BYTES}).
 *
 * <p>The cap exists to keep one chat's store value (and so its changelog record) under Kafka's record size
 * limit, so it counts what is actually written: the message's JSON as the project's mapper writes it. The text
 * is counted exactly as Jackson encodes it in UTF-8 (quote and backslash escaped to two bytes; {@code \b \t \n
 * \f \r} to two; other control characters to six; every UTF-16 surrogate to a six-byte backslash-u escape, which is
 * how Jackson writes characters outside the Basic Multilingual Plane, e.g. emoji). Role, time and JSON
 * punctuation are counted as a fixed {@value #MESSAGE_OVERHEAD_BYTES} bytes, an upper bound. The stored value
 * adds at most {@value #ENVELOPE_BYTES} bytes for its other fields.
 */
public final class ContextBytes {
    /**
     * {@code {"role":"ASSISTANT","text":"","atMs":-9223372036854775808}} plus the separating comma is 59 bytes;
     * rounded up.
     */
    static final int MESSAGE_OVERHEAD_BYTES = 64;
    /**
     * The store value's JSON around its messages: braces, brackets, field names and three longs at their widest
     * (124 bytes), rounded up.
     */
    static final int ENVELOPE_BYTES = 128;
    /** A backslash-u escape, the longest form {@link #encodedLength(char)} gives one char. */
    private static final int MAX_BYTES_PER_CHAR = 6;
    /** Appended to a text that was cut to fit the cap, so the model can tell it is incomplete. */
    public static final String TRUNCATION_MARKER = " […]";

    private ContextBytes() {}

    /** The message's weight: its text as stored, plus the fixed overhead. */
    static long of(ContextMessage message) {
        return MESSAGE_OVERHEAD_BYTES + encodedLength(message.text());
    }

    /**
     * At least what {@link #of} says, without reading the text: no UTF-16 char is written as more than six bytes. A
     * context whose bounds fit the cap fits it, so a write need not weigh every message's text.
     */
    static long atMost(ContextMessage message) {
        return MESSAGE_OVERHEAD_BYTES
                + MAX_BYTES_PER_CHAR * (long) message.text().length();
    }

    /** How many bytes Jackson's UTF-8 generator writes for {@code text} inside a JSON string. */
    static long encodedLength(CharSequence text) {
        long bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            bytes += encodedLength(text.charAt(i));
        }
        return bytes;
    }

    private static int encodedLength(char c) {
        if (c == '"' || c == '\\' || c == '\b' || c == '\t' || c == '\n' || c == '\f' || c == '\r') {
            return 2;
        }
        if (c < 0x20 || Character.isSurrogate(c)) {
            return 6;
        }
        if (c < 0x80) {
            return 1;
        }
        return c < 0x800 ? 2 : 3;
    }

    /**
     * The message with its text cut (at a code point boundary, then {@link #TRUNCATION_MARKER} appended) so that it
     * weighs at most {@code maxBytes}; the message itself when it already fits. Keeping the beginning of what was
     * said, visibly cut, is better for the conversation than forgetting the newest message entirely.
     */
    static ContextMessage truncated(ContextMessage message, int maxBytes) {
        if (of(message) <= maxBytes) {
            return message;
        }
        String text = message.text();
        long budget = maxBytes - MESSAGE_OVERHEAD_BYTES - encodedLength(TRUNCATION_MARKER);
        long used = 0;
        int end = 0;
        while (end < text.length()) {
            int codePoint = text.codePointAt(end);
            int chars = Character.charCount(codePoint);
            long cost = encodedLength(text.subSequence(end, end + chars));
            if (used + cost > budget) {
                break;
            }
            used += cost;
            end += chars;
        }
        return new ContextMessage(message.role(), text.substring(0, end) + TRUNCATION_MARKER, message.atMs());
    }
}
