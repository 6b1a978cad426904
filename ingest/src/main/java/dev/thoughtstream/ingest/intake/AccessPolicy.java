package dev.thoughtstream.ingest.intake;

import java.util.Set;

/**
 * The allow-lists: a person may write when their user id is on {@code ALLOWED_USER_IDS} or the chat's id is on
 * {@code ALLOWED_CHAT_IDS} (a group on the list admits all its members). Both empty: everyone may.
 */
final class AccessPolicy {
    private final Set<Long> users;
    private final Set<Long> chats;

    AccessPolicy(Set<Long> users, Set<Long> chats) {
        this.users = Set.copyOf(users);
        this.chats = Set.copyOf(chats);
    }

    boolean isOpen() {
        return users.isEmpty() && chats.isEmpty();
    }

    /**
     * @param userId the sender, 0 when the update names none
     * @param chatId the chat, 0 when the update names none
     */
    boolean allows(long userId, long chatId) {
        return isOpen() || (userId != 0 && users.contains(userId)) || (chatId != 0 && chats.contains(chatId));
    }
}
