package dev.thoughtstream.emitter;

import dev.thoughtstream.common.config.Secret;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.api.methods.ActionType;
import org.telegram.telegrambots.meta.api.methods.send.SendChatAction;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.objects.message.Message;
import org.telegram.telegrambots.meta.exceptions.TelegramApiException;
import org.telegram.telegrambots.meta.exceptions.TelegramApiRequestException;
import org.telegram.telegrambots.meta.exceptions.TelegramApiValidationException;
import org.telegram.telegrambots.meta.generics.TelegramClient;

/**
 * INTERIM: the walking skeleton's TelegramBots calls and error classification, moved behind {@link MessageSender}
 * so that the lanes can be built and tested before the emitter-send branch's {@code TelegramMessageSender} (parse
 * mode, plain-text fallback, metrics) is merged; {@link MessageSenders} then uses that one and this class goes.
 * Plain text only.
 */
final class InterimTelegramSender implements MessageSender {
    private static final Logger LOG = LoggerFactory.getLogger(InterimTelegramSender.class);

    private final TelegramClient telegram;
    private final Secret token;

    InterimTelegramSender(TelegramClient telegram, Secret token) {
        this.telegram = telegram;
        this.token = token;
    }

    @Override
    public SendResult send(long chatId, String text) {
        Message message;
        try {
            message = telegram.execute(SendMessage.builder().chatId(chatId).text(text).build());
        } catch (TelegramApiRequestException e) {
            return classify(e);
        } catch (TelegramApiValidationException e) {
            // TelegramBots refused to build the request: nothing left, and nothing will change.
            return new Rejected(400, "not sendable: " + token.describe(e));
        } catch (TelegramApiException | RuntimeException e) {
            return neverConnected(e) ? new Retryable(token.describe(e)) : new Unknown(token.describe(e));
        }
        if (message == null || message.getMessageId() == null) {
            return new Unknown("an answer without a message id");
        }
        return new Sent(message.getMessageId());
    }

    private SendResult classify(TelegramApiRequestException e) {
        int code = e.getErrorCode() == null ? 0 : e.getErrorCode();
        String description = token.redact(e.getApiResponse() == null ? String.valueOf(e.getMessage())
                : e.getApiResponse());
        if (code == 429) {
            Integer retryAfter = e.getParameters() == null ? null : e.getParameters().getRetryAfter();
            return new RateLimited(Duration.ofSeconds(retryAfter == null ? 1 : Math.max(1, retryAfter)));
        }
        if (code >= 500) {
            return new Retryable(code + " " + description);
        }
        if (code >= 400) {
            return new Rejected(code, description);
        }
        // An answer without an error code: Telegram may have taken the message.
        return new Unknown("unreadable answer (" + code + " " + description + ")");
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

    @Override
    public void typing(long chatId) {
        try {
            telegram.execute(SendChatAction.builder().chatId(chatId).action(ActionType.TYPING.toString()).build());
        } catch (TelegramApiException | RuntimeException e) {
            LOG.debug("chat {} typing action failed: {}", chatId, token.describe(e));
        }
    }
}
