package dev.thoughtstream.emitter;

import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.redis.ClaimStore;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
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
 * Sends one reply part like a person: "typing..." for a while, then the message, exactly once.
 *
 * <p>Exactly once toward the person: the part is claimed in Redis ({@code SET NX}) before anything is sent and
 * the Telegram message id recorded after. A part found already SENT is not sent again (its outcome is
 * re-reported, so a crash between send and report still lets the bot's words reach the context). A part found
 * claimed but unconfirmed belongs to an attempt that died mid-send: it may or may not have reached the person,
 * and we prefer a missing bubble to a doubled one, so it is reported FAILED and not resent.
 */
final class PartSender {
    private static final Logger LOG = LoggerFactory.getLogger(PartSender.class);
    /** Telegram clears the typing indicator after 5 s; refresh it a little before. */
    static final Duration TYPING_REFRESH = Duration.ofSeconds(4);

    private final TelegramClient telegram;
    private final ClaimStore claims;
    private final TypingDelay typing;
    private final Pause pause;
    private final Clock clock;
    private final Duration claimTtl;
    private final int maxAttempts;
    private final String instanceId;
    private final Secret token;

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

    /** Delivers {@code part} and returns its outcome. */
    Delivery send(ReplyPart part, Duration extraPauseBefore) throws InterruptedException {
        String key = "emit:" + part.partKey();
        Optional<Delivery> earlier = claim(key, part);
        if (earlier.isPresent()) {
            return earlier.get();
        }
        showTypingFor(part, extraPauseBefore.plus(typing.forText(part.text())));
        Delivery outcome = sendMessage(part);
        record(key, outcome);
        return outcome;
    }

    private Optional<Delivery> claim(String key, ReplyPart part) {
        try {
            if (claims.claim(key, "sending:" + instanceId, claimTtl)) {
                return Optional.empty();
            }
            String state = claims.get(key).orElse("");
            if (state.startsWith("sent:")) {
                LOG.info("chat {} reply {} part {} was already sent; not sending it again", part.chatId(),
                        part.replyId(), part.seq());
                return Optional.of(Delivery.sent(part, Long.parseLong(state.substring("sent:".length())), clock.millis()));
            }
            if (state.startsWith("failed:")) {
                return Optional.of(Delivery.failed(part, state.substring("failed:".length()), clock.millis()));
            }
            LOG.warn("chat {} reply {} part {} was claimed by an attempt that never confirmed ({}); not resending",
                    part.chatId(), part.replyId(), part.seq(), state);
            return Optional.of(Delivery.failed(part, "claimed but unconfirmed by " + state
                    + "; may have been sent, not resent to avoid a duplicate", clock.millis()));
        } catch (RuntimeException e) {
            // Fail-open: an unreachable Redis must not silence the bot (issue 5 makes this configurable).
            LOG.warn("claim store unavailable ({}); sending chat {} reply {} part {} without a claim",
                    e.toString(), part.chatId(), part.replyId(), part.seq());
            return Optional.empty();
        }
    }

    private void record(String key, Delivery outcome) {
        String value = switch (outcome.outcome()) {
            case SENT -> "sent:" + outcome.telegramMessageId();
            case FAILED -> "failed:" + outcome.reason();
            case DROPPED_STALE -> "dropped:" + outcome.reason();
        };
        try {
            claims.put(key, value, claimTtl);
        } catch (RuntimeException e) {
            LOG.warn("cannot record the outcome of {} ({}); a redelivery may send it again", key, e.toString());
        }
    }

    private void showTypingFor(ReplyPart part, Duration total) throws InterruptedException {
        Duration left = total;
        while (left.compareTo(Duration.ZERO) > 0) {
            try {
                telegram.execute(SendChatAction.builder().chatId(part.chatId()).action(ActionType.TYPING.toString()).build());
            } catch (TelegramApiException e) {
                // The indicator is cosmetic; a failure must not hold the message back.
                LOG.debug("chat {} typing action failed: {}", part.chatId(), token.redact(e.toString()));
            }
            Duration step = left.compareTo(TYPING_REFRESH) > 0 ? TYPING_REFRESH : left;
            pause.pause(step);
            left = left.minus(step);
        }
    }

    private Delivery sendMessage(ReplyPart part) throws InterruptedException {
        long backoffMs = 500;
        String lastError = "no attempt made";
        for (int attempt = 1; attempt <= maxAttempts; attempt++) {
            try {
                Message sent = telegram.execute(SendMessage.builder().chatId(part.chatId()).text(part.text()).build());
                LOG.debug("chat {} reply {} part {} sent as message {}", part.chatId(), part.replyId(), part.seq(),
                        sent.getMessageId());
                return Delivery.sent(part, sent.getMessageId(), clock.millis());
            } catch (TelegramApiRequestException e) {
                int code = e.getErrorCode() == null ? 0 : e.getErrorCode();
                lastError = code + " " + token.redact(e.getApiResponse() == null ? e.getMessage() : e.getApiResponse());
                if (code == 429) {
                    Integer retryAfter = e.getParameters() == null ? null : e.getParameters().getRetryAfter();
                    long waitMs = retryAfter == null ? backoffMs : retryAfter * 1000L;
                    LOG.warn("chat {} rate-limited by Telegram; retrying reply {} part {} in {} ms", part.chatId(),
                            part.replyId(), part.seq(), waitMs);
                    pause.pause(Duration.ofMillis(waitMs));
                } else if (code >= 500 || code == 0) {
                    pause.pause(Duration.ofMillis(backoffMs));
                    backoffMs = Math.min(backoffMs * 2, 30_000);
                } else {
                    LOG.warn("chat {} reply {} part {} rejected by Telegram: {}", part.chatId(), part.replyId(),
                            part.seq(), lastError);
                    return Delivery.failed(part, lastError, clock.millis());
                }
            } catch (TelegramApiException e) {
                lastError = token.redact(e.toString());
                LOG.warn("chat {} reply {} part {} send attempt {} failed: {}", part.chatId(), part.replyId(),
                        part.seq(), attempt, lastError);
                pause.pause(Duration.ofMillis(backoffMs));
                backoffMs = Math.min(backoffMs * 2, 30_000);
            }
        }
        return Delivery.failed(part, "gave up after " + maxAttempts + " attempts: " + lastError, clock.millis());
    }
}
