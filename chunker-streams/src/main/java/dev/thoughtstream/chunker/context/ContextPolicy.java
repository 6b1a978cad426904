package dev.thoughtstream.chunker.context;

import java.time.Duration;
import java.util.Objects;

/**
 * How much conversation a chat keeps, how much of it a thought carries, and how often retention is enforced on
 * chats that stopped writing. See {@code docs/chunker.md} for the rules these values feed.
 *
 * @param window        {@code CONTEXT_WINDOW_MS}: every message younger than this is kept
 * @param minMessages   {@code CONTEXT_MIN_MESSAGES}: the newest this many messages are kept however old they are
 *                      (unless the byte cap says otherwise)
 * @param maxChars      {@code CONTEXT_MAX_CHARS}: the most text a thought's context snapshot carries
 * @param maxBytes      {@code CONTEXT_MAX_BYTES}: the most one chat's stored context may weigh, counted by
 *                      {@link ContextBytes}; it wins over {@code minMessages}
 * @param idleTtl       {@code CONTEXT_IDLE_TTL_MS}: a chat whose context was not written for this long loses it
 * @param pruneInterval {@code CONTEXT_PRUNE_INTERVAL_MS}: how often chats due for pruning are looked for
 * @param pruneMaxChats {@code CONTEXT_PRUNE_MAX_CHATS}: the most chats one pruning run handles; the rest wait for
 *                      the next run, so a run never holds up the stream thread for long
 */
public record ContextPolicy(
        Duration window,
        int minMessages,
        int maxChars,
        int maxBytes,
        Duration idleTtl,
        Duration pruneInterval,
        int pruneMaxChats) {

    public static final int DEFAULT_MAX_BYTES = 256 * 1024;
    /** Room for the per-message overhead and the truncation marker of {@link ContextBytes} with space to spare. */
    public static final int MIN_MAX_BYTES = 1024;
    /**
     * Kafka's default record limit is 1 MiB (broker {@code message.max.bytes}, producer {@code max.request.size});
     * the stored value is at most {@code maxBytes} plus {@link ContextBytes#ENVELOPE_BYTES}, which must fit.
     */
    public static final int MAX_MAX_BYTES = 1_000_000;

    public static final Duration DEFAULT_IDLE_TTL = Duration.ofDays(30);
    public static final Duration DEFAULT_PRUNE_INTERVAL = Duration.ofMinutes(1);
    public static final int DEFAULT_PRUNE_MAX_CHATS = 1000;

    public ContextPolicy {
        Objects.requireNonNull(window, "window");
        Objects.requireNonNull(idleTtl, "idleTtl");
        Objects.requireNonNull(pruneInterval, "pruneInterval");
        if (window.isNegative()) {
            throw new IllegalArgumentException("window must not be negative");
        }
        if (minMessages < 0 || maxChars < 0) {
            throw new IllegalArgumentException("minMessages and maxChars must not be negative");
        }
        if (maxBytes < MIN_MAX_BYTES || maxBytes > MAX_MAX_BYTES) {
            throw new IllegalArgumentException(
                    "maxBytes must be in [" + MIN_MAX_BYTES + ", " + MAX_MAX_BYTES + "] but was " + maxBytes);
        }
        if (idleTtl.isNegative() || idleTtl.isZero() || pruneInterval.isNegative() || pruneInterval.isZero()) {
            throw new IllegalArgumentException("idleTtl and pruneInterval must be positive");
        }
        if (pruneMaxChats < 1) {
            throw new IllegalArgumentException("pruneMaxChats must be at least 1");
        }
    }

    /** Window, minimum and snapshot size as given; byte cap, idle TTL and pruning at their defaults. */
    public ContextPolicy(Duration window, int minMessages, int maxChars) {
        this(
                window,
                minMessages,
                maxChars,
                DEFAULT_MAX_BYTES,
                DEFAULT_IDLE_TTL,
                DEFAULT_PRUNE_INTERVAL,
                DEFAULT_PRUNE_MAX_CHATS);
    }
}
