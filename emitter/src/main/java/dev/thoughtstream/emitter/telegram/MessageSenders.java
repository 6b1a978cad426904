package dev.thoughtstream.emitter.telegram;

import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.emitter.EmitterConfig;
import dev.thoughtstream.emitter.Main;
import java.time.Clock;
import org.telegram.telegrambots.meta.generics.TelegramClient;

/**
 * The one place that decides how messages leave the emitter ({@code EMITTER_DRY_RUN}, {@code EMITTER_PARSE_MODE});
 * {@link Main}, devstack and the tests all get their {@link MessageSender} here.
 */
public final class MessageSenders {
    private MessageSenders() {}

    /** Telegram through {@code telegram}, or, in dry-run mode, a recorder that answers with synthetic ids. */
    public static MessageSender create(EmitterConfig config, TelegramClient telegram, Metrics metrics, Clock clock) {
        if (config.sending().dryRun()) {
            return new DryRunMessageSender(clock);
        }
        return new TelegramMessageSender(
                telegram, config.telegram().token(), config.sending().parseMode(), metrics);
    }
}
