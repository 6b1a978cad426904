package dev.thoughtstream.chunker.thought;

import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.Thought;
import java.util.ArrayList;
import java.util.List;

/**
 * A thought that is still collecting messages: the value of the open-thoughts store (key = chat id).
 *
 * @param chatId     the chat
 * @param messages   in arrival order; never empty
 * @param openedAtMs wall-clock time when the first message arrived
 * @param deadlineMs wall-clock time at which the thought closes unless another message arrives first; the
 *                   deadline index holds exactly one entry {@code (deadlineMs, chatId)} for it
 * @param thoughtId  fixed when the thought opens (see {@link ThoughtBufferProcessor} for the forms it takes);
 *                   state written before this field existed has none, and gets the plain form
 *                   {@code <chatId>:<first message id>} it had then
 * @param replayed   built from input below the {@linkplain dev.thoughtstream.chunker.ReprocessFence reprocess
 *                   fence}: it joins the context when it closes but is not sent again (absent in older state: false)
 */
public record OpenThought(
        long chatId,
        List<BufferedMessage> messages,
        long openedAtMs,
        long deadlineMs,
        String thoughtId,
        Boolean replayed) {

    public OpenThought {
        replayed = Boolean.TRUE.equals(replayed);
        messages = List.copyOf(messages);
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("an open thought has at least one message");
        }
        if (thoughtId == null) {
            thoughtId = Thought.idFor(chatId, messages.get(0).messageId());
        }
    }

    public OpenThought(
            long chatId, List<BufferedMessage> messages, long openedAtMs, long deadlineMs, String thoughtId) {
        this(chatId, messages, openedAtMs, deadlineMs, thoughtId, false);
    }

    public static OpenThought start(long chatId, String thoughtId, BufferedMessage first, long deadlineMs) {
        return new OpenThought(chatId, List.of(first), first.receivedAtMs(), deadlineMs, thoughtId);
    }

    /** This thought marked as rebuilt from input below the reprocess fence. */
    public OpenThought asReplayed() {
        return new OpenThought(chatId, messages, openedAtMs, deadlineMs, thoughtId, true);
    }

    public OpenThought append(BufferedMessage message, long newDeadlineMs) {
        List<BufferedMessage> all = new ArrayList<>(messages.size() + 1);
        all.addAll(messages);
        all.add(message);
        return new OpenThought(chatId, all, openedAtMs, newDeadlineMs, thoughtId, replayed);
    }

    /** This thought with the text of message {@code messageId} (which it must contain) replaced by an edit. */
    public OpenThought withEdit(long messageId, String text, long editedAtMs) {
        List<BufferedMessage> all = new ArrayList<>(messages);
        int at = indexOf(messageId);
        if (at < 0) {
            throw new IllegalArgumentException("message " + messageId + " is not in thought " + thoughtId);
        }
        all.set(at, all.get(at).edited(text, editedAtMs));
        return new OpenThought(chatId, all, openedAtMs, deadlineMs, thoughtId, replayed);
    }

    public OpenThought withDeadline(long newDeadlineMs) {
        return new OpenThought(chatId, messages, openedAtMs, newDeadlineMs, thoughtId, replayed);
    }

    public boolean contains(long messageId) {
        return indexOf(messageId) >= 0;
    }

    /** The position of message {@code messageId}, or -1. */
    public int indexOf(long messageId) {
        for (int i = 0; i < messages.size(); i++) {
            if (messages.get(i).messageId() == messageId) {
                return i;
            }
        }
        return -1;
    }

    /** How much text the thought holds, in UTF-16 code units (Telegram measures message length the same way). */
    public int textLength() {
        int length = 0;
        for (BufferedMessage m : messages) {
            length += m.text().length();
        }
        return length;
    }

    /** The text of the message that arrived last: it decides whether the thought looks unfinished. */
    public String lastText() {
        return messages.get(messages.size() - 1).text();
    }

    /**
     * The newest message id in the thought. Usually the last to arrive; not always, because an edit of an older
     * message joins the thought as a new message.
     */
    public long newestMessageId() {
        long newest = Long.MIN_VALUE;
        for (BufferedMessage m : messages) {
            newest = Math.max(newest, m.messageId());
        }
        return newest;
    }

    /**
     * The closed thought, carrying {@code context} (the conversation before it).
     *
     * @param newestEmittedMessageId the chat's newest message id emitted before, 0 if none. The thought's
     *                               {@code lastMessageId} (by which replies are judged stale) is the newest of its
     *                               own ids and this one: a thought made only of an edit of an old message
     *                               answers the conversation up to now, and its reply must not count as stale
     *                               merely because the edited message is older than the chat's last one
     */
    public Thought close(long closedAtMs, List<ContextMessage> context, long newestEmittedMessageId) {
        return new Thought(
                Thought.SCHEMA_VERSION,
                thoughtId,
                chatId,
                messages.stream().map(BufferedMessage::toThoughtMessage).toList(),
                messages.get(0).messageId(),
                Math.max(newestMessageId(), newestEmittedMessageId),
                openedAtMs,
                closedAtMs,
                context);
    }

    /** The thought's messages as the user's side of the conversation memory. */
    public List<ContextMessage> asContext() {
        return messages.stream()
                .map(m -> new ContextMessage(ContextMessage.Role.USER, m.text(), m.sentAtMs()))
                .toList();
    }
}
