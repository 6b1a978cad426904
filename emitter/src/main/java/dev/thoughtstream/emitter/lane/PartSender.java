package dev.thoughtstream.emitter.lane;

import dev.thoughtstream.common.config.RedisOutage;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.redis.ChatActivity;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.common.tracing.TraceAttributes;
import dev.thoughtstream.emitter.EmitterMetrics;
import dev.thoughtstream.emitter.pace.SendPacer;
import dev.thoughtstream.emitter.telegram.MessageSender;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The blocking steps of delivering one message of a part, each run on a send thread by {@link DeliveryLanes}, which
 * does all the waiting: the staleness check, the look-up of an earlier outcome, and one attempt (claim, send,
 * record). The claim in Redis right before the send and the record after it keep a message from reaching the person
 * twice across crashes and rebalances; a claim found unconfirmed is reported FAILED rather than risked twice. What
 * each claim state means, and what happens while Redis is away ({@code EMITTER_REDIS_OUTAGE}): docs/emitter.md
 * ("Delivery semantics").
 */
public final class PartSender {
    private static final Logger LOG = LoggerFactory.getLogger(PartSender.class);

    private final MessageSender telegram;
    private final ClaimStore claims;
    private final ChatActivity activity;
    private final RedisOutage redisOutage;
    private final Duration claimTtl;
    private final String instanceId;
    private final EmitterMetrics metrics;
    /** Each Telegram send is a span, a child of the part's (the context current on the send thread). */
    private final StageTracer tracer;

    static final AttributeKey<String> METHOD = AttributeKey.stringKey("telegram.method");
    static final AttributeKey<String> DELIVERY_KEY = AttributeKey.stringKey("thoughtstream.delivery.key");
    static final AttributeKey<Long> TELEGRAM_MESSAGE_ID = AttributeKey.longKey("telegram.message_id");
    static final AttributeKey<Long> HTTP_STATUS = AttributeKey.longKey("http.response.status_code");

    public PartSender(
            MessageSender telegram,
            ClaimStore claims,
            ChatActivity activity,
            RedisOutage redisOutage,
            Duration claimTtl,
            String instanceId,
            EmitterMetrics metrics) {
        this(telegram, claims, activity, redisOutage, claimTtl, instanceId, metrics, StageTracer.noop());
    }

    public PartSender(
            MessageSender telegram,
            ClaimStore claims,
            ChatActivity activity,
            RedisOutage redisOutage,
            Duration claimTtl,
            String instanceId,
            EmitterMetrics metrics,
            StageTracer tracer) {
        this.tracer = tracer;
        this.telegram = telegram;
        this.claims = claims;
        this.activity = activity;
        this.redisOutage = redisOutage;
        this.claimTtl = claimTtl;
        this.instanceId = instanceId;
        this.metrics = metrics;
    }

    /** The claim store key of a part sent as one message (before the store's own prefix). */
    public static String claimKey(ReplyPart part) {
        return "emit:" + part.partKey();
    }

    /**
     * The key of message {@code index} of a part sent as {@code count} messages: the part's own key when it is one
     * message (so keys written before long parts were split stay valid), {@code emit:<replyId>#<seq>/<index>}
     * otherwise.
     */
    public static String claimKey(ReplyPart part, int index, int count) {
        return count == 1 ? claimKey(part) : claimKey(part) + "/" + index;
    }

    /** What an earlier attempt left under a key. */
    record Earlier(Delivery.Outcome outcome, Long messageId, String reason) {
        static Earlier parse(String state) {
            if (state.startsWith("sent:")) {
                try {
                    return new Earlier(Delivery.Outcome.SENT, Long.parseLong(state.substring("sent:".length())), null);
                } catch (NumberFormatException e) {
                    return new Earlier(
                            Delivery.Outcome.FAILED,
                            null,
                            "recorded as sent but the message id is unreadable: " + state);
                }
            }
            if (state.startsWith("failed:")) {
                return new Earlier(Delivery.Outcome.FAILED, null, state.substring("failed:".length()));
            }
            if (state.startsWith("dropped:")) {
                return new Earlier(Delivery.Outcome.DROPPED_STALE, null, state.substring("dropped:".length()));
            }
            return new Earlier(
                    Delivery.Outcome.FAILED,
                    null,
                    Delivery.MAYBE_SENT + "claimed but unconfirmed by " + state
                            + "; may have been sent, not resent to avoid a duplicate");
        }
    }

    /** The result of {@link #check}. */
    sealed interface Check permits Check.Stale, Check.Recorded, Check.Clear, Check.RedisDown {
        /** The chat has a newer user message. */
        record Stale(String reason) implements Check {}

        /** An earlier attempt left an outcome (or an unconfirmed claim). */
        record Recorded(Earlier earlier) implements Check {}

        /** Nothing known about the key: go ahead (type, then attempt). */
        record Clear() implements Check {}

        /** Redis did not answer and the mode is fail-closed: ask again later. */
        record RedisDown(String error) implements Check {}
    }

    /**
     * Before typing: is the part stale, or has an earlier attempt already dealt with this message? (So a redelivered
     * part that was sent before is reported without "typing..." and without a wait.)
     */
    Check check(ReplyPart part, String key) {
        Optional<String> stale = staleness(part);
        if (stale.isPresent()) {
            return new Check.Stale(stale.get());
        }
        Optional<String> state;
        try {
            state = claims.get(key);
        } catch (RuntimeException e) {
            metrics.redisError();
            if (redisOutage == RedisOutage.FAIL_CLOSED) {
                return new Check.RedisDown(e.toString());
            }
            LOG.debug(
                    "chat {} reply {} part {}: cannot look up {} ({}); going on (fail-open)",
                    part.chatId(),
                    part.replyId(),
                    part.seq(),
                    key,
                    e.toString());
            return new Check.Clear();
        }
        return state.<Check>map(s -> new Check.Recorded(Earlier.parse(s))).orElseGet(Check.Clear::new);
    }

    /**
     * Whether the chat has a user message newer than the one the part answers, with the reason when it does. A Redis
     * error counts as not stale (a reply delivered late beats a reply lost), and is counted.
     */
    Optional<String> staleness(ReplyPart part) {
        try {
            if (activity.isSuperseded(part.chatId(), part.lastMessageId())) {
                OptionalLong newest = activity.newest(part.chatId());
                return Optional.of(staleReason(part, newest.isPresent() ? newest.getAsLong() : -1));
            }
            return Optional.empty();
        } catch (RuntimeException e) {
            metrics.redisError();
            LOG.debug(
                    "chat {}: staleness unknown ({}); treating reply {} as current",
                    part.chatId(),
                    e.toString(),
                    part.replyId());
            return Optional.empty();
        }
    }

    static String staleReason(ReplyPart part, long newerMessageId) {
        return "stale: chat " + part.chatId() + " has newer message " + newerMessageId + " (the reply answers up to "
                + part.lastMessageId() + ")";
    }

    /** The result of {@link #attempt}. */
    sealed interface Attempt
            permits Attempt.Stale, Attempt.Recorded, Attempt.RedisDown, Attempt.Sent, Attempt.Again, Attempt.Failed {
        /** Not sent: the chat has a newer user message. */
        record Stale(String reason) implements Attempt {}

        /** Not sent: the claim was taken, and this is what its holder left. */
        record Recorded(Earlier earlier) implements Attempt {}

        /** Not sent: Redis did not answer and the mode is fail-closed. */
        record RedisDown(String error) implements Attempt {}

        /** Sent, and recorded (unless Redis failed). */
        record Sent(long messageId) implements Attempt {}

        /** Not taken by Telegram; the claim is released. {@code retryAfter} is Telegram's (429), else null. */
        record Again(Duration retryAfter, String reason) implements Attempt {}

        /** Final failure, recorded: Telegram refused it, or its fate is unknown. */
        record Failed(String reason) implements Attempt {}
    }

    /**
     * One attempt at message {@code text} of {@code part} under {@code key}: a last staleness check, the claim, the
     * send, the record. {@code permit} is released as soon as Telegram has answered (or at once when nothing is sent).
     *
     * @param notifiedStale a reason when the lane learned meanwhile that the part is stale, else null
     */
    Attempt attempt(ReplyPart part, String key, String text, SendPacer.Permit permit, String notifiedStale) {
        boolean reached = false;
        try {
            String stale =
                    notifiedStale != null ? notifiedStale : staleness(part).orElse(null);
            if (stale != null) {
                return new Attempt.Stale(stale);
            }
            Claim claim = claim(key, part);
            if (claim.redisDown() != null) {
                return new Attempt.RedisDown(claim.redisDown());
            }
            if (claim.earlier() != null) {
                return new Attempt.Recorded(claim.earlier());
            }
            MessageSender.SendResult result;
            reached = true;
            Span span = sendSpan(part, key);
            try {
                result = telegram.send(part.chatId(), text);
                endSendSpan(span, result);
            } catch (RuntimeException e) {
                span.setStatus(
                        StatusCode.ERROR, "sender failed: " + e.getClass().getSimpleName());
                span.end();
                // The contract says send() does not throw; if it does, nobody knows whether the message went out.
                LOG.error(
                        "chat {} reply {} part {}: the message sender failed",
                        part.chatId(),
                        part.replyId(),
                        part.seq(),
                        e);
                result = new MessageSender.Unknown(
                        "sender failed: " + e.getClass().getSimpleName());
            }
            permit.release(true);
            return settle(part, key, claim, result);
        } finally {
            permit.release(reached);
        }
    }

    /**
     * The span of one sendMessage: the method, the chat, the part and which of its messages (its delivery key);
     * never the token, the URL that holds it, or the text.
     */
    private Span sendSpan(ReplyPart part, String key) {
        return tracer.span("telegram sendMessage")
                .setSpanKind(SpanKind.CLIENT)
                .setAttribute(METHOD, "sendMessage")
                .setAttribute(TraceAttributes.CHAT_ID, part.chatId())
                .setAttribute(TraceAttributes.REPLY_ID, part.replyId())
                .setAttribute(TraceAttributes.PART_SEQ, part.seq())
                .setAttribute(DELIVERY_KEY, key)
                .startSpan();
    }

    /** Ends the send's span with what Telegram said: sent (its message id), rate limited, retryable, rejected, unknown. */
    private static void endSendSpan(Span span, MessageSender.SendResult result) {
        if (!span.isRecording()) {
            span.end();
            return;
        }
        String outcome;
        if (result instanceof MessageSender.Sent sent) {
            outcome = "sent";
            span.setAttribute(TELEGRAM_MESSAGE_ID, sent.messageId());
        } else if (result instanceof MessageSender.RateLimited limited) {
            outcome = "rate_limited";
            span.setAttribute(HTTP_STATUS, 429L);
            span.setAttribute("telegram.retry_after_s", limited.retryAfter().toSeconds());
        } else if (result instanceof MessageSender.Retryable) {
            outcome = "retryable";
        } else if (result instanceof MessageSender.Rejected rejected) {
            outcome = "rejected";
            span.setAttribute(HTTP_STATUS, (long) rejected.status());
        } else {
            outcome = "unknown";
        }
        span.setAttribute(TraceAttributes.OUTCOME, outcome);
        if (!(result instanceof MessageSender.Sent)) {
            span.setStatus(StatusCode.ERROR, outcome);
        }
        span.end();
    }

    private Attempt settle(ReplyPart part, String key, Claim claim, MessageSender.SendResult result) {
        if (result instanceof MessageSender.Sent sent) {
            if (!claim.held()) {
                metrics.sentWithoutClaim();
            }
            record(key, "sent:" + sent.messageId(), claim, part);
            return new Attempt.Sent(sent.messageId());
        }
        if (result instanceof MessageSender.RateLimited limited) {
            release(key, claim, part);
            return new Attempt.Again(
                    limited.retryAfter(),
                    "429 Too Many Requests: retry after " + limited.retryAfter().toSeconds() + " s");
        }
        if (result instanceof MessageSender.Retryable retryable) {
            release(key, claim, part);
            return new Attempt.Again(null, retryable.reason());
        }
        String reason;
        if (result instanceof MessageSender.Rejected rejected) {
            String text = String.valueOf(rejected.reason());
            reason = text.startsWith(Integer.toString(rejected.status())) ? text : rejected.status() + " " + text;
        } else if (result instanceof MessageSender.Unknown unknown) {
            reason = Delivery.MAYBE_SENT + unknown.reason() + ", not resent to avoid a duplicate";
        } else {
            reason = "unexpected send result " + result;
        }
        record(key, "failed:" + reason, claim, part);
        return new Attempt.Failed(reason);
    }

    /** Shows "typing..." in the chat; cosmetic, so nothing it does can fail the part. */
    void typing(long chatId) {
        try {
            telegram.typing(chatId);
        } catch (RuntimeException e) {
            LOG.debug("chat {} typing action failed: {}", chatId, e.toString());
        }
    }

    /** Whether this attempt owns the key, or what holds it, or that Redis cannot tell (fail-closed). */
    private record Claim(boolean held, Earlier earlier, String redisDown) {
        static final Claim HELD = new Claim(true, null, null);
        static final Claim UNPROTECTED = new Claim(false, null, null);
    }

    private Claim claim(String key, ReplyPart part) {
        // Twice: the key may expire between a lost claim and the look-up of its state.
        for (int round = 0; round < 2; round++) {
            boolean won;
            try {
                won = claims.claim(key, "sending:" + instanceId, claimTtl);
            } catch (RuntimeException e) {
                metrics.redisError();
                if (redisOutage == RedisOutage.FAIL_CLOSED) {
                    LOG.warn(
                            "claim store unavailable ({}); chat {} reply {} part {} waits for it (fail-closed)",
                            e.toString(),
                            part.chatId(),
                            part.replyId(),
                            part.seq());
                    return new Claim(false, null, e.toString());
                }
                // Fail-open: an unreachable Redis must not silence the bot; counted, so it shows.
                LOG.warn(
                        "claim store unavailable ({}); sending chat {} reply {} part {} without a claim (fail-open)",
                        e.toString(),
                        part.chatId(),
                        part.replyId(),
                        part.seq());
                return Claim.UNPROTECTED;
            }
            if (won) {
                return Claim.HELD;
            }
            Optional<String> state;
            try {
                state = claims.get(key);
            } catch (RuntimeException e) {
                metrics.redisError();
                if (redisOutage == RedisOutage.FAIL_CLOSED) {
                    return new Claim(false, null, e.toString());
                }
                // Someone holds the key; not knowing its state is no licence to send.
                LOG.warn(
                        "chat {} reply {} part {} is claimed but its state cannot be read ({}); not sending",
                        part.chatId(),
                        part.replyId(),
                        part.seq(),
                        e.toString());
                return new Claim(
                        false,
                        new Earlier(
                                Delivery.Outcome.FAILED,
                                null,
                                "claimed elsewhere, state unreadable: " + e.getMessage()),
                        null);
            }
            if (state.isPresent()) {
                Earlier earlier = Earlier.parse(state.get());
                LOG.info(
                        "chat {} reply {} part {}: {} holds {}; not sending",
                        part.chatId(),
                        part.replyId(),
                        part.seq(),
                        key,
                        state.get());
                return new Claim(false, earlier, null);
            }
        }
        return new Claim(
                false, new Earlier(Delivery.Outcome.FAILED, null, "claim kept changing hands; not sent"), null);
    }

    private void record(String key, String value, Claim claim, ReplyPart part) {
        try {
            claims.put(key, value, claimTtl);
        } catch (RuntimeException e) {
            metrics.redisError();
            LOG.warn(
                    "chat {} reply {} part {}: cannot record {} under {} ({}); a redelivery {}",
                    part.chatId(),
                    part.replyId(),
                    part.seq(),
                    value,
                    key,
                    e.toString(),
                    claim.held()
                            ? "will find it unconfirmed and not resend it"
                            : "finds no claim either and may send it again");
        }
    }

    private void release(String key, Claim claim, ReplyPart part) {
        if (!claim.held()) {
            return;
        }
        try {
            claims.delete(key);
        } catch (RuntimeException e) {
            metrics.redisError();
            LOG.warn(
                    "chat {} reply {} part {}: cannot release the claim {} ({}); a retry will find it unconfirmed "
                            + "and report the part FAILED",
                    part.chatId(),
                    part.replyId(),
                    part.seq(),
                    key,
                    e.toString());
        }
    }
}
