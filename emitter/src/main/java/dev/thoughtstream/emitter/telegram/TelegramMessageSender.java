package dev.thoughtstream.emitter.telegram;

import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.metrics.Metrics;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
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
 * {@link MessageSender} over TelegramBots' {@link TelegramClient}: one {@code sendMessage} (two when a formatted
 * text is refused and resent as plain text), classified into a {@link SendResult} by one question: can Telegram
 * have taken the message? Only what certainly did not arrive may be retried ({@link Retryable}, {@link RateLimited});
 * what may have arrived is {@link Unknown}. No sleeping, no retrying: that is the caller's lane's business. A
 * {@code sendMessage} on the wire is seen through an interrupt (the flag is restored), and the bot token never
 * reaches a reason or a log line ({@link Secret}). The classification table, the parse-mode fallback and the
 * metrics: docs/emitter.md ("Sending one message").
 */
public final class TelegramMessageSender implements MessageSender {
    private static final Logger LOG = LoggerFactory.getLogger(TelegramMessageSender.class);

    /** {@link Rejected#status()} of a request that never left: TelegramBots (or OkHttp) refused to build it. */
    public static final int NOT_SENT_STATUS = 0;
    /** Longer than OkHttp's own timeouts; only a client without timeouts could reach it. */
    static final Duration IN_FLIGHT_LIMIT = Duration.ofSeconds(90);
    /** How long {@link #typing} waits for Telegram's answer before going on; the indicator is cosmetic. */
    static final Duration TYPING_WAIT = Duration.ofSeconds(2);

    static final String SEND_MESSAGE = "sendMessage";
    static final String SEND_CHAT_ACTION = "sendChatAction";
    static final String CALLS = "emitter_telegram_calls_total";
    static final String CALL_SECONDS = "emitter_telegram_call_seconds";
    static final String FALLBACKS = "emitter_plain_text_fallbacks_total";

    /** {@code EMITTER_PARSE_MODE}: how Telegram reads the text; {@link #NONE} sends it as it is. */
    public enum ParseMode {
        NONE(null),
        MARKDOWNV2("MarkdownV2"),
        HTML("HTML"),
        MARKDOWN("Markdown");

        private final String telegramName;

        ParseMode(String telegramName) {
            this.telegramName = telegramName;
        }

        /** The {@code parse_mode} value sent to Telegram; null for none. */
        public String telegramName() {
            return telegramName;
        }
    }

    /** The {@code result} label of {@value #CALLS}. */
    enum Result {
        SENT,
        RATE_LIMITED,
        RETRYABLE,
        REJECTED,
        UNKNOWN;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        static Result of(SendResult result) {
            if (result instanceof Sent) {
                return SENT;
            }
            if (result instanceof RateLimited) {
                return RATE_LIMITED;
            }
            if (result instanceof Retryable) {
                return RETRYABLE;
            }
            if (result instanceof Rejected) {
                return REJECTED;
            }
            return UNKNOWN;
        }
    }

    private final TelegramClient telegram;
    private final Secret token;
    private final ParseMode parseMode;
    private final Duration inFlightLimit;
    private final Duration typingWait;
    private final Map<String, Map<Result, Metrics.Counter>> calls = new HashMap<>();
    private final Map<String, Metrics.Timer> callSeconds = new HashMap<>();
    private final Metrics.Counter fallbacks;

    /**
     * @param telegram  TelegramBots' client (its OkHttp timeouts bound each exchange)
     * @param token     the bot token, only to keep it out of reasons and logs
     * @param parseMode {@code EMITTER_PARSE_MODE}
     * @param metrics   where {@value #CALLS}, {@value #CALL_SECONDS} and {@value #FALLBACKS} go
     */
    public TelegramMessageSender(TelegramClient telegram, Secret token, ParseMode parseMode, Metrics metrics) {
        this(telegram, token, parseMode, metrics, IN_FLIGHT_LIMIT, TYPING_WAIT);
    }

    TelegramMessageSender(
            TelegramClient telegram,
            Secret token,
            ParseMode parseMode,
            Metrics metrics,
            Duration inFlightLimit,
            Duration typingWait) {
        this.telegram = Objects.requireNonNull(telegram, "telegram");
        this.token = Objects.requireNonNull(token, "token");
        this.parseMode = Objects.requireNonNull(parseMode, "parseMode");
        this.inFlightLimit = positive(inFlightLimit, "inFlightLimit");
        this.typingWait = positive(typingWait, "typingWait");
        for (String method : new String[] {SEND_MESSAGE, SEND_CHAT_ACTION}) {
            Map<Result, Metrics.Counter> byResult = new EnumMap<>(Result.class);
            for (Result result : Result.values()) {
                byResult.put(
                        result,
                        metrics.counter(
                                CALLS,
                                "Telegram Bot API calls by method and result",
                                "method",
                                method,
                                "result",
                                result.label()));
            }
            calls.put(method, byResult);
            callSeconds.put(
                    method,
                    metrics.timer(CALL_SECONDS, "Telegram Bot API calls from request to answer", "method", method));
        }
        fallbacks = metrics.counter(
                FALLBACKS, "Formatted texts Telegram could not parse (400 can't parse entities), resent as plain text");
    }

    private static Duration positive(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive but was " + d);
        }
        return d;
    }

    /**
     * {@inheritDoc}
     *
     * <p>Not interruptible: an exchange on the wire is awaited through an interrupt (flag restored), and an
     * interrupt already pending on entry does not stop the send either; not sending is the caller's decision.
     */
    @Override
    public SendResult send(long chatId, String text) {
        if (parseMode == ParseMode.NONE) {
            return exchange(chatId, text, null);
        }
        SendResult formatted = exchange(chatId, text, parseMode.telegramName());
        if (!cannotParseEntities(formatted)) {
            return formatted;
        }
        fallbacks.increment();
        LOG.warn(
                "chat {}: Telegram cannot parse the text as {} ({}); resending it once as plain text",
                chatId,
                parseMode.telegramName(),
                ((Rejected) formatted).reason());
        return exchange(chatId, text, null);
    }

    private static boolean cannotParseEntities(SendResult result) {
        return result instanceof Rejected r
                && r.status() == 400
                && r.reason().toLowerCase(Locale.ROOT).contains("can't parse entities");
    }

    /** One sendMessage, from request to classified answer. */
    private SendResult exchange(long chatId, String text, String parseModeName) {
        CompletableFuture<Message> call;
        try {
            call = telegram.executeAsync(SendMessage.builder()
                    .chatId(chatId)
                    .text(text)
                    .parseMode(parseModeName)
                    .build());
        } catch (TelegramApiException | RuntimeException e) {
            // Refused before the network (validation, e.g. empty or missing text): nothing went out, nothing
            // will change on a retry.
            SendResult refused = new Rejected(NOT_SENT_STATUS, "not sendable: " + token.describe(e));
            count(SEND_MESSAGE, refused);
            LOG.debug("chat {} sendMessage refused before sending: {}", chatId, refused);
            return refused;
        }
        long start = System.nanoTime();
        SendResult result;
        try {
            Message sent = awaitInFlight(call, inFlightLimit);
            result = sent != null && sent.getMessageId() != null
                    ? new Sent(sent.getMessageId())
                    : new Unknown("Telegram answered without a message id; may have been sent");
        } catch (TimeoutException e) {
            result = new Unknown(
                    "no answer from Telegram within " + inFlightLimit.toSeconds() + " s; may have been sent");
        } catch (ExecutionException e) {
            result = classify(e.getCause(), token);
        }
        callSeconds.get(SEND_MESSAGE).record(Duration.ofNanos(System.nanoTime() - start));
        count(SEND_MESSAGE, result);
        LOG.debug("chat {} sendMessage{}: {}", chatId, parseModeName == null ? "" : " (" + parseModeName + ")", result);
        return result;
    }

    /** Waits for a request already on the wire, even through an interrupt, which it restores afterwards. */
    private static <T> T awaitInFlight(CompletableFuture<T> call, Duration limit)
            throws ExecutionException, TimeoutException {
        long deadline = System.nanoTime() + limit.toNanos();
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

    /** What a failed exchange means for the message; see the class comment. */
    static SendResult classify(Throwable failure, Secret token) {
        if (failure instanceof TelegramApiRequestException e) {
            int code = e.getErrorCode() == null ? 0 : e.getErrorCode();
            String error = code + " " + token.redact(e.getApiResponse() == null ? e.getMessage() : e.getApiResponse());
            if (code == 429) {
                Integer retryAfter =
                        e.getParameters() == null ? null : e.getParameters().getRetryAfter();
                // Without retry_after (Telegram always sends it) the caller's growing backoff is the safe wait.
                return retryAfter == null
                        ? new Retryable(error + " (without retry_after)")
                        : new RateLimited(Duration.ofSeconds(Math.max(0, retryAfter)));
            }
            if (code >= 500) {
                return passedOn(code)
                        ? new Unknown(error + "; the Bot API may have carried it out: may have been sent")
                        : new Retryable(error);
            }
            if (code >= 400) {
                return new Rejected(code, error);
            }
            // An answer without an error code (not JSON, yet not an error status GatewayErrors reshapes): Telegram
            // may have taken the message.
            return new Unknown("unreadable answer from Telegram (" + error + "); may have been sent");
        }
        if (neverConnected(failure)) {
            return new Retryable(token.describe(failure));
        }
        return new Unknown("no answer from Telegram (" + token.describe(failure) + "); may have been sent");
    }

    /**
     * Whether a 5xx may come after the Bot API server got the request. The Bot API server itself answers only 500 of
     * the 5xx (tdlib/telegram-bot-api, Client.cpp: {@code fail_query_with_error} turns every other code into 400), so
     * 502, 503 and 504 come from Telegram's front end, nginx (usually its {@code text/html} page, see
     * {@link GatewayErrors}). nginx answers 502 when it got no valid answer from the Bot API server (connection
     * refused or reset, a server restarting), 503 when it refused the request itself (limit_req, limit_conn), and
     * 504 when the Bot API server did not answer within nginx's proxy_read_timeout (nginx,
     * src/http/ngx_http_upstream.c, {@code ngx_http_upstream_next}: {@code NGX_HTTP_UPSTREAM_FT_TIMEOUT} is 504,
     * other upstream failures 502). Only the 504 says the Bot API server had the request and was still working on
     * it, and a sendMessage it was working on is usually sent: 504, and any 5xx we do not know, may have been sent.
     * A 502 after the server crashed mid-request could too, but that is rare next to restarts and overloads, and a
     * gateway blip must not drop a bubble; docs/emitter.md ("Sending one message") has the table.
     */
    static boolean passedOn(int status) {
        return status != 500 && status != 502 && status != 503;
    }

    /**
     * True when the request certainly never reached Telegram. OkHttp adds the failures of its own earlier
     * attempts of the same call as suppressed exceptions; one of those that may have reached Telegram makes the
     * whole call uncertain.
     */
    static boolean neverConnected(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            for (Throwable earlier : t.getSuppressed()) {
                if (!neverConnected(earlier)) {
                    return false;
                }
            }
            if (isConnectFailure(t)) {
                return true;
            }
            if (!(t instanceof IOException) && !(t instanceof TelegramApiException)) {
                return false;
            }
        }
        return false;
    }

    private static boolean isConnectFailure(Throwable t) {
        if (t instanceof ConnectException || t instanceof UnknownHostException || t instanceof NoRouteToHostException) {
            return true;
        }
        String message = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
        if (t instanceof SocketTimeoutException) {
            // The JDK's connect timeout: the TCP handshake never completed, so no byte of the request left.
            // Any other timeout (read, write, call) may come after Telegram got the request.
            return message.startsWith("connect timed out");
        }
        // OkHttp's dispatcher refused the call (its executor was shut down): it never left the process.
        return t instanceof InterruptedIOException && message.equals("executor rejected");
    }

    /**
     * Sends {@code sendChatAction(typing)} and waits for the answer at most {@code typingWait}; a slower answer
     * is still counted and logged when it comes. Failures are logged (token redacted), never thrown, never
     * retried.
     */
    @Override
    public void typing(long chatId) {
        CompletableFuture<Boolean> call;
        try {
            call = telegram.executeAsync(SendChatAction.builder()
                    .chatId(chatId)
                    .action(ActionType.TYPING.toString())
                    .build());
        } catch (TelegramApiException | RuntimeException e) {
            SendResult refused = new Rejected(NOT_SENT_STATUS, "not sendable: " + token.describe(e));
            count(SEND_CHAT_ACTION, refused);
            LOG.warn("chat {}: typing action not sent: {}", chatId, refused.toString());
            return;
        }
        long start = System.nanoTime();
        CompletableFuture<Void> handled = call.handle((accepted, failure) -> {
            callSeconds.get(SEND_CHAT_ACTION).record(Duration.ofNanos(System.nanoTime() - start));
            if (failure == null) {
                count(SEND_CHAT_ACTION, Result.SENT);
                return null;
            }
            SendResult result = classify(unwrap(failure), token);
            count(SEND_CHAT_ACTION, Result.of(result));
            // Cosmetic: the message itself does not depend on it.
            LOG.warn("chat {}: typing action failed: {}", chatId, result);
            return null;
        });
        try {
            handled.get(typingWait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            LOG.debug("chat {}: typing action not answered within {} ms; going on", chatId, typingWait.toMillis());
        } catch (ExecutionException e) {
            LOG.warn("chat {}: typing action outcome not recorded: {}", chatId, token.describe(e.getCause()));
        } catch (InterruptedException e) {
            // Nothing depends on the answer, so there is nothing to see through: stop waiting, keep the flag.
            Thread.currentThread().interrupt();
        }
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }

    private void count(String method, SendResult result) {
        count(method, Result.of(result));
    }

    private void count(String method, Result result) {
        calls.get(method).get(result).increment();
    }
}
