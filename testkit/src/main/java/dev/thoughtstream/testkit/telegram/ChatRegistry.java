package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.telegram.TelegramLimits;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every chat somebody wrote from: its messages (user and bot share one id sequence per chat, as in Telegram),
 * what a person would have seen (the transcript) and whether the person blocked the bot.
 *
 * <p>Bot-side operations fail with {@link BotApiError} (Telegram's answers); person-side operations fail with
 * {@link IllegalArgumentException} (bad input) or {@link NoSuchElementException} (unknown chat or message).
 * Lock order: this registry, then the {@link UpdateQueue}; never the other way round.
 *
 * <p>Every change is also written to a {@link ChatJournal} as one record (a JSON object whose {@code r} names its
 * kind: {@code chat}, {@code message}, {@code delete}, {@code entry}, {@code updates}); the registry starts from the
 * records the journal holds and rewrites them as its state, one {@code chat} record and the chat's messages and
 * entries per chat.
 */
final class ChatRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(ChatRegistry.class);

    static final int MAX_CAPTION_LENGTH = 1024;
    static final String NOT_MODIFIED = "message is not modified: specified new message content and reply markup "
            + "are exactly the same as a current content and reply markup of the message";

    private final Clock clock;
    private final BotIdentity bot;
    private final UpdateQueue queue;
    private final int firstMessageId;
    private final ChatJournal journal;
    private final Map<Long, ChatState> chats = new LinkedHashMap<>();

    private static final class ChatState {
        final long id;
        final ChatType type;
        String title;
        String firstName;
        String username;
        boolean blocked;
        int nextMessageId;
        final Map<Integer, StoredMessage> messages = new HashMap<>();
        final List<TranscriptEntry> transcript = new ArrayList<>();
        long lastActivity;

        ChatState(long id, ChatType type, int firstMessageId) {
            this.id = id;
            this.type = type;
            this.nextMessageId = firstMessageId;
        }

        String displayTitle() {
            return type == ChatType.PRIVATE ? firstName : title;
        }
    }

    /** A message as Telegram would embed it elsewhere (e.g. in reply_to_message). */
    private static final class StoredMessage {
        final boolean fromBot;
        final MessageKind kind;
        ObjectNode json;

        StoredMessage(boolean fromBot, MessageKind kind, ObjectNode json) {
            this.fromBot = fromBot;
            this.kind = kind;
            this.json = json;
        }
    }

    ChatRegistry(Clock clock, BotIdentity bot, UpdateQueue queue, int firstMessageId) {
        this(clock, bot, queue, firstMessageId, ChatJournal.inMemory());
    }

    /**
     * Starts with the chats {@code journal} holds. A restored chat's next message id is the higher of the one it had
     * and {@code firstMessageId}, so ids from an emulator started above its previous runs stay unique even when the
     * journal lost its last changes.
     */
    ChatRegistry(Clock clock, BotIdentity bot, UpdateQueue queue, int firstMessageId, ChatJournal journal) {
        this.clock = clock;
        this.bot = bot;
        this.queue = queue;
        this.firstMessageId = firstMessageId;
        this.journal = journal;
        synchronized (this) {
            for (ObjectNode record : journal.saved()) {
                restore(record);
            }
            journal.rewrite(snapshot());
            if (!chats.isEmpty()) {
                LOG.info("Telegram emulator restored {} chat(s)", chats.size());
            }
        }
    }

    // ---- the person's side -------------------------------------------------------------------------------

    synchronized UserMessage inject(IncomingMessage m) {
        Objects.requireNonNull(m, "message");
        long userId = validateSender(m);
        String firstName = m.firstName() == null || m.firstName().isBlank() ? "User" : m.firstName();
        String body = m.kind() == MessageKind.TEXT ? m.text() : (m.caption() != null ? m.caption() : m.text());
        validateBody(m.kind(), body);

        ChatState chat = chats.get(m.chatId());
        if (chat == null) {
            chat = new ChatState(m.chatId(), m.chatType(), firstMessageId);
        } else if (chat.type != m.chatType()) {
            throw new IllegalArgumentException("chat " + m.chatId() + " is a " + chat.type.wire() + " chat, not "
                    + m.chatType().wire());
        }
        StoredMessage replyTarget = null;
        if (m.replyToMessageId() != null) {
            replyTarget = chat.messages.get(m.replyToMessageId());
            if (replyTarget == null) {
                throw new NoSuchElementException(
                        "message " + m.replyToMessageId() + " not found in chat " + m.chatId());
            }
        }
        ObjectNode known = chats.containsKey(chat.id) ? chatRecord(chat) : null;
        chats.putIfAbsent(chat.id, chat);
        if (chat.type == ChatType.PRIVATE) {
            chat.firstName = firstName;
            chat.username = m.username();
        } else if (m.chatTitle() != null && !m.chatTitle().isBlank()) {
            chat.title = m.chatTitle();
        } else if (chat.title == null) {
            chat.title = "Group " + chat.id;
        }
        ObjectNode described = chatRecord(chat);
        if (!described.equals(known)) {
            journal.append(described);
        }

        long now = clock.millis();
        int messageId = chat.nextMessageId++;
        ObjectNode json = Json.mapper().createObjectNode();
        json.put("message_id", messageId);
        ObjectNode from = json.putObject("from");
        from.put("id", userId);
        from.put("is_bot", false);
        from.put("first_name", firstName);
        if (m.username() != null) {
            from.put("username", m.username());
        }
        from.put("language_code", "en");
        json.set("chat", chatJson(chat));
        json.put("date", now / 1000);
        if (replyTarget != null) {
            json.set("reply_to_message", embeddable(replyTarget));
        }
        putContent(json, chat, messageId, m, body);
        StoredMessage stored = new StoredMessage(false, m.kind(), json);
        chat.messages.put(messageId, stored);

        long updateId = queue.enqueue(id -> update(id, "message", json));
        journal.append(messageRecord(chat, messageId, stored, updateId));
        record(
                chat,
                new TranscriptEntry(
                        TranscriptEntry.FROM_USER,
                        body,
                        messageId,
                        null,
                        m.kind() == MessageKind.TEXT ? null : m.kind().wire(),
                        firstName,
                        m.replyToMessageId(),
                        now));
        LOG.debug("Chat {}: person wrote message {} (update {})", chat.id, messageId, updateId);
        return new UserMessage(updateId, messageId);
    }

    private static long validateSender(IncomingMessage m) {
        if (m.chatType() == ChatType.PRIVATE) {
            if (m.chatId() <= 0) {
                throw new IllegalArgumentException(
                        "a private chat's id is the person's user id and must be positive, was " + m.chatId());
            }
            if (m.userId() != null && m.userId() != m.chatId()) {
                throw new IllegalArgumentException("in a private chat the sender is the chat: userId must be "
                        + m.chatId() + " (or absent), was " + m.userId());
            }
            return m.chatId();
        }
        if (m.chatId() >= 0) {
            throw new IllegalArgumentException("group chat ids are negative, was " + m.chatId());
        }
        if (m.userId() == null || m.userId() <= 0) {
            throw new IllegalArgumentException("userId (positive) is required for a message in a group");
        }
        return m.userId();
    }

    private static void validateBody(MessageKind kind, String body) {
        if (kind == MessageKind.TEXT) {
            if (body == null || body.isBlank()) {
                throw new IllegalArgumentException("text must not be empty");
            }
            if (body.length() > TelegramLimits.MAX_MESSAGE_CHARS) {
                throw new IllegalArgumentException(
                        "text must be at most " + TelegramLimits.MAX_MESSAGE_CHARS + " characters");
            }
        } else if (body != null && body.length() > MAX_CAPTION_LENGTH) {
            throw new IllegalArgumentException("caption must be at most " + MAX_CAPTION_LENGTH + " characters");
        }
    }

    private static void putContent(ObjectNode json, ChatState chat, int messageId, IncomingMessage m, String body) {
        String fileId = "emu-" + m.kind().wire() + "-" + chat.id + "-" + messageId;
        switch (m.kind()) {
            case TEXT:
                json.put("text", body);
                putEntities(json, "entities", m.entities() != null ? m.entities() : commandEntities(body));
                return;
            case PHOTO:
                ArrayNode sizes = json.putArray("photo");
                sizes.add(file(fileId + "-s").put("width", 90).put("height", 90).put("file_size", 1_500));
                sizes.add(
                        file(fileId + "-m").put("width", 800).put("height", 800).put("file_size", 65_000));
                break;
            case STICKER:
                json.set(
                        "sticker",
                        file(fileId)
                                .put("type", "regular")
                                .put("width", 512)
                                .put("height", 512)
                                .put("is_animated", false)
                                .put("is_video", false)
                                .put("emoji", m.text() != null && !m.text().isBlank() ? m.text() : "\uD83D\uDE42"));
                // A sticker has no caption; its "text" is the emoji.
                return;
            case VOICE:
                json.set(
                        "voice",
                        file(fileId)
                                .put("duration", 3)
                                .put("mime_type", "audio/ogg")
                                .put("file_size", 12_000));
                break;
            case DOCUMENT:
                json.set(
                        "document",
                        file(fileId)
                                .put("file_name", "document.txt")
                                .put("mime_type", "text/plain")
                                .put("file_size", 1_024));
                break;
            default:
                throw new IllegalStateException("unhandled kind " + m.kind());
        }
        if (body != null && !body.isEmpty()) {
            json.put("caption", body);
            putEntities(json, "caption_entities", m.entities() != null ? m.entities() : List.of());
        }
    }

    private static ObjectNode file(String fileId) {
        ObjectNode node = Json.mapper().createObjectNode();
        node.put("file_id", fileId);
        node.put("file_unique_id", Integer.toHexString(fileId.hashCode()));
        return node;
    }

    /** Telegram marks a leading "/command" (with an optional @botname) as a bot_command entity. */
    static List<MessageEntity> commandEntities(String text) {
        if (text == null || !text.startsWith("/") || text.length() < 2) {
            return List.of();
        }
        int end = 1;
        while (end < text.length() && !Character.isWhitespace(text.charAt(end))) {
            end++;
        }
        return List.of(MessageEntity.of("bot_command", 0, end));
    }

    private static void putEntities(ObjectNode json, String field, List<MessageEntity> entities) {
        if (entities.isEmpty()) {
            json.remove(field);
            return;
        }
        json.set(field, Json.mapper().valueToTree(entities));
    }

    synchronized UserMessage editUserMessage(long chatId, int messageId, String text) {
        ChatState chat = chats.get(chatId);
        if (chat == null) {
            throw new NoSuchElementException("chat " + chatId + " not found");
        }
        StoredMessage message = chat.messages.get(messageId);
        if (message == null) {
            throw new NoSuchElementException("message " + messageId + " not found in chat " + chatId);
        }
        if (message.fromBot) {
            throw new IllegalArgumentException(
                    "message " + messageId + " was sent by the bot; a person can only edit their own messages");
        }
        if (message.kind == MessageKind.STICKER) {
            throw new IllegalArgumentException("a sticker cannot be edited");
        }
        validateBody(message.kind, text);
        long now = clock.millis();
        ObjectNode json = message.json.deepCopy();
        if (message.kind == MessageKind.TEXT) {
            json.put("text", text);
            putEntities(json, "entities", commandEntities(text));
        } else if (text == null || text.isEmpty()) {
            json.remove("caption");
            json.remove("caption_entities");
        } else {
            json.put("caption", text);
        }
        json.put("edit_date", now / 1000);
        message.json = json;
        long updateId = queue.enqueue(id -> update(id, "edited_message", json));
        journal.append(messageRecord(chat, messageId, message, updateId));
        record(
                chat,
                new TranscriptEntry(
                        TranscriptEntry.FROM_USER,
                        text,
                        messageId,
                        "edit",
                        null,
                        json.path("from").path("first_name").asText(null),
                        null,
                        now));
        LOG.debug("Chat {}: person edited message {} (update {})", chatId, messageId, updateId);
        return new UserMessage(updateId, messageId);
    }

    synchronized void setBlocked(long chatId, boolean blocked) {
        ChatState chat = chats.get(chatId);
        if (chat == null) {
            throw new NoSuchElementException("chat " + chatId + " not found");
        }
        chat.blocked = blocked;
        journal.append(chatRecord(chat));
        LOG.debug("Chat {}: bot {}", chatId, blocked ? "blocked" : "unblocked");
    }

    synchronized List<TranscriptEntry> transcript(long chatId, int since) {
        if (since < 0) {
            throw new IllegalArgumentException("since must not be negative, was " + since);
        }
        ChatState chat = chats.get(chatId);
        if (chat == null || since >= chat.transcript.size()) {
            return List.of();
        }
        return List.copyOf(chat.transcript.subList(since, chat.transcript.size()));
    }

    synchronized List<ChatSummary> summaries() {
        List<ChatSummary> result = new ArrayList<>(chats.size());
        for (ChatState chat : chats.values()) {
            result.add(new ChatSummary(
                    chat.id,
                    chat.type.wire(),
                    chat.displayTitle(),
                    chat.messages.size(),
                    chat.lastActivity,
                    chat.blocked));
        }
        return result;
    }

    synchronized void reset() {
        chats.clear();
        journal.rewrite(snapshot());
    }

    // ---- the bot's side ----------------------------------------------------------------------------------

    synchronized ObjectNode sendMessage(
            long chatId, FormattedText.Parsed text, Integer replyTo, boolean allowWithoutReply) {
        ChatState chat = reachableChat(chatId);
        StoredMessage replyTarget = null;
        if (replyTo != null) {
            replyTarget = chat.messages.get(replyTo);
            if (replyTarget == null && !allowWithoutReply) {
                throw BotApiError.badRequest("message to be replied not found");
            }
        }
        long now = clock.millis();
        int messageId = chat.nextMessageId++;
        ObjectNode json = Json.mapper().createObjectNode();
        json.put("message_id", messageId);
        json.set("from", botUser());
        json.set("chat", chatJson(chat));
        json.put("date", now / 1000);
        if (replyTarget != null) {
            json.set("reply_to_message", embeddable(replyTarget));
        }
        json.put("text", text.text());
        putEntities(json, "entities", text.entities());
        StoredMessage stored = new StoredMessage(true, MessageKind.TEXT, json);
        chat.messages.put(messageId, stored);
        journal.append(messageRecord(chat, messageId, stored, null));
        record(
                chat,
                new TranscriptEntry(
                        TranscriptEntry.FROM_BOT,
                        text.text(),
                        messageId,
                        null,
                        null,
                        null,
                        replyTarget == null ? null : replyTo,
                        now));
        LOG.debug("Chat {}: bot sent message {}", chatId, messageId);
        return json.deepCopy();
    }

    synchronized void chatAction(long chatId, String action) {
        ChatState chat = reachableChat(chatId);
        record(
                chat,
                new TranscriptEntry(TranscriptEntry.FROM_BOT, null, null, action, null, null, null, clock.millis()));
    }

    synchronized ObjectNode editMessageText(long chatId, int messageId, FormattedText.Parsed text) {
        ChatState chat = reachableChat(chatId);
        StoredMessage message = chat.messages.get(messageId);
        if (message == null) {
            throw BotApiError.badRequest("message to edit not found");
        }
        if (!message.fromBot || message.kind != MessageKind.TEXT) {
            throw BotApiError.badRequest("message can't be edited");
        }
        ObjectNode json = message.json.deepCopy();
        json.put("text", text.text());
        putEntities(json, "entities", text.entities());
        if (json.path("text").equals(message.json.path("text"))
                && json.path("entities").equals(message.json.path("entities"))) {
            throw BotApiError.badRequest(NOT_MODIFIED);
        }
        long now = clock.millis();
        json.put("edit_date", now / 1000);
        message.json = json;
        journal.append(messageRecord(chat, messageId, message, null));
        record(
                chat,
                new TranscriptEntry(TranscriptEntry.FROM_BOT, text.text(), messageId, "edit", null, null, null, now));
        LOG.debug("Chat {}: bot edited message {}", chatId, messageId);
        return json.deepCopy();
    }

    synchronized void deleteMessage(long chatId, int messageId) {
        ChatState chat = chats.get(chatId);
        if (chat == null) {
            throw BotApiError.badRequest("chat not found");
        }
        if (chat.messages.remove(messageId) == null) {
            throw BotApiError.badRequest("message to delete not found");
        }
        journal.append(Json.mapper()
                .createObjectNode()
                .put("r", "delete")
                .put("chat", chatId)
                .put("id", messageId));
        record(
                chat,
                new TranscriptEntry(
                        TranscriptEntry.FROM_BOT, null, messageId, "delete", null, null, null, clock.millis()));
        LOG.debug("Chat {}: bot deleted message {}", chatId, messageId);
    }

    private ChatState reachableChat(long chatId) {
        ChatState chat = chats.get(chatId);
        if (chat == null) {
            throw BotApiError.badRequest("chat not found");
        }
        if (chat.blocked) {
            throw chat.type == ChatType.PRIVATE
                    ? BotApiError.forbidden("bot was blocked by the user")
                    : BotApiError.forbidden("bot was kicked from the " + chat.type.wire() + " chat");
        }
        return chat;
    }

    ObjectNode botUser() {
        ObjectNode user = Json.mapper().createObjectNode();
        user.put("id", bot.id());
        user.put("is_bot", true);
        user.put("first_name", bot.firstName());
        user.put("username", bot.username());
        return user;
    }

    // ---- helpers -----------------------------------------------------------------------------------------

    private void record(ChatState chat, TranscriptEntry entry) {
        chat.transcript.add(entry);
        chat.lastActivity = entry.at();
        journal.append(entryRecord(chat, entry));
    }

    // ---- the journal's records ---------------------------------------------------------------------------

    /**
     * The update id to continue from after the {@code records} of a journal: one past the last update a person's
     * message or edit got, or the {@code updates} record written when the journal was last rewritten; 0 for none.
     */
    static long nextUpdateIdAfter(List<ObjectNode> records) {
        long next = 0;
        for (ObjectNode record : records) {
            String kind = record.path("r").asText();
            if (kind.equals("updates")) {
                next = record.path("next").asLong();
            } else if (kind.equals("message") && record.hasNonNull("update")) {
                next = record.path("update").asLong() + 1;
            }
        }
        return next;
    }

    /** The state as records: the next update id, then per chat its chat record, messages and transcript. */
    private List<ObjectNode> snapshot() {
        List<ObjectNode> records = new ArrayList<>();
        records.add(Json.mapper().createObjectNode().put("r", "updates").put("next", queue.nextUpdateId()));
        for (ChatState chat : chats.values()) {
            records.add(chatRecord(chat));
            chat.messages.entrySet().stream()
                    .sorted(Map.Entry.comparingByKey())
                    .forEach(e -> records.add(messageRecord(chat, e.getKey(), e.getValue(), null)));
            for (TranscriptEntry entry : chat.transcript) {
                records.add(entryRecord(chat, entry));
            }
        }
        return records;
    }

    private void restore(ObjectNode record) {
        String kind = record.path("r").asText();
        if (kind.equals("updates")) {
            return; // read by nextUpdateIdAfter before the queue was built
        }
        long chatId = record.path("chat").asLong();
        ChatState chat = chats.get(chatId);
        if (kind.equals("chat")) {
            if (chat == null) {
                chat = new ChatState(
                        chatId, ChatType.fromWire(record.path("type").asText()), firstMessageId);
                chats.put(chatId, chat);
            }
            chat.title = record.path("title").asText(null);
            chat.firstName = record.path("firstName").asText(null);
            chat.username = record.path("username").asText(null);
            chat.blocked = record.path("blocked").asBoolean();
            chat.nextMessageId =
                    Math.max(chat.nextMessageId, record.path("next").asInt());
            return;
        }
        if (chat == null) {
            throw new IllegalStateException("the emulator's journal has a '" + kind + "' record for chat " + chatId
                    + " before the chat's own record");
        }
        switch (kind) {
            case "message" -> {
                int messageId = record.path("id").asInt();
                if (!(record.get("json") instanceof ObjectNode json)) {
                    throw new IllegalStateException("the emulator's journal has message " + messageId + " of chat "
                            + chatId + " without its JSON");
                }
                chat.messages.put(
                        messageId,
                        new StoredMessage(
                                record.path("bot").asBoolean(),
                                MessageKind.fromWire(record.path("kind").asText()),
                                json));
                chat.nextMessageId = Math.max(chat.nextMessageId, messageId + 1);
            }
            case "delete" -> chat.messages.remove(record.path("id").asInt());
            case "entry" -> {
                TranscriptEntry entry = Json.mapper().convertValue(record.path("entry"), TranscriptEntry.class);
                chat.transcript.add(entry);
                chat.lastActivity = entry.at();
            }
            default ->
                throw new IllegalStateException("the emulator's journal has an unknown record kind '" + kind + "'");
        }
    }

    private static ObjectNode chatRecord(ChatState chat) {
        ObjectNode record = Json.mapper().createObjectNode();
        record.put("r", "chat");
        record.put("chat", chat.id);
        record.put("type", chat.type.wire());
        record.put("title", chat.title);
        record.put("firstName", chat.firstName);
        record.put("username", chat.username);
        record.put("blocked", chat.blocked);
        record.put("next", chat.nextMessageId);
        return record;
    }

    private static ObjectNode messageRecord(ChatState chat, int messageId, StoredMessage message, Long updateId) {
        ObjectNode record = Json.mapper().createObjectNode();
        record.put("r", "message");
        record.put("chat", chat.id);
        record.put("id", messageId);
        record.put("bot", message.fromBot);
        record.put("kind", message.kind.wire());
        record.set("json", message.json);
        if (updateId != null) {
            record.put("update", updateId);
        }
        return record;
    }

    private static ObjectNode entryRecord(ChatState chat, TranscriptEntry entry) {
        ObjectNode record = Json.mapper().createObjectNode();
        record.put("r", "entry");
        record.put("chat", chat.id);
        record.set("entry", Json.mapper().valueToTree(entry));
        return record;
    }

    private static ObjectNode chatJson(ChatState chat) {
        ObjectNode json = Json.mapper().createObjectNode();
        json.put("id", chat.id);
        json.put("type", chat.type.wire());
        if (chat.type == ChatType.PRIVATE) {
            json.put("first_name", chat.firstName);
            if (chat.username != null) {
                json.put("username", chat.username);
            }
        } else {
            json.put("title", chat.title);
        }
        return json;
    }

    /** Telegram embeds a replied-to message one level deep only. */
    private static ObjectNode embeddable(StoredMessage message) {
        ObjectNode copy = message.json.deepCopy();
        copy.remove("reply_to_message");
        return copy;
    }

    private static ObjectNode update(long updateId, String field, ObjectNode message) {
        ObjectNode update = Json.mapper().createObjectNode();
        update.put("update_id", updateId);
        update.set(field, message.deepCopy());
        return update;
    }
}
