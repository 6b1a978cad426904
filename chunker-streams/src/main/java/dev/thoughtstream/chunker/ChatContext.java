package dev.thoughtstream.chunker;

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
 * @param messages          oldest first
 * @param lastUserMessageId the newest user message id that has been emitted in a thought (0 = none yet);
 *                          Telegram message ids grow within a chat, so anything at or below it is a redelivery
 */
public record ChatContext(List<ContextMessage> messages, long lastUserMessageId) {

    public ChatContext {
        messages = messages == null ? List.of() : List.copyOf(messages);
    }

    public static ChatContext empty() {
        return new ChatContext(List.of(), 0L);
    }

    /** This context with a thought's user messages appended, then pruned as of {@code nowMs}. */
    public ChatContext withUserMessages(List<ContextMessage> userMessages, long lastMessageId, long nowMs,
            ContextPolicy policy) {
        List<ContextMessage> all = new ArrayList<>(messages.size() + userMessages.size());
        all.addAll(messages);
        all.addAll(userMessages);
        return new ChatContext(prune(all, nowMs, policy), Math.max(lastUserMessageId, lastMessageId));
    }

    /** This context with one message appended, then pruned as of {@code nowMs}. */
    public ChatContext withMessage(ContextMessage message, long nowMs, ContextPolicy policy) {
        List<ContextMessage> all = new ArrayList<>(messages.size() + 1);
        all.addAll(messages);
        all.add(message);
        return new ChatContext(prune(all, nowMs, policy), lastUserMessageId);
    }

    /** True when this exact message (role, text and time) is already remembered. */
    public boolean remembers(ContextMessage message) {
        return messages.contains(message);
    }

    /**
     * What a thought closing at {@code nowMs} carries: the messages retention keeps as of now (it is applied on
     * write, and the last write may be hours old), then the newest of them whose texts together fit in
     * {@code policy.maxChars()}, oldest first. Counting starts at the most recent message because that is what
     * the model needs most; a message that does not fit whole ends the snapshot (a cut message would put words in
     * someone's mouth).
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
     * Drops messages from the oldest end while they are older than the window and more than the minimum remain.
     * Dropping only from the head keeps the remembered conversation contiguous.
     */
    static List<ContextMessage> prune(List<ContextMessage> messages, long nowMs, ContextPolicy policy) {
        long cutoff = nowMs - policy.window().toMillis();
        int drop = 0;
        while (messages.size() - drop > policy.minMessages() && messages.get(drop).atMs() < cutoff) {
            drop++;
        }
        return drop == 0 ? messages : messages.subList(drop, messages.size());
    }
}
