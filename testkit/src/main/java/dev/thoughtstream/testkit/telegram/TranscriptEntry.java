package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.annotation.JsonIgnore;

/**
 * One event in a chat as a person would have seen it, in order. Null components are left out of the JSON.
 *
 * @param from      "user" or "bot"
 * @param text      the message text (bot messages: as displayed, i.e. without MarkdownV2/HTML markup);
 *                  for media the caption, if any
 * @param messageId the message concerned (absent for chat actions)
 * @param action    null for a new message; "edit" or "delete" for changes to {@code messageId};
 *                  otherwise the chat action the bot sent, e.g. "typing"
 * @param kind      for a person's media message: "photo", "sticker", "voice", "document"; null for text
 * @param name      the sender's first name for a person's message
 * @param replyTo   the message id this message replies to, if any
 * @param at        when it happened, epoch millis of the emulator's clock
 */
public record TranscriptEntry(
        String from,
        String text,
        Integer messageId,
        String action,
        String kind,
        String name,
        Integer replyTo,
        long at) {

    public static final String FROM_USER = "user";
    public static final String FROM_BOT = "bot";

    /** True for a new message (not an edit, delete or chat action). */
    @JsonIgnore
    public boolean isMessage() {
        return action == null;
    }

    @JsonIgnore
    public boolean isFromBot() {
        return FROM_BOT.equals(from);
    }
}
