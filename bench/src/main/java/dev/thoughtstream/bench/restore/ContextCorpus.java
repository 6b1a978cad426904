package dev.thoughtstream.bench.restore;

import dev.thoughtstream.bench.micro.Fixtures;
import dev.thoughtstream.chunker.context.ChatContext;
import dev.thoughtstream.chunker.context.ContextPolicy;
import dev.thoughtstream.common.event.ContextMessage;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The contexts the restore benchmark stores: for each chat, a deterministic conversation (so it can be regenerated
 * to check what the restored store holds, without keeping 10 million messages in memory) of {@code messages}
 * messages, user and bot alternating, spread over the {@code CONTEXT_WINDOW_MS} before {@code filledAtMs}.
 *
 * <p>Each value is what {@code ContextStore.put} would have stored at {@code filledAtMs} for that conversation:
 * already within retention (the messages are inside the window, and 100 realistic messages weigh about 20 KB,
 * far under the 256 KiB cap), {@code touchedAtMs = filledAtMs}, and {@code pruneAtMs} by the rule of
 * {@code ChatContext.nextPruneAtMs} (the idle TTL's end while the chat holds no more than the minimum; else the
 * earlier of that and its oldest message leaving the window).
 */
public final class ContextCorpus {
    /** Chat ids start here (private chats: the user's id, positive). */
    static final long FIRST_CHAT_ID = 7_000_000_000L;

    private final int messages;
    private final long filledAtMs;
    private final ContextPolicy policy;

    public ContextCorpus(int messages, long filledAtMs, ContextPolicy policy) {
        this.messages = messages;
        this.filledAtMs = filledAtMs;
        this.policy = policy;
    }

    /** The chat id of the {@code index}-th chat (from 0). */
    public static long chatId(int index) {
        return FIRST_CHAT_ID + index;
    }

    /** Every message id in the stored contexts is at or below this; a newer message gets a greater id. */
    public long lastUserMessageId() {
        return 2L * messages;
    }

    /** The context stored for {@code chatId}. */
    public ChatContext contextFor(long chatId) {
        SplittableRandom random = new SplittableRandom(chatId);
        long window = policy.window().toMillis();
        // Just inside the window: the oldest message is (almost) 6 h old, as in a chat that has been busy all day.
        List<ContextMessage> conversation =
                Fixtures.conversation(random, messages, Math.max(0, window - 60_000), filledAtMs);
        long idleEnd = filledAtMs + policy.idleTtl().toMillis();
        long pruneAt = conversation.size() <= policy.minMessages()
                ? idleEnd
                : Math.min(idleEnd, conversation.get(0).atMs() + window + 1);
        return new ChatContext(conversation, lastUserMessageId(), filledAtMs, pruneAt);
    }
}
