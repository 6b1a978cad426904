package dev.thoughtstream.testkit.telegram;

import java.util.List;
import java.util.Objects;

/**
 * A message a person sends to the bot through the emulator. Build it with {@link #text(long, String)} or
 * {@link #builder(long)}; absent values get Telegram-like defaults when injected:
 * the user id of a private chat is the chat id, the first name is "User".
 *
 * @param chatId           the chat it is written in (private chats: the person's user id, positive;
 *                         groups: negative)
 * @param text             the text (for {@link MessageKind#TEXT}); for media it serves as caption when
 *                         {@code caption} is null (for a sticker: its emoji)
 * @param userId           the sender; required in groups, must equal {@code chatId} in private chats
 * @param firstName        the sender's first name
 * @param username         the sender's username, optional
 * @param chatType         private (default), group or supergroup
 * @param chatTitle        a group's title (defaults to "Group &lt;id&gt;")
 * @param replyToMessageId the message in the same chat this one replies to, optional
 * @param kind             text (default), photo, sticker, voice, document
 * @param caption          caption for media, optional
 * @param entities         entities given explicitly; null lets the emulator add a leading bot_command
 *                         entity like Telegram does
 */
public record IncomingMessage(
        long chatId,
        String text,
        Long userId,
        String firstName,
        String username,
        ChatType chatType,
        String chatTitle,
        Integer replyToMessageId,
        MessageKind kind,
        String caption,
        List<MessageEntity> entities) {

    public IncomingMessage {
        Objects.requireNonNull(chatType, "chatType");
        Objects.requireNonNull(kind, "kind");
        entities = entities == null ? null : List.copyOf(entities);
    }

    /** A plain text message in a private chat. */
    public static Builder text(long chatId, String text) {
        return new Builder(chatId).text(text);
    }

    public static Builder builder(long chatId) {
        return new Builder(chatId);
    }

    /** Fluent builder; every setter is optional. */
    public static final class Builder {
        private final long chatId;
        private String text;
        private Long userId;
        private String firstName;
        private String username;
        private ChatType chatType = ChatType.PRIVATE;
        private String chatTitle;
        private Integer replyToMessageId;
        private MessageKind kind = MessageKind.TEXT;
        private String caption;
        private List<MessageEntity> entities;

        private Builder(long chatId) {
            this.chatId = chatId;
        }

        public Builder text(String value) {
            this.text = value;
            return this;
        }

        public Builder from(long id, String name) {
            this.userId = id;
            this.firstName = name;
            return this;
        }

        public Builder userId(Long value) {
            this.userId = value;
            return this;
        }

        public Builder firstName(String value) {
            this.firstName = value;
            return this;
        }

        public Builder username(String value) {
            this.username = value;
            return this;
        }

        public Builder chatType(ChatType value) {
            this.chatType = Objects.requireNonNull(value, "chatType");
            return this;
        }

        /** A group chat with this title. */
        public Builder group(String title) {
            this.chatType = ChatType.GROUP;
            this.chatTitle = title;
            return this;
        }

        public Builder chatTitle(String value) {
            this.chatTitle = value;
            return this;
        }

        public Builder replyTo(Integer messageId) {
            this.replyToMessageId = messageId;
            return this;
        }

        public Builder kind(MessageKind value) {
            this.kind = Objects.requireNonNull(value, "kind");
            return this;
        }

        public Builder caption(String value) {
            this.caption = value;
            return this;
        }

        public Builder entities(List<MessageEntity> value) {
            this.entities = value;
            return this;
        }

        public IncomingMessage build() {
            return new IncomingMessage(
                    chatId,
                    text,
                    userId,
                    firstName,
                    username,
                    chatType,
                    chatTitle,
                    replyToMessageId,
                    kind,
                    caption,
                    entities);
        }
    }
}
