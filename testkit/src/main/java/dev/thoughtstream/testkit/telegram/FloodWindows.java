package dev.thoughtstream.testkit.telegram;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.Map;

/**
 * Telegram's flood limits for the messages a bot sends, each a sliding window over the calls Telegram accepted:
 * <ul>
 *   <li>per chat: "avoid sending more than one message per second" to a particular chat;</li>
 *   <li>per group: "your bot will not be able to send more than 20 messages per minute to the same group";</li>
 *   <li>overall: "the API will not allow more than 30 messages per second or so".</li>
 * </ul>
 * Source: Bot API FAQ, "My bot is hitting limits, how do I avoid this?"
 * (https://core.telegram.org/bots/faq#my-bot-is-hitting-limits-how-do-i-avoid-this). Past a limit Telegram answers
 * 429 "Too Many Requests: retry after N" with {@code parameters.retry_after} (Bot API, ResponseParameters); here a
 * refused call is not counted. Telegram "may allow short bursts that go over this limit"; the emulator does not, so a client
 * that passes here passes there. Group chats are the chats with a negative id: in the Bot API groups, supergroups
 * and channels have negative ids, a private chat the person's positive user id. Not thread-safe: {@link FaultInjector} guards it.
 */
final class FloodWindows {
    static final long SECOND_MILLIS = 1_000;
    static final long MINUTE_MILLIS = 60_000;

    private int perChatPerSecond;
    private int perGroupPerMinute;
    private int globalPerSecond;
    private final Map<Long, Deque<Long>> chatSends = new HashMap<>();
    private final Map<Long, Deque<Long>> groupSends = new HashMap<>();
    private final Deque<Long> globalSends = new ArrayDeque<>();

    /** Sets the limits (0 = that one off) and forgets what was counted. */
    void set(int perChatPerSecond, int perGroupPerMinute, int globalPerSecond) {
        if (perChatPerSecond < 0 || perGroupPerMinute < 0 || globalPerSecond < 0) {
            throw new IllegalArgumentException("limits must not be negative (0 = unlimited)");
        }
        this.perChatPerSecond = perChatPerSecond;
        this.perGroupPerMinute = perGroupPerMinute;
        this.globalPerSecond = globalPerSecond;
        chatSends.clear();
        groupSends.clear();
        globalSends.clear();
    }

    boolean off() {
        return perChatPerSecond == 0 && perGroupPerMinute == 0 && globalPerSecond == 0;
    }

    /**
     * Seconds the sender must wait (at least 1) when a window is full, and the call is not counted; otherwise 0, and
     * the call is counted in every window it belongs to.
     *
     * @param chatId the call's chat, or null when it has none
     */
    int admit(Long chatId, long now) {
        Deque<Long> chat = chatId == null ? null : chatSends.computeIfAbsent(chatId, id -> new ArrayDeque<>());
        Deque<Long> group =
                chatId == null || chatId >= 0 ? null : groupSends.computeIfAbsent(chatId, id -> new ArrayDeque<>());
        int retryAfter = exceeded(globalSends, globalPerSecond, SECOND_MILLIS, now);
        if (chat != null) {
            retryAfter = Math.max(retryAfter, exceeded(chat, perChatPerSecond, SECOND_MILLIS, now));
        }
        if (group != null) {
            retryAfter = Math.max(retryAfter, exceeded(group, perGroupPerMinute, MINUTE_MILLIS, now));
        }
        if (retryAfter > 0) {
            return retryAfter;
        }
        globalSends.addLast(now);
        if (chat != null) {
            chat.addLast(now);
        }
        if (group != null) {
            group.addLast(now);
        }
        return 0;
    }

    /** Seconds to wait (at least 1) when the window already holds {@code limit} sends; 0 when allowed. */
    private static int exceeded(Deque<Long> sends, int limit, long windowMillis, long now) {
        while (!sends.isEmpty() && sends.peekFirst() <= now - windowMillis) {
            sends.removeFirst();
        }
        if (limit == 0 || sends.size() < limit) {
            return 0;
        }
        long waitMillis = sends.peekFirst() + windowMillis - now;
        return (int) Math.max(1, (waitMillis + 999) / 1000);
    }
}
