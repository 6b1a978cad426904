package dev.thoughtstream.testkit.telegram;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.LongBinaryOperator;

/**
 * When the Bot API server sends a failed webhook update again, after tdlib/telegram-bot-api's
 * {@code WebhookActor::on_update_error} (telegram-bot-api/WebhookActor.cpp):
 *
 * <ul>
 *   <li>an answer with a {@code Retry-After} header of {@code n} seconds is tried again after {@code n} (clamped to
 *       0–3600, {@code MAX_RETRY_AFTER}), and the growing delay stays where it was;
 *   <li>otherwise the first failure of an update is tried again at once, and every further one after a delay that
 *       doubles from 2 s ({@code Update::delay_} starts at 1) up to a cap drawn anew each time between
 *       {@code WEBHOOK_MAX_RESEND_TIMEOUT} (60 s) and twice that: 0, 2, 4, 8, 16, 32 s, then 60–120 s;
 *   <li>an update whose next attempt would come after it expires is dropped (it expires a day after it was made:
 *       Client.cpp gives a message update {@code message_date + 86400 - now} seconds to live).
 * </ul>
 *
 * The emulator can scale the delays down for tests ({@link TelegramEmulator.Builder#webhookRetryBackoff}); the
 * shape, the {@code Retry-After} rule and the day's lifetime stay Telegram's.
 */
final class WebhookRetryPolicy {
    /** {@code Update::delay_} when loaded: the base the delay doubles from. */
    static final Duration TELEGRAM_FIRST_DELAY = Duration.ofSeconds(1);
    /** {@code WEBHOOK_MAX_RESEND_TIMEOUT}: the cap is drawn from [this, 2 × this]. */
    static final Duration TELEGRAM_MAX_DELAY = Duration.ofSeconds(60);
    /** {@code MAX_RETRY_AFTER}: the longest wait a webhook's {@code Retry-After} can ask for. */
    static final long MAX_RETRY_AFTER_SECONDS = 3600;
    /** How long an update waits for delivery before Telegram drops it. */
    static final Duration UPDATE_LIFETIME = Duration.ofDays(1);

    private final long firstDelayMillis;
    private final long maxDelayMillis;
    /** A uniformly drawn long in [origin, bound] ({@code td::Random::fast} includes both ends). */
    private final LongBinaryOperator random;

    WebhookRetryPolicy(Duration firstDelay, Duration maxDelay) {
        this(
                firstDelay,
                maxDelay,
                (origin, bound) -> ThreadLocalRandom.current().nextLong(origin, bound + 1));
    }

    WebhookRetryPolicy(Duration firstDelay, Duration maxDelay, LongBinaryOperator random) {
        if (firstDelay.isNegative() || firstDelay.isZero() || maxDelay.compareTo(firstDelay) < 0) {
            throw new IllegalArgumentException("webhook backoff needs 0 < first delay <= max delay");
        }
        this.firstDelayMillis = firstDelay.toMillis();
        this.maxDelayMillis = maxDelay.toMillis();
        this.random = random;
    }

    static WebhookRetryPolicy telegram() {
        return new WebhookRetryPolicy(TELEGRAM_FIRST_DELAY, TELEGRAM_MAX_DELAY);
    }

    /** An update's failures so far: how many, and its growing delay ({@code Update::delay_}). */
    record Failures(int count, long delayMillis) {}

    /** The state of an update that has not failed yet. */
    Failures none() {
        return new Failures(0, firstDelayMillis);
    }

    /**
     * The wait before the next attempt after one more failure, and the failures counted with it.
     *
     * @param retryAfterSeconds the answer's {@code Retry-After}, 0 without one
     */
    Step next(Failures previous, long retryAfterSeconds) {
        long retryAfter = Math.max(0, Math.min(MAX_RETRY_AFTER_SECONDS, retryAfterSeconds));
        long delay = previous.delayMillis();
        long wait = retryAfter * 1000;
        if (retryAfter == 0 && previous.count() > 0) {
            long cap = random.applyAsLong(maxDelayMillis, 2 * maxDelayMillis);
            delay = Math.min(cap, delay * 2);
            wait = delay;
        }
        return new Step(wait, new Failures(previous.count() + 1, delay));
    }

    /** Wait {@code waitMillis}, then try again; {@code failures} is the update's state from now on. */
    record Step(long waitMillis, Failures failures) {}

    /**
     * A {@code Retry-After} value as the server reads it ({@code HttpQuery::get_retry_after} in tdlib's tdnet): a
     * whole number of seconds, anything unreadable or negative being 0.
     */
    static long retryAfterSeconds(String header) {
        if (header == null) {
            return 0;
        }
        try {
            return Math.max(0, Integer.parseInt(header.trim()));
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
