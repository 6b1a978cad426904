package dev.thoughtstream.emitter;

import dev.thoughtstream.common.config.ConfigException;
import org.telegram.telegrambots.meta.generics.TelegramClient;

/**
 * The one place that decides how messages leave the emitter ({@code EMITTER_DRY_RUN}); {@link Main}, devstack and
 * the tests all get their {@link MessageSender} here.
 *
 * <p>Merge note for the emitter-send branch: {@code TelegramMessageSender} and {@code DryRunMessageSender} live
 * there. When the branches meet, {@link #create} returns them (the former in place of {@link InterimTelegramSender},
 * which is then deleted; the latter where dry-run is refused below), and nothing else changes.
 */
public final class MessageSenders {
    private MessageSenders() {}

    /**
     * The sender for {@code config}.
     *
     * @throws ConfigException naming {@code EMITTER_DRY_RUN} when dry-run is asked for: this build has no dry-run
     *                         sender
     */
    static MessageSender create(EmitterConfig config, TelegramClient telegram) {
        if (config.dryRun()) {
            throw new ConfigException("EMITTER_DRY_RUN", "dry-run sending is not available in this build");
        }
        return new InterimTelegramSender(telegram, config.telegram().token());
    }
}
