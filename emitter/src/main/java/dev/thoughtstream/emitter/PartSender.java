package dev.thoughtstream.emitter;

import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.redis.ClaimStore;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.api.methods.ActionType;
import org.telegram.telegrambots.meta.api.methods.send.SendChatAction;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.objects.message.Message;
import org.telegram.telegrambots.meta.exceptions.TelegramApiException;
import org.telegram.telegrambots.meta.exceptions.TelegramApiRequestException;
import org.telegram.telegrambots.meta.generics.TelegramClient;

/**
 * Sends one reply part like a person: "typing..." for a while, then the message, at most once.
 *
 * <p>At most once toward the person: the part is claimed in Redis ({@code SET NX}) before anything is sent and
 * the Telegram message id recorded after. A part found already SENT is not sent again (its outcome is
 * re-reported, so a crash between send and report still lets the bot's words reach the context). A part found
 * claimed but unconfirmed belongs to an attempt that died mid-send: it may or may not have reached the person,
 * and we prefer a missing bubble to a doubled one, so it is reported FAILED and not resent.
 *
 * <p>For the same reason a send is retried only when Telegram certainly did not take it: a 429, a 5xx, or a
 * connection that was never made. An answer that never came (read timeout, connection reset) may hide a
 * delivered message, so it is reported FAILED instead of retried.
 *
 * <p>Interrupts (how {@code EmitterService.close()} stops the loop): while typing or waiting to retry, nothing
 * is on its way to the person, so the claim is released and the part left for the next instance. A
 * {@code sendMessage} already on the wire is seen through instead (TelegramBots would swallow the interrupt
 * and leave the request running, unknown to us), its outcome recorded, and the interrupt flag restored.
 */
final class PartSender {
    private static final Logger LOG = LoggerFactory.getLogger(PartSender.class);
    /** Telegram clears the typing indicator after 5 s; refresh it a little before. */
    static final Duration TYPING_REFRESH = Duration.ofSeconds(4);
    static final Duration FIRST_BACKOFF = Duration.ofMillis(500);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    /** Longer than OkHttp's own timeouts; only a client without timeouts could reach it. */
    static final Duration IN_FLIGHT_LIMIT = Duration.ofSeconds(90);
    /** The typing indicator is cosmetic: never hold a part back longer than this for it. */
    static final Duration TYPING_CALL_LIMIT = Duration.ofSeconds(10);

    private final TelegramClient telegram;
    private final ClaimStore claims;
    private final TypingDelay typing;
    private final Pause pause;
    private final Clock clock;
    private final Duration claimTtl;
    private final int maxAttempts;
    private final String instanceId;
    private final Secret token;
    private final AtomicLong sentWithoutClaim = new AtomicLong();
    private final AtomicLong claimStoreErrors = new AtomicLong();

    PartSender(TelegramClient telegram, ClaimStore claims, TypingDelay typing, Pause pause, Clock clock,
            Duration claimTtl, int maxAttempts, String instanceId, Secret token) {
        this.telegram = telegram;
        this.claims = claims;
        this.typing = typing;
        this.pause = pause;
        this.clock = clock;
        this.claimTtl = claimTtl;
        this.maxAttempts = maxAttempts;
        this.instanceId = instanceId;
        this.token = token;
    }

    /** The claim store key of a part (before the store's own prefix). */
    static String claimKey(ReplyPart part) {
        return "emit:" + part.partKey();
    }

    /**
     * Delivers {@code part} and returns its outcome.
     *
     * @throws InterruptedException when interrupted before the message went out; the part's claim is released
     */
    Delivery send(ReplyPart part, Duration extraPauseBefore) throws InterruptedException {
        String key = claimKey(part);
        Claim claim = claim(key, part);
        if (claim.earlier().isPresent()) {
            return claim.earlier().get();
        }
        try {
            showTypingFor(part, extraPauseBefore.plus(typing.forText(part.text())));
            if (Thread.interrupted()) {
                // Interrupted where nothing noticed (no typing, or during the claim): stop before the message.
                throw new InterruptedException("stopping before sending");
            }
        } catch (InterruptedException e) {
            release(key, claim, part);
            throw e;
        }
        Delivery outcome;
        try {
            outcome = sendMessage(part);
        } catch (InterruptedException e) {
            // Only thrown while waiting to retry, i.e. after answers that say the message was not taken.
            release(key, claim, part);
            throw e;
        }
        if (outcome.outcome() == Delivery.Outcome.SENT && !claim.held()) {
            sentWithoutClaim.incrementAndGet();
        }
        record(key, outcome, claim);
        return outcome;
    }

    /** Parts sent while the claim store was unreachable (fail-open): not protected against a duplicate. */
    long sentWithoutClaim() {
        return sentWithoutClaim.get();
    }

    /** Claim store commands that failed (claims, lookups, outcome records, releases). */
    long claimStoreErrors() {
        return claimStoreErrors.get();
    }

    /** Whether this attempt owns the part, or what an earlier attempt made of it. */
    private record Claim(boolean held, Optional<Delivery> earlier) {
        static final Claim HELD = new Claim(true, Optional.empty());
        static final Claim UNPROTECTED = new Claim(false, Optional.empty());

        static Claim earlier(Delivery outcome) {
            return new Claim(false, Optional.of(outcome));
        }
    }

    private Claim claim(String key, ReplyPart part) {
        // Twice: the key may expire between a lost claim and the lookup of its state.
        for (int round = 0; round < 2; round++) {
            boolean won;
            try {
                won = claims.claim(key, "sending:" + instanceId, claimTtl);
            } catch (RuntimeException e) {
                // Fail-open: an unreachable Redis must not silence the bot; counted, so it shows.
                claimStoreErrors.incrementAndGet();
                LOG.warn("claim store unavailable ({}); sending chat {} reply {} part {} without a claim",
                        e.toString(), part.chatId(), part.replyId(), part.seq());
                return Claim.UNPROTECTED;
            }
            if (won) {
                return Claim.HELD;
            }
            Optional<String> state;
            try {
                state = claims.get(key);
            } catch (RuntimeException e) {
                // Someone holds the key; not knowing its state is no licence to send.
                claimStoreErrors.incrementAndGet();
                LOG.warn("chat {} reply {} part {} is claimed but its state cannot be read ({}); not sending",
                        part.chatId(), part.replyId(), part.seq(), e.toString());
                return Claim.earlier(Delivery.failed(part, "claimed elsewhere, state unreadable: " + e.getMessage(),
                        clock.millis()));
            }
            if (state.isPresent()) {
                return Claim.earlier(earlierOutcome(part, state.get()));
            }
        }
        return Claim.earlier(Delivery.failed(part, "claim kept changing hands; not sent", clock.millis()));
    }

    private Delivery earlierOutcome(ReplyPart part, String state) {
        if (state.startsWith("sent:")) {
            try {
                long messageId = Long.parseLong(state.substring("sent:".length()));
                LOG.info("chat {} reply {} part {} was already sent as message {}; not sending it again",
                        part.chatId(), part.replyId(), part.seq(), messageId);
                return Delivery.sent(part, messageId, clock.millis());
            } catch (NumberFormatException e) {
                return Delivery.failed(part, "recorded as sent but the message id is unreadable: " + state,
                        clock.millis());
            }
        }
        if (state.startsWith("failed:")) {
            return Delivery.failed(part, state.substring("failed:".length()), clock.millis());
        }
        if (state.startsWith("dropped:")) {
            return Delivery.dropped(part, state.substring("dropped:".length()), clock.millis());
        }
        LOG.warn("chat {} reply {} part {} was claimed by an attempt that never confirmed ({}); not resending",
                part.chatId(), part.replyId(), part.seq(), state);
        return Delivery.failed(part, "claimed but unconfirmed by " + state
                + "; may have been sent, not resent to avoid a duplicate", clock.millis());
    }

    private void record(String key, Delivery outcome, Claim claim) {
        String value = switch (outcome.outcome()) {
            case SENT -> "sent:" + outcome.telegramMessageId();
            case FAILED -> "failed:" + outcome.reason();
            case DROPPED_STALE -> "dropped:" + outcome.reason();
        };
        try {
            claims.put(key, value, claimTtl);
        } catch (RuntimeException e) {
            claimStoreErrors.incrementAndGet();
            LOG.warn("cannot record the outcome of {} ({}); a redelivery {}", key, e.toString(), claim.held()
                    ? "will find it unconfirmed and not resend it" : "finds no claim either and may send it again");
        }
    }

    private void release(String key, Claim claim, ReplyPart part) {
        if (!claim.held()) {
            return;
        }
        try {
            claims.delete(key);
            LOG.info("chat {} reply {} part {} not sent (stopping); claim released for the next instance",
                    part.chatId(), part.replyId(), part.seq());
        } catch (RuntimeException e) {
            claimStoreErrors.incrementAndGet();
            LOG.warn("cannot release the claim {} ({}); the next instance will report the part FAILED", key,
                    e.toString());
        }
    }

    private void showTypingFor(ReplyPart part, Duration total) throws InterruptedException {
        Duration left = total;
        while (left.compareTo(Duration.ZERO) > 0) {
            sendTypingAction(part);
            Duration step = left.compareTo(TYPING_REFRESH) > 0 ? TYPING_REFRESH : left;
            pause.pause(step);
            left = left.minus(step);
        }
    }

    private void sendTypingAction(ReplyPart part) throws InterruptedException {
        CompletableFuture<Boolean> call = null;
        try {
            call = telegram.executeAsync(SendChatAction.builder().chatId(part.chatId())
                    .action(ActionType.TYPING.toString()).build());
            call.get(TYPING_CALL_LIMIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TelegramApiException | ExecutionException | TimeoutException e) {
            // The indicator is cosmetic; a failure must not hold the message back.
            LOG.debug("chat {} typing action failed: {}", part.chatId(), token.describe(e));
            if (call != null) {
                call.cancel(true);
            }
        }
    }

    /** One attempt's result: sent, worth another attempt after a wait, or final. */
    private record Attempt(Message sent, Duration retryAfter, String error) {
        static Attempt sent(Message message) {
            return new Attempt(message, null, null);
        }

        static Attempt retry(Duration wait, String error) {
            return new Attempt(null, wait, error);
        }

        static Attempt failed(String error) {
            return new Attempt(null, null, error);
        }
    }

    private Delivery sendMessage(ReplyPart part) throws InterruptedException {
        Duration backoff = FIRST_BACKOFF;
        String lastError = "no attempt made";
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            Attempt result = attemptSend(part, backoff);
            if (result.sent() != null) {
                LOG.debug("chat {} reply {} part {} sent as message {}", part.chatId(), part.replyId(), part.seq(),
                        result.sent().getMessageId());
                return Delivery.sent(part, result.sent().getMessageId(), clock.millis());
            }
            lastError = result.error();
            if (result.retryAfter() == null) {
                LOG.warn("chat {} reply {} part {} not sent: {}", part.chatId(), part.replyId(), part.seq(), lastError);
                return Delivery.failed(part, lastError, clock.millis());
            }
            if (attempt < maxAttempts) {
                LOG.warn("chat {} reply {} part {} attempt {} of {} not taken ({}); retrying in {} ms", part.chatId(),
                        part.replyId(), part.seq(), attempt, maxAttempts, lastError, result.retryAfter().toMillis());
                pause.pause(result.retryAfter());
                backoff = min(backoff.multipliedBy(2), MAX_BACKOFF);
            }
        }
        LOG.warn("chat {} reply {} part {} not sent after {} attempts: {}", part.chatId(), part.replyId(), part.seq(),
                maxAttempts, lastError);
        return Delivery.failed(part, "gave up after " + maxAttempts + " attempts: " + lastError, clock.millis());
    }

    private Attempt attemptSend(ReplyPart part, Duration backoff) {
        CompletableFuture<Message> call;
        try {
            call = telegram.executeAsync(SendMessage.builder().chatId(part.chatId()).text(part.text()).build());
        } catch (TelegramApiException e) {
            // TelegramBots refused to build the request (validation): nothing left, and nothing will change.
            return Attempt.failed("not sendable: " + token.describe(e));
        }
        try {
            return Attempt.sent(awaitInFlight(call));
        } catch (TimeoutException e) {
            call.cancel(true);
            return Attempt.failed("no answer from Telegram within " + IN_FLIGHT_LIMIT.toSeconds()
                    + " s; may have been sent, not retried");
        } catch (ExecutionException e) {
            return classify(e.getCause(), backoff);
        }
    }

    /** Waits for a request already on the wire, even through an interrupt, which it restores afterwards. */
    private static Message awaitInFlight(CompletableFuture<Message> call) throws ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + IN_FLIGHT_LIMIT.toNanos();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return call.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    // Abandoning the request would not stop it; it would only hide whether the person got it.
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private Attempt classify(Throwable failure, Duration backoff) {
        if (failure instanceof TelegramApiRequestException e) {
            int code = e.getErrorCode() == null ? 0 : e.getErrorCode();
            String error = code + " " + token.redact(e.getApiResponse() == null ? e.getMessage() : e.getApiResponse());
            if (code == 429) {
                Integer retryAfter = e.getParameters() == null ? null : e.getParameters().getRetryAfter();
                return Attempt.retry(retryAfter == null ? backoff : Duration.ofSeconds(retryAfter), error);
            }
            if (code >= 500) {
                return Attempt.retry(backoff, error);
            }
            if (code >= 400) {
                return Attempt.failed(error);
            }
            // An answer without an error code: Telegram may have taken the message.
            return Attempt.failed("unreadable answer from Telegram (" + error + "); may have been sent, not retried");
        }
        if (neverConnected(failure)) {
            return Attempt.retry(backoff, token.describe(failure));
        }
        return Attempt.failed("no answer from Telegram (" + token.describe(failure) + "); may have been sent, not retried");
    }

    /** True when the request certainly never reached Telegram. */
    private static boolean neverConnected(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof ConnectException || t instanceof UnknownHostException
                    || t instanceof NoRouteToHostException) {
                return true;
            }
            if (!(t instanceof IOException) && !(t instanceof TelegramApiException)) {
                return false;
            }
        }
        return false;
    }


    private static Duration min(Duration a, Duration b) {
        return a.compareTo(b) <= 0 ? a : b;
    }
}
