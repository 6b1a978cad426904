package dev.thoughtstream.emitter.telegram;

import dev.thoughtstream.common.telegram.TelegramLimits;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link MessageSender} for replays ({@code EMITTER_DRY_RUN=true}): nothing goes to Telegram. Each message that
 * would have been sent is kept in memory (the newest {@code capacity}), logged, and answered {@link Sent} with a
 * synthetic message id, negative and counting down per chat, so a replayed SENT is told apart from a real one. What
 * Telegram would refuse for the text alone (empty, blank, over {@link TelegramLimits#MAX_MESSAGE_CHARS}) is refused
 * here too, so a replay still shows splitting bugs. See docs/emitter.md ("Dry run").
 */
public final class DryRunMessageSender implements MessageSender {
    private static final Logger LOG = LoggerFactory.getLogger(DryRunMessageSender.class);

    /** Messages kept for inspection; older ones are forgotten (they were logged). */
    public static final int DEFAULT_CAPACITY = 1_000;

    /** A message that would have been sent. */
    public record WouldSend(long chatId, String text, Instant at, long messageId) {}

    private final Clock clock;
    private final int capacity;
    private final Deque<WouldSend> recorded = new ArrayDeque<>();
    private final Map<Long, Long> lastIds = new HashMap<>();
    private long sent;
    private long typingActions;

    public DryRunMessageSender(Clock clock) {
        this(clock, DEFAULT_CAPACITY);
    }

    public DryRunMessageSender(Clock clock, int capacity) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity must be >= 1 but was " + capacity);
        }
        this.clock = Objects.requireNonNull(clock, "clock");
        this.capacity = capacity;
    }

    @Override
    public SendResult send(long chatId, String text) {
        if (text == null || text.isEmpty()) {
            return refused(
                    chatId,
                    new Rejected(TelegramMessageSender.NOT_SENT_STATUS, "not sendable: the text is empty (dry run)"));
        }
        if (text.isBlank()) {
            return refused(chatId, new Rejected(400, "400 Bad Request: message text is empty (dry run)"));
        }
        if (text.length() > TelegramLimits.MAX_MESSAGE_CHARS) {
            return refused(
                    chatId,
                    new Rejected(
                            400,
                            "400 Bad Request: message is too long (dry run: " + text.length() + " > "
                                    + TelegramLimits.MAX_MESSAGE_CHARS + ")"));
        }
        WouldSend message;
        synchronized (this) {
            long id = lastIds.merge(chatId, -1L, Long::sum);
            message = new WouldSend(chatId, text, clock.instant(), id);
            if (recorded.size() == capacity) {
                recorded.removeFirst();
            }
            recorded.addLast(message);
            sent++;
        }
        LOG.info(
                "dry run: chat {} would get a message of {} chars; recorded as synthetic message {}, not sent",
                chatId,
                text.length(),
                message.messageId());
        LOG.debug("dry run: chat {} message {} text: {}", chatId, message.messageId(), text);
        return new Sent(message.messageId());
    }

    private static SendResult refused(long chatId, Rejected result) {
        LOG.info("dry run: chat {} message refused as Telegram would: {}", chatId, result.reason());
        return result;
    }

    /** Counted and logged at DEBUG; nothing else happens. */
    @Override
    public void typing(long chatId) {
        synchronized (this) {
            typingActions++;
        }
        LOG.debug("dry run: chat {} would see \"typing...\"", chatId);
    }

    /** The newest recorded messages (at most the capacity), oldest first. */
    public synchronized List<WouldSend> recorded() {
        return List.copyOf(recorded);
    }

    /** The newest recorded messages of one chat, oldest first. */
    public synchronized List<WouldSend> recorded(long chatId) {
        return recorded.stream().filter(m -> m.chatId() == chatId).toList();
    }

    /** Messages answered {@link Sent} since the start, including those no longer recorded. */
    public synchronized long sentCount() {
        return sent;
    }

    public synchronized long typingCount() {
        return typingActions;
    }
}
