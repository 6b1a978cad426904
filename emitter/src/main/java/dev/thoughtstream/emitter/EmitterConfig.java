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
 *
 * <p>Lanes, limits and modes:
 *
 * @param sendThreads        {@code EMITTER_SEND_THREADS}: threads for the blocking calls (Telegram, Redis); no
 *                           thread ever waits for a chat's delay, so this bounds only concurrent requests
 * @param maxBuffered        {@code EMITTER_MAX_BUFFERED}: parts held (queued, waiting, sending) before the consumer
 *                           pauses its partitions; it resumes at half
 * @param redisMode          {@code EMITTER_REDIS_MODE}: {@code fail-open} (send without a claim, counted) or
 *                           {@code fail-closed} (hold the chat's lane and retry until Redis answers)
 * @param chatRatePerSecond  {@code EMITTER_CHAT_RATE_PER_S}: messages per second into one chat (token bucket
 *                           refill; 0 = no limit)
 * @param chatBurst          {@code EMITTER_CHAT_BURST}: the chat bucket's capacity, i.e. the burst tolerated
 * @param groupRatePerMinute {@code EMITTER_GROUP_RATE_PER_MIN}: messages into one group chat (id &lt; 0) in any
 *                           minute (0 = no limit)
 * @param globalRatePerSecond {@code EMITTER_GLOBAL_RATE_PER_S}: messages of the whole bot in any second (0 = no
 *                           limit); per instance, so divide it between instances
 * @param parseMode          {@code EMITTER_PARSE_MODE}: none (default) | MarkdownV2 | HTML | Markdown; a text
 *                           Telegram cannot parse is resent once as plain text
 * @param dryRun             {@code EMITTER_DRY_RUN}: record what would be sent instead of calling Telegram (replays)
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
        int sendThreads,
        int maxBuffered,
        RedisMode redisMode,
        double chatRatePerSecond,
        int chatBurst,
        int groupRatePerMinute,
        int globalRatePerSecond,
        TelegramMessageSender.ParseMode parseMode,
        boolean dryRun) {

    /** What a chat's lane does when Redis cannot be asked about a claim. */
    public enum RedisMode {
        /** Send anyway, without protection against a duplicate, and count it. */
        FAIL_OPEN,
        /** Hold the chat's lane and ask again with backoff until Redis answers. */
        FAIL_CLOSED
    }

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
                config.integer("EMITTER_SEND_THREADS", 8, 1, 256),
                config.integer("EMITTER_MAX_BUFFERED", 1_000, 1, 1_000_000),
                config.enumValue("EMITTER_REDIS_MODE", RedisMode.class, RedisMode.FAIL_OPEN),
                config.decimal("EMITTER_CHAT_RATE_PER_S", 1, 0, 1_000),
                config.integer("EMITTER_CHAT_BURST", 3, 1, 1_000),
                config.integer("EMITTER_GROUP_RATE_PER_MIN", 20, 0, 60_000),
                config.integer("EMITTER_GLOBAL_RATE_PER_S", 30, 0, 100_000),
                config.enumValue("EMITTER_PARSE_MODE", TelegramMessageSender.ParseMode.class,
                        TelegramMessageSender.ParseMode.NONE),
                config.bool("EMITTER_DRY_RUN", false));
    }
}
