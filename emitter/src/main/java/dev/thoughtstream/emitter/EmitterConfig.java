package dev.thoughtstream.emitter;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.TelegramSettings;
import java.time.Duration;
import java.util.OptionalLong;

/**
 * The emitter's settings.
 *
 * @param telegram        {@code TG_BOT_TOKEN}, {@code TG_API_URL}
 * @param typingCps       {@code TYPING_CPS}: simulated typing speed, characters per second
 * @param typingMin       {@code TYPING_MIN_MS}: shortest typing delay before a part
 * @param typingMax       {@code TYPING_MAX_MS}: longest typing delay before a part
 * @param typingJitter    {@code TYPING_JITTER}: ± fraction of randomness on each delay (0 = none)
 * @param typingSeed      {@code TYPING_SEED}: seed for the jitter (tests); unset = random
 * @param readingPause    {@code READING_PAUSE_MS}: pause before the first part of a reply
 * @param claimTtl        {@code EMITTER_CLAIM_TTL_MS}: how long a part's claim/outcome is kept in Redis
 * @param maxSendAttempts {@code EMITTER_MAX_SEND_ATTEMPTS}: attempts for 5xx / network errors / 429
 * @param groupId         {@code EMITTER_GROUP_ID}: the consumer group
 * @param parseMode       {@code EMITTER_PARSE_MODE}: none (default) | MarkdownV2 | HTML | Markdown; a text Telegram
 *                        cannot parse is resent once as plain text
 * @param dryRun          {@code EMITTER_DRY_RUN}: record instead of calling Telegram (replays); default false
 */
public record EmitterConfig(
        TelegramSettings telegram,
        double typingCps,
        Duration typingMin,
        Duration typingMax,
        double typingJitter,
        OptionalLong typingSeed,
        Duration readingPause,
        Duration claimTtl,
        int maxSendAttempts,
        String groupId,
        // How messages go out: TelegramMessageSender, or DryRunMessageSender for replays.
        TelegramMessageSender.ParseMode parseMode,
        boolean dryRun) {

    public static EmitterConfig from(Config config) {
        Duration min = config.millis("TYPING_MIN_MS", 400, 0, 60_000);
        Duration max = config.millis("TYPING_MAX_MS", 4_000, 0, 120_000);
        if (max.compareTo(min) < 0) {
            throw new ConfigException("TYPING_MAX_MS", "must be >= TYPING_MIN_MS (" + min.toMillis() + ")");
        }
        return new EmitterConfig(
                TelegramSettings.from(config),
                config.decimal("TYPING_CPS", 30, 0.1, 100_000),
                min,
                max,
                config.decimal("TYPING_JITTER", 0.2, 0, 1),
                config.isSet("TYPING_SEED")
                        ? OptionalLong.of(config.longValue("TYPING_SEED", 0, Long.MIN_VALUE, Long.MAX_VALUE))
                        : OptionalLong.empty(),
                config.millis("READING_PAUSE_MS", 0, 0, 60_000),
                config.millis("EMITTER_CLAIM_TTL_MS", 7L * 24 * 60 * 60 * 1000, 60_000, 90L * 24 * 60 * 60 * 1000),
                config.integer("EMITTER_MAX_SEND_ATTEMPTS", 5, 1, 100),
                config.string("EMITTER_GROUP_ID", "thoughtstream-emitter"),
                // How messages go out: TelegramMessageSender, or DryRunMessageSender for replays.
                config.enumValue("EMITTER_PARSE_MODE", TelegramMessageSender.ParseMode.class,
                        TelegramMessageSender.ParseMode.NONE),
                config.bool("EMITTER_DRY_RUN", false));
    }
}
