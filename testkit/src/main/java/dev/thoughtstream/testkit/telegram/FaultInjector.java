package dev.thoughtstream.testkit.telegram;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Telegram's ways of failing, on demand: planned faults (the next N matching calls fail) and optional rate
 * limits ({@link FloodWindows}: per chat, per group and overall, answering 429 with retry_after like Telegram).
 */
final class FaultInjector {
    private static final Logger LOG = LoggerFactory.getLogger(FaultInjector.class);

    /** The methods Telegram's flood limits count: everything that puts a message in front of a person. */
    static final Set<String> LIMITED_METHODS = Set.of("sendmessage", "editmessagetext");

    private final Clock clock;
    private final List<MutableFault> faults = new ArrayList<>();
    private final FloodWindows limits = new FloodWindows();

    private static final class MutableFault {
        final String method;
        final int status;
        final int retryAfter;
        int remaining;
        final Long chatId;
        final String description;

        MutableFault(String method, int status, int retryAfter, int remaining, Long chatId, String description) {
            this.method = method;
            this.status = status;
            this.retryAfter = retryAfter;
            this.remaining = remaining;
            this.chatId = chatId;
            this.description = description;
        }

        Fault snapshot() {
            return new Fault(method, status, retryAfter, remaining, chatId, description);
        }
    }

    FaultInjector(Clock clock) {
        this.clock = clock;
    }

    synchronized void add(
            String method, int status, int retryAfterSeconds, int times, Long chatId, String description) {
        if (method == null || method.isBlank()) {
            throw new IllegalArgumentException("fault method must not be blank");
        }
        if (status < 400 || status > 599) {
            throw new IllegalArgumentException("fault status must be an HTTP error status (400-599), was " + status);
        }
        if (retryAfterSeconds < 0) {
            throw new IllegalArgumentException("retryAfter must not be negative, was " + retryAfterSeconds);
        }
        if (times < 1) {
            throw new IllegalArgumentException("times must be at least 1, was " + times);
        }
        // Telegram always tells a rate-limited client how long to wait.
        int retryAfter = status == 429 && retryAfterSeconds == 0 ? 1 : retryAfterSeconds;
        String text = description == null || description.isBlank()
                ? BotApiError.defaultDescription(status, retryAfter)
                : description;
        faults.add(new MutableFault(method.toLowerCase(Locale.ROOT), status, retryAfter, times, chatId, text));
        LOG.debug("Fault planned: {} x{} -> {} (chat {})", method, times, status, chatId);
    }

    synchronized List<Fault> faults() {
        return faults.stream().map(MutableFault::snapshot).toList();
    }

    synchronized void clearFaults() {
        faults.clear();
    }

    synchronized void enforceLimits(int perChatPerSecond, int perGroupPerMinute, int globalPerSecond) {
        limits.set(perChatPerSecond, perGroupPerMinute, globalPerSecond);
    }

    synchronized void reset() {
        faults.clear();
        enforceLimits(0, 0, 0);
    }

    /**
     * Throws the planned fault or rate-limit answer for this call, if any; otherwise counts the call against
     * the limits.
     *
     * @param method lower-cased method name
     * @param chatId the call's chat, or null when it has none (or it is not numeric)
     */
    synchronized void check(String method, Long chatId) {
        for (Iterator<MutableFault> it = faults.iterator(); it.hasNext(); ) {
            MutableFault fault = it.next();
            if (fault.method.equals(method) && (fault.chatId == null || fault.chatId.equals(chatId))) {
                if (--fault.remaining == 0) {
                    it.remove();
                }
                LOG.debug("Injecting fault {} into {} (chat {})", fault.status, method, chatId);
                throw new BotApiError(fault.status, fault.description, fault.retryAfter);
            }
        }
        if (!LIMITED_METHODS.contains(method) || limits.off()) {
            return;
        }
        int retryAfter = limits.admit(chatId, clock.millis());
        if (retryAfter > 0) {
            LOG.debug("Rate limit hit by {} (chat {}); retry after {} s", method, chatId, retryAfter);
            throw BotApiError.tooManyRequests(retryAfter);
        }
    }
}
