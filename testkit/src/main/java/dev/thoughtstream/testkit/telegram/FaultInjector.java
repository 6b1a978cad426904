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
        final String contentType;
        final String body;
        final boolean processed;

        MutableFault(Fault planned) {
            this.method = planned.method();
            this.status = planned.status();
            this.retryAfter = planned.retryAfterSeconds();
            this.remaining = planned.remaining();
            this.chatId = planned.chatId();
            this.description = planned.description();
            this.contentType = planned.contentType();
            this.body = planned.body();
            this.processed = planned.processed();
        }

        Fault snapshot() {
            return new Fault(method, status, retryAfter, remaining, chatId, description, contentType, body, processed);
        }

        boolean matches(String calledMethod, Long calledChat) {
            return method.equals(calledMethod) && (chatId == null || chatId.equals(calledChat));
        }

        BotApiError answer() {
            return body != null
                    ? BotApiError.raw(status, contentType, body, retryAfter)
                    : new BotApiError(status, description, retryAfter);
        }
    }

    FaultInjector(Clock clock) {
        this.clock = clock;
    }

    synchronized void add(
            String method, int status, int retryAfterSeconds, int times, Long chatId, String description) {
        add(new Fault(method, status, retryAfterSeconds, times, chatId, description));
    }

    /**
     * Plans {@code fault} for its next {@code remaining} matching calls. A JSON fault needs an error status
     * (400-599); a raw one (with a body) may answer any status from 200 to 599, with any content type and body.
     */
    synchronized void add(Fault fault) {
        String method = fault.method();
        int status = fault.status();
        if (method == null || method.isBlank()) {
            throw new IllegalArgumentException("fault method must not be blank");
        }
        boolean raw = fault.body() != null || fault.contentType() != null;
        if (raw && (status < 200 || status > 599)) {
            throw new IllegalArgumentException("fault status must be an HTTP status (200-599), was " + status);
        }
        if (!raw && (status < 400 || status > 599)) {
            throw new IllegalArgumentException("fault status must be an HTTP error status (400-599), was " + status);
        }
        if (raw && fault.description() != null) {
            throw new IllegalArgumentException(
                    "a fault has either a description (the Bot API's JSON error) or a body, not both");
        }
        if (fault.retryAfterSeconds() < 0) {
            throw new IllegalArgumentException("retryAfter must not be negative, was " + fault.retryAfterSeconds());
        }
        if (fault.remaining() < 1) {
            throw new IllegalArgumentException("times must be at least 1, was " + fault.remaining());
        }
        // Telegram always tells a rate-limited client how long to wait (its front end's own 429 page does not).
        int retryAfter = !raw && status == 429 && fault.retryAfterSeconds() == 0 ? 1 : fault.retryAfterSeconds();
        String text = raw
                ? null
                : fault.description() == null || fault.description().isBlank()
                        ? BotApiError.defaultDescription(status, retryAfter)
                        : fault.description();
        faults.add(new MutableFault(new Fault(
                method.toLowerCase(Locale.ROOT),
                status,
                retryAfter,
                fault.remaining(),
                fault.chatId(),
                text,
                raw ? (fault.contentType() == null ? "text/plain; charset=utf-8" : fault.contentType()) : null,
                raw ? (fault.body() == null ? "" : fault.body()) : null,
                fault.processed())));
        LOG.debug(
                "Fault planned: {} x{} -> {}{} (chat {})",
                method,
                fault.remaining(),
                status,
                raw ? " raw" : "",
                fault.chatId());
    }

    synchronized List<Fault> faults() {
        return faults.stream().map(MutableFault::snapshot).toList();
    }

    /**
     * Throws the planned fault that is answered after a successful call of {@code method} (a gateway timeout after the
     * Bot API did the work), if any.
     */
    synchronized void checkProcessed(String method, Long chatId) {
        for (Iterator<MutableFault> it = faults.iterator(); it.hasNext(); ) {
            MutableFault fault = it.next();
            if (fault.processed && fault.matches(method, chatId)) {
                if (--fault.remaining == 0) {
                    it.remove();
                }
                LOG.debug("Injecting fault {} into {} after processing it (chat {})", fault.status, method, chatId);
                throw fault.answer();
            }
        }
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
            if (!fault.processed && fault.matches(method, chatId)) {
                if (--fault.remaining == 0) {
                    it.remove();
                }
                LOG.debug("Injecting fault {} into {} (chat {})", fault.status, method, chatId);
                throw fault.answer();
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
