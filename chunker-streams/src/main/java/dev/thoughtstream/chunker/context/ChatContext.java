package dev.thoughtstream.chunker.context;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonProperty;
import dev.thoughtstream.common.event.ContextMessage;
import java.util.ArrayList;
import java.util.List;

/**
 * One chat's conversation memory: the value of the context store (key = chat id).
 *
 * <p>Messages are kept in the order the chunker learnt them, which is the order the conversation happened in:
 * a user's messages enter when their thought is emitted, the bot's when their delivery is reported. The
 * {@code atMs} of the two sides come from different clocks (Telegram's and the emitter's), so they are used for
 * the retention window only, never to re-sort.
 *
 * <p>Retention ({@link #prune}): messages older than the window go, oldest first, while more than the minimum
 * remain; then, whatever the minimum says, the oldest go while the context weighs more than the byte cap. Only
 * the head is ever dropped, so the remembered conversation stays contiguous.
 *
 * @param messages          oldest first
 * @param lastUserMessageId the newest user message id that has been emitted in a thought (0 = none yet);
 *                          Telegram message ids grow within a chat, so anything at or below it is a redelivery
 * @param touchedAtMs       wall-clock time of the last write for the chat's own sake (a thought or a delivery),
 *                          which the idle TTL counts from; pruning does not touch it. Set by {@link ContextStore}
 *                          (0 = stored by a version that did not record it)
 * @param pruneAtMs         the time under which {@link ContextStore}'s prune index holds this chat: when its
 *                          oldest message leaves the window, or its idle TTL runs out, whichever is first
 *                          (0 = not indexed)
 */
public record ChatContext(List<ContextMessage> messages, long lastUserMessageId, long touchedAtMs, long pruneAtMs) {

    public ChatContext {
        messages = messages == null ? List.of() : List.copyOf(messages);
    }

    /** A context not (yet) written through {@link ContextStore}, which sets the bookkeeping fields. */
    public ChatContext(List<ContextMessage> messages, long lastUserMessageId) {
        this(messages, lastUserMessageId, 0L, 0L);
    }

    /**
     * For values stored before {@code touchedAtMs} and {@code pruneAtMs} existed: they read as 0 (never touched,
     * not indexed) rather than failing the task; the next write indexes the chat.
     */
    @JsonCreator
    static ChatContext fromJson(
            @JsonProperty("messages") List<ContextMessage> messages,
            @JsonProperty(value = "lastUserMessageId", required = true) long lastUserMessageId,
            @JsonProperty("touchedAtMs") Long touchedAtMs,
            @JsonProperty("pruneAtMs") Long pruneAtMs) {
        return new ChatContext(
                messages,
                lastUserMessageId,
                touchedAtMs == null ? 0L : touchedAtMs,
                pruneAtMs == null ? 0L : pruneAtMs);
    }

    public static ChatContext empty() {
        return new ChatContext(List.of(), 0L);
    }

    /** This context with a thought's user messages appended, then pruned as of {@code nowMs}. */
    public ChatContext withUserMessages(
            List<ContextMessage> userMessages, long lastMessageId, long nowMs, ContextPolicy policy) {
        List<ContextMessage> all = new ArrayList<>(messages.size() + userMessages.size());
        all.addAll(messages);
        all.addAll(userMessages);
        return new ChatContext(
                prune(all, nowMs, policy), Math.max(lastUserMessageId, lastMessageId), touchedAtMs, pruneAtMs);
    }

    /** This context with one message appended, then pruned as of {@code nowMs}. */
    public ChatContext withMessage(ContextMessage message, long nowMs, ContextPolicy policy) {
        List<ContextMessage> all = new ArrayList<>(messages.size() + 1);
        all.addAll(messages);
        all.add(message);
        return new ChatContext(prune(all, nowMs, policy), lastUserMessageId, touchedAtMs, pruneAtMs);
    }

    /** This context pruned as of {@code nowMs}; the same instance when nothing goes. */
    public ChatContext prunedAt(long nowMs, ContextPolicy policy) {
        List<ContextMessage> kept = prune(messages, nowMs, policy);
        return kept.equals(messages) ? this : new ChatContext(kept, lastUserMessageId, touchedAtMs, pruneAtMs);
    }

    /**
     * True when this message (role, text and time) is already remembered, as it is or as the byte cap would have
     * stored it (cut to fit).
     */
    public boolean remembers(ContextMessage message, ContextPolicy policy) {
        return messages.contains(message) || messages.contains(ContextBytes.truncated(message, policy.maxBytes()));
    }

    /** What the messages weigh against {@code CONTEXT_MAX_BYTES}; see {@link ContextBytes}. */
    public long bytes() {
        long total = 0;
        for (ContextMessage message : messages) {
            total += ContextBytes.of(message);
        }
        return total;
    }

    /**
     * When this context next has something to prune, if nothing is written to it before: the moment its oldest
     * message leaves the window (only while it holds more than the minimum), or the end of its idle TTL counted
     * from {@link #touchedAtMs}, whichever comes first. The byte cap needs no date: it is applied on every write.
     */
    long nextPruneAtMs(ContextPolicy policy) {
        long idleEnd = saturatedAdd(touchedAtMs, policy.idleTtl().toMillis());
        if (messages.size() <= policy.minMessages()) {
            return idleEnd;
        }
        // prune() drops a message once atMs < now - window, i.e. from atMs + window + 1 on.
        long oldestLeaves = saturatedAdd(
                saturatedAdd(messages.get(0).atMs(), policy.window().toMillis()), 1);
        return Math.min(idleEnd, oldestLeaves);
    }

    /** This context with {@link ContextStore}'s bookkeeping set. */
    ChatContext withBookkeeping(long touchedAtMs, long pruneAtMs) {
        return new ChatContext(messages, lastUserMessageId, touchedAtMs, pruneAtMs);
    }

    /**
     * What a thought closing at {@code nowMs} carries: the messages retention keeps as of now (it is applied on
     * write, and the last write may be hours old), then the newest of them whose texts together fit in
     * {@code policy.maxChars()}, oldest first. Counting starts at the most recent message because that is what
     * the model needs most; a message that does not fit whole ends the snapshot (a cut message would put words in
     * someone's mouth). Being part of the stored context, the snapshot is within the byte cap too.
     */
    public List<ContextMessage> snapshot(long nowMs, ContextPolicy policy) {
        List<ContextMessage> kept = prune(messages, nowMs, policy);
        int chars = 0;
        int from = kept.size();
        while (from > 0) {
            int length = kept.get(from - 1).text().length();
            if (chars + length > policy.maxChars()) {
                break;
            }
            chars += length;
            from--;
        }
        return kept.subList(from, kept.size());
    }

    /**
     * Drops messages from the oldest end while they are older than the window and more than the minimum remain;
     * then, below the minimum if need be, while the rest weighs more than {@code policy.maxBytes()}. A single
     * message heavier than the cap on its own is kept cut to fit ({@link ContextBytes#truncated}). Dropping only
     * from the head keeps the remembered conversation contiguous.
     */
    static List<ContextMessage> prune(List<ContextMessage> messages, long nowMs, ContextPolicy policy) {
        long cutoff = nowMs - policy.window().toMillis();
        int size = messages.size();
        int drop = 0;
        while (size - drop > policy.minMessages() && messages.get(drop).atMs() < cutoff) {
            drop++;
        }
        long bound = 0;
        for (int i = drop; i < size; i++) {
            bound += ContextBytes.atMost(messages.get(i));
        }
        if (bound <= policy.maxBytes()) {
            // The usual case (a hundred chat messages weigh a few KB against 256 KiB): nothing to weigh exactly.
            return drop == 0 ? messages : messages.subList(drop, size);
        }
        long[] weights = new long[size];
        long total = 0;
        for (int i = drop; i < size; i++) {
            weights[i] = ContextBytes.of(messages.get(i));
            total += weights[i];
        }
        while (total > policy.maxBytes() && size - drop > 1) {
            total -= weights[drop];
            drop++;
        }
        if (total > policy.maxBytes()) {
            return List.of(ContextBytes.truncated(messages.get(size - 1), policy.maxBytes()));
        }
        return drop == 0 ? messages : messages.subList(drop, size);
    }

    private static long saturatedAdd(long a, long b) {
        long sum = a + b;
        // Overflow only when both have the same sign and the sum's sign differs.
        if (((a ^ sum) & (b ^ sum)) < 0) {
            return a < 0 ? Long.MIN_VALUE : Long.MAX_VALUE;
        }
        return sum;
    }
}
