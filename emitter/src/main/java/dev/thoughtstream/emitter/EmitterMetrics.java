package dev.thoughtstream.emitter;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.metrics.Metrics;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Locale;
import java.util.Map;
import java.util.function.IntSupplier;

/** The emitter's instruments in common's {@link Metrics} (names get the {@code thoughtstream_} prefix there). */
public final class EmitterMetrics {
    private final Metrics metrics;
    private final Map<Delivery.Outcome, Metrics.Counter> parts = new EnumMap<>(Delivery.Outcome.class);
    private final Metrics.Counter staleDrops;
    private final Metrics.Timer firstPartDelay;
    private final Metrics.Timer firstBubbleWait;
    private final Metrics.Counter redisErrors;
    private final Metrics.Counter sentWithoutClaim;
    private final Metrics.Counter deadLetters;
    private final Metrics.Counter limitsRedisFallbacks;
    private final Metrics.Counter maybeSent;

    public EmitterMetrics(Metrics metrics) {
        this.metrics = metrics;
        for (Delivery.Outcome o : Delivery.Outcome.values()) {
            parts.put(
                    o,
                    metrics.counter(
                            "emitter_parts_total",
                            "reply parts finished, by outcome (sent, dropped_stale, failed), re-reports included",
                            "outcome",
                            o.name().toLowerCase(Locale.ROOT)));
        }
        staleDrops = metrics.counter(
                "emitter_stale_drops_total", "parts this instance dropped because the chat had a newer user message");
        firstPartDelay = metrics.timer(
                "emitter_first_part_delay_seconds",
                "from a reply's first part being produced to its message being sent (typing delay included)");
        firstBubbleWait = metrics.timer(
                "emitter_first_bubble_wait_seconds",
                "the person's whole wait for a reply to a thought: from their last message to it (Telegram's date, "
                        + "whole seconds) to the reply's first message sent");
        redisErrors = metrics.counter(
                "emitter_redis_errors_total",
                "failed Redis calls (claims, outcome records, staleness checks); the emitter went on per its mode");
        sentWithoutClaim = metrics.counter(
                "emitter_sent_without_claim_total",
                "messages sent while Redis was unreachable (fail-open), so unprotected against a duplicate");
        deadLetters = metrics.counter("emitter_dead_letters_total", "unreadable reply records set aside");
        limitsRedisFallbacks = metrics.counter(
                "emitter_limits_redis_fallbacks_total",
                "times this instance lost Redis and fell back to its share of the bot's global and group limits");
        maybeSent = metrics.counter(
                "emitter_parts_maybe_sent_total",
                "parts reported with a message that may have reached the person though nobody knows (no answer, a "
                        + "gateway timeout, an attempt that died during its send); not resent, re-reports included");
        for (String scope : new String[] {"chat", "group", "global", "telegram"}) {
            rateLimitedCounter(scope);
        }
    }

    private Metrics.Counter rateLimitedCounter(String scope) {
        return metrics.counter(
                "emitter_rate_limited_total",
                "sends that had to wait for a rate limit: our own (chat, group, global) or Telegram's 429 (telegram)",
                "scope",
                scope);
    }

    public void gauges(IntSupplier lanes, IntSupplier pendingParts) {
        metrics.gauge("emitter_lanes", "chats with parts waiting or being sent", lanes::getAsInt);
        metrics.gauge("emitter_pending_parts", "parts held by this instance and not finished", pendingParts::getAsInt);
    }

    public void limitsLocalShare(IntSupplier onLocalShare) {
        metrics.gauge(
                "emitter_limits_local_share",
                "1 while this instance keeps to its share of the bot's global and group limits (Redis unreachable), "
                        + "0 while they are shared through Redis",
                onLocalShare::getAsInt);
    }

    public void limitsRedisFallback() {
        limitsRedisFallbacks.increment();
    }

    public long limitsRedisFallbacks() {
        return limitsRedisFallbacks.count();
    }

    public void part(Delivery.Outcome outcome) {
        parts.get(outcome).increment();
    }

    public long parts(Delivery.Outcome outcome) {
        return parts.get(outcome).count();
    }

    public void staleDrop() {
        staleDrops.increment();
    }

    public long staleDrops() {
        return staleDrops.count();
    }

    public void firstPartDelay(Duration delay) {
        firstPartDelay.record(delay.isNegative() ? Duration.ZERO : delay);
    }

    /** A thought's reply opened: {@code wait} since the person last wrote to it (negative, from clock skew: 0). */
    public void firstBubbleWait(Duration wait) {
        firstBubbleWait.record(wait.isNegative() ? Duration.ZERO : wait);
    }

    public void redisError() {
        redisErrors.increment();
    }

    public long redisErrors() {
        return redisErrors.count();
    }

    public void sentWithoutClaim() {
        sentWithoutClaim.increment();
    }

    public long sentWithoutClaimCount() {
        return sentWithoutClaim.count();
    }

    public void deadLetter() {
        deadLetters.increment();
    }

    public long deadLetters() {
        return deadLetters.count();
    }

    public void maybeSent() {
        maybeSent.increment();
    }

    public long maybeSentCount() {
        return maybeSent.count();
    }

    public void rateLimited(String scope) {
        rateLimitedCounter(scope).increment();
    }

    public long rateLimitedCount(String scope) {
        return rateLimitedCounter(scope).count();
    }
}
