package dev.thoughtstream.emitter;

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
 * would have been sent is kept in memory (the newest {@code capacity} of them), logged at INFO with its chat and
 * length (the text only at DEBUG), and answered {@link Sent} with a synthetic message id.
 *
 * <p>Synthetic ids are negative and count down per chat ({@code -1, -2, ...}): Telegram's message ids are
 * positive, so anything downstream (the delivered topic, Redis outcome records, logs) can tell a replayed SENT
 * from a real one. They are unique per chat within one run only.
 *
 * <p>What Telegram would refuse for the text alone is refused here too, so a replay still shows splitting bugs:
 * a missing or empty text ({@link Rejected} with {@link TelegramMessageSender#NOT_SENT_STATUS}, as TelegramBots
 * refuses it), a blank one or one over {@link TelegramText#MAX_MESSAGE_CHARS} (400, as Telegram answers). The
 * length is the raw text's; with a parse mode Telegram would count the shorter parsed text.
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
            return refused(chatId, new Rejected(TelegramMessageSender.NOT_SENT_STATUS,
                    "not sendable: the text is empty (dry run)"));
        }
        if (text.isBlank()) {
            return refused(chatId, new Rejected(400, "400 Bad Request: message text is empty (dry run)"));
        }
        if (text.length() > TelegramText.MAX_MESSAGE_CHARS) {
            return refused(chatId, new Rejected(400, "400 Bad Request: message is too long (dry run: "
                    + text.length() + " > " + TelegramText.MAX_MESSAGE_CHARS + ")"));
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
        LOG.info("dry run: chat {} would get a message of {} chars; recorded as synthetic message {}, not sent",
                chatId, text.length(), message.messageId());
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
