package dev.thoughtstream.emitter.telegram;

import java.time.Duration;
import java.util.Objects;

/**
 * Sends one text message to a chat and says what Telegram did with it. It never waits, sleeps or retries: the
 * caller (a chat's lane) decides what happens next, so one chat's 429 or backoff never holds another chat up.
 * Implementations: {@code TelegramMessageSender} (TelegramBots' client) and {@code DryRunMessageSender} (records
 * instead of sending, for replays).
 */
public interface MessageSender {

    /**
     * Sends {@code text} (at most Telegram's 4096 characters; longer replies are split before) to {@code chatId}.
     * Blocking: one HTTP exchange, or two when a formatted text is refused and resent as plain text.
     */
    SendResult send(long chatId, String text);

    /** Shows "typing…" in the chat. Cosmetic: failures are logged (token redacted), never thrown. */
    void typing(long chatId);

    /** What became of one send. Exactly one of the records below. */
    sealed interface SendResult permits Sent, RateLimited, Retryable, Rejected, Unknown {}

    /** Telegram took it and gave it this message id. */
    record Sent(long messageId) implements SendResult {}

    /** Telegram refused for now (429): this chat may try again after {@code retryAfter}. */
    record RateLimited(Duration retryAfter) implements SendResult {
        public RateLimited {
            Objects.requireNonNull(retryAfter, "retryAfter");
        }
    }

    /**
     * Telegram did not take it (500, a gateway that could not pass it on: 502, 503, even as an HTML page; a
     * connection never made): try again after a backoff.
     */
    record Retryable(String reason) implements SendResult {}

    /** Telegram will never take it (403 blocked, 400 bad request, ...): give up; {@code reason} has no token. */
    record Rejected(int status, String reason) implements SendResult {}

    /**
     * No answer (read timeout, reset) or a gateway timeout (504, the Bot API was still working on it): the message
     * may have been delivered, so it must not be sent again.
     */
    record Unknown(String reason) implements SendResult {}
}
