package dev.thoughtstream.chunker;

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
 */
public record OpenThought(long chatId, List<BufferedMessage> messages, long openedAtMs, long deadlineMs) {

    public OpenThought {
        messages = List.copyOf(messages);
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("an open thought has at least one message");
        }
    }

    public static OpenThought start(long chatId, BufferedMessage first, long deadlineMs) {
        return new OpenThought(chatId, List.of(first), first.receivedAtMs(), deadlineMs);
    }

    public OpenThought append(BufferedMessage message, long newDeadlineMs) {
        List<BufferedMessage> all = new ArrayList<>(messages.size() + 1);
        all.addAll(messages);
        all.add(message);
        return new OpenThought(chatId, all, openedAtMs, newDeadlineMs);
    }

    public boolean contains(long messageId) {
        return messages.stream().anyMatch(m -> m.messageId() == messageId);
    }

    public String thoughtId() {
        return Thought.idFor(chatId, messages.get(0).messageId());
    }

    /** The closed thought, carrying {@code context} (the conversation before it). */
    public Thought close(long closedAtMs, List<ContextMessage> context) {
        BufferedMessage first = messages.get(0);
        BufferedMessage last = messages.get(messages.size() - 1);
        return new Thought(Thought.SCHEMA_VERSION, thoughtId(), chatId,
                messages.stream().map(BufferedMessage::toThoughtMessage).toList(),
                first.messageId(), last.messageId(), openedAtMs, closedAtMs, context);
    }

    /** The thought's messages as the user's side of the conversation memory. */
    public List<ContextMessage> asContext() {
        return messages.stream()
                .map(m -> new ContextMessage(ContextMessage.Role.USER, m.text(), m.sentAtMs()))
                .toList();
    }

    public long lastMessageId() {
        return messages.get(messages.size() - 1).messageId();
    }
}
