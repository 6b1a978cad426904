package dev.thoughtstream.emitter.telegram;

import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.telegram.ChatCommand;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.meta.api.methods.commands.SetMyCommands;
import org.telegram.telegrambots.meta.api.objects.commands.BotCommand;
import org.telegram.telegrambots.meta.exceptions.TelegramApiException;
import org.telegram.telegrambots.meta.generics.TelegramClient;

/**
 * Registers the bot's command list with Telegram ({@code setMyCommands}), so that clients offer it in the
 * command menu. The list is common's {@link ChatCommand}, which the chunker answers; the emitter registers it
 * because it is the service that owns the Telegram client.
 *
 * <p>Registration is cosmetic: the commands work without it. So a failure is logged (without the token) and
 * nothing else happens; the next start tries again.
 */
public final class BotCommands {
    private static final Logger LOG = LoggerFactory.getLogger(BotCommands.class);

    /** The commands and the descriptions Telegram shows next to them. */
    public static final List<BotCommand> COMMANDS = Arrays.stream(ChatCommand.values())
            .map(c -> new BotCommand(c.commandName(), c.description()))
            .toList();

    private BotCommands() {}

    /**
     * Sends {@code setMyCommands} without blocking. The result completes with true once Telegram accepted the
     * list, and with false on any failure (logged, token redacted); it never completes exceptionally.
     */
    public static CompletableFuture<Boolean> register(TelegramClient telegram, Secret token) {
        CompletableFuture<Boolean> call;
        try {
            call = telegram.executeAsync(
                    SetMyCommands.builder().commands(COMMANDS).build());
        } catch (TelegramApiException | RuntimeException e) {
            LOG.warn("cannot register the bot's commands with Telegram: {}", token.describe(e));
            return CompletableFuture.completedFuture(false);
        }
        return call.handle((accepted, failure) -> {
            if (failure != null) {
                LOG.warn("cannot register the bot's commands with Telegram: {}", token.describe(failure));
                return false;
            }
            if (!Boolean.TRUE.equals(accepted)) {
                LOG.warn("Telegram answered {} to setMyCommands; the command menu may be out of date", accepted);
                return false;
            }
            LOG.info(
                    "registered the bot's commands with Telegram: {}",
                    COMMANDS.stream().map(c -> "/" + c.getCommand()).toList());
            return true;
        });
    }
}
