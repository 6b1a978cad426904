package dev.thoughtstream.common.logging;

import java.util.Map;
import org.slf4j.MDC;

/**
 * The chat, thought and reply a piece of work is about, as the MDC keys {@value #CHAT_ID}, {@value #THOUGHT_ID} and
 * {@value #REPLY_ID}, so that every log line written meanwhile on this thread carries them as fields (JSON) or as
 * {@code key=value} (text) and a log tool can filter by them. Open it where the work for a chat runs, on the thread
 * that runs it; a callback on another thread opens its own:
 *
 * <pre>{@code
 * try (LogContext ignored = LogContext.of(part.chatId(), part.thoughtId(), part.replyId())) {
 *     ...
 * }
 * }</pre>
 *
 * <p>Closing restores exactly the context that was there before, so a pooled thread carries nothing from one task to
 * the next, and a nested context (a reply inside its thought) gives way to the outer one when it ends. Absent ids
 * ({@code null} or blank) are left out, not written as empty fields.
 */
public final class LogContext implements AutoCloseable {
    public static final String CHAT_ID = "chat_id";
    public static final String THOUGHT_ID = "thought_id";
    public static final String REPLY_ID = "reply_id";

    private final Map<String, String> previous;
    private final long ownerThread;
    private boolean closed;

    private LogContext(Map<String, String> previous) {
        this.previous = previous;
        this.ownerThread = Thread.currentThread().getId();
    }

    /** The work is about {@code chatId} alone (an update, a chat's context). */
    public static LogContext ofChat(long chatId) {
        return of(chatId, null, null);
    }

    /** The work is about one thought of a chat. */
    public static LogContext ofThought(long chatId, String thoughtId) {
        return of(chatId, thoughtId, null);
    }

    /**
     * The work is about {@code chatId}, and where known its thought and reply. Keys of the surrounding context that
     * are not named here stay as they were; named ones are replaced until {@link #close()}.
     */
    public static LogContext of(Long chatId, String thoughtId, String replyId) {
        LogContext context = new LogContext(MDC.getCopyOfContextMap());
        put(CHAT_ID, chatId == null ? null : Long.toString(chatId));
        put(THOUGHT_ID, thoughtId);
        put(REPLY_ID, replyId);
        return context;
    }

    private static void put(String key, String value) {
        if (value != null && !value.isBlank()) {
            MDC.put(key, value);
        }
    }

    /** Restores the context this one replaced; a second call does nothing. */
    @Override
    public void close() {
        if (Thread.currentThread().getId() != ownerThread) {
            // The MDC is per thread: restoring here would clear another thread's context and leave the owner's.
            throw new IllegalStateException("a LogContext must be closed on the thread that opened it");
        }
        if (closed) {
            return;
        }
        closed = true;
        if (previous == null || previous.isEmpty()) {
            MDC.clear();
        } else {
            MDC.setContextMap(previous);
        }
    }
}
