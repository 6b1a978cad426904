package dev.thoughtstream.common.event;

import com.fasterxml.jackson.annotation.JsonIgnore;
import java.util.List;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * A complete thought: a chat's consecutive messages closed by the inactivity gap. The value of the thoughts
 * topic (key = chat id).
 *
 * @param thoughtId      deterministic: {@code <chatId>:<firstMessageId>}, or {@code <chatId>:<messageId>:edit-<updateId>}
 *                       for a thought opened by an edit of an already answered message
 * @param firstMessageId Telegram message id of the first message
 * @param lastMessageId  Telegram message id of the last message; a reply is stale once the chat has a newer one
 * @param openedAtMs     when the first message was seen
 * @param closedAtMs     when the thought was closed and emitted
 * @param context        the conversation before this thought, oldest first
 */
public record Thought(
        int schemaVersion,
        String thoughtId,
        long chatId,
        List<ThoughtMessage> messages,
        long firstMessageId,
        long lastMessageId,
        long openedAtMs,
        long closedAtMs,
        List<ContextMessage> context) {
    public static final int SCHEMA_VERSION = 1;

    public Thought {
        Objects.requireNonNull(thoughtId, "thoughtId");
        messages = List.copyOf(messages);
        context = context == null ? List.of() : List.copyOf(context);
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("a thought has at least one message");
        }
    }

    public static String idFor(long chatId, long firstMessageId) {
        return chatId + ":" + firstMessageId;
    }

    /**
     * When the person last wrote to this thought: the latest Telegram {@code date} or {@code edit_date} of its
     * messages, in milliseconds (Telegram gives whole seconds). Their wait for the reply begins here.
     */
    @JsonIgnore
    public long lastWrittenAtMs() {
        long latest = Long.MIN_VALUE;
        for (ThoughtMessage m : messages) {
            latest = Math.max(latest, m.editedAtMs() == null ? m.sentAtMs() : Math.max(m.sentAtMs(), m.editedAtMs()));
        }
        return latest;
    }

    /** The thought's messages as one text, one message per line. */
    @JsonIgnore
    public String text() {
        return messages.stream().map(ThoughtMessage::text).collect(Collectors.joining("\n"));
    }
}
