package dev.thoughtstream.emitter;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.RedisOutage;
import dev.thoughtstream.common.config.StageDefaults;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.emitter.telegram.TelegramMessageSender.ParseMode;
import java.time.Duration;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * The emitter's settings, read once at startup. Every value is validated here, so a bad variable stops the service
 * before it touches Kafka, with a {@link ConfigException} naming the variable. What each one does: docs/emitter.md
 * ("Configuration").
 *
 * @param telegram {@code TG_BOT_TOKEN}, {@code TG_API_URL}
 * @param typing   how "typing..." looks before each message
 * @param claims   at most once toward the person: claims, attempts, and what happens while Redis is away
 * @param limits   Telegram's flood limits, kept on our side
 * @param consumer how parts are read from Kafka
 * @param sending  how messages leave
 */
public record EmitterConfig(
        TelegramSettings telegram,
        Typing typing,
        Claims claims,
        RateLimits limits,
        Consumer consumer,
        Sending sending) {

    public static final String TYPING_CPS = "TYPING_CPS";
    public static final String TYPING_MIN_MS = "TYPING_MIN_MS";
    public static final String TYPING_MAX_MS = "TYPING_MAX_MS";
    public static final String TYPING_JITTER = "TYPING_JITTER";
    public static final String TYPING_SEED = "TYPING_SEED";
    public static final String READING_PAUSE_MS = "READING_PAUSE_MS";
    public static final String EMITTER_CLAIM_TTL_MS = "EMITTER_CLAIM_TTL_MS";
    public static final String EMITTER_MAX_SEND_ATTEMPTS = "EMITTER_MAX_SEND_ATTEMPTS";
    public static final String EMITTER_REDIS_OUTAGE = "EMITTER_REDIS_OUTAGE";
    /** The earlier name of {@link #EMITTER_REDIS_OUTAGE}, same values; still read, with a deprecation warning. */
    public static final String EMITTER_REDIS_MODE = "EMITTER_REDIS_MODE";

    public static final String EMITTER_CHAT_RATE_PER_S = "EMITTER_CHAT_RATE_PER_S";
    public static final String EMITTER_CHAT_BURST = "EMITTER_CHAT_BURST";
    public static final String EMITTER_GROUP_RATE_PER_MIN = "EMITTER_GROUP_RATE_PER_MIN";
    public static final String EMITTER_GLOBAL_RATE_PER_S = "EMITTER_GLOBAL_RATE_PER_S";
    public static final String EMITTER_LIMIT_INSTANCES = "EMITTER_LIMIT_INSTANCES";
    public static final String EMITTER_GROUP_ID = "EMITTER_GROUP_ID";
    public static final String EMITTER_MAX_BUFFERED = "EMITTER_MAX_BUFFERED";
    public static final String EMITTER_SEND_THREADS = "EMITTER_SEND_THREADS";
    public static final String EMITTER_PARSE_MODE = "EMITTER_PARSE_MODE";
    public static final String EMITTER_DRY_RUN = "EMITTER_DRY_RUN";

    private static final long DAY_MS = 24L * 60 * 60 * 1000;

    public EmitterConfig {
        Objects.requireNonNull(telegram, "telegram");
        Objects.requireNonNull(typing, "typing");
        Objects.requireNonNull(claims, "claims");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(consumer, "consumer");
        Objects.requireNonNull(sending, "sending");
    }

    public static EmitterConfig from(Config config) {
        return new EmitterConfig(
                TelegramSettings.from(config),
                Typing.from(config),
                Claims.from(config),
                RateLimits.from(config),
                Consumer.from(config),
                Sending.from(config));
    }

    /**
     * @param charsPerSecond {@code TYPING_CPS}: simulated typing speed
     * @param min            {@code TYPING_MIN_MS}: shortest typing delay before a message
     * @param max            {@code TYPING_MAX_MS}: longest typing delay before a message
     * @param jitter         {@code TYPING_JITTER}: ± fraction of randomness on each delay (0 = none)
     * @param seed           {@code TYPING_SEED}: seed for the jitter (tests); unset = random
     * @param readingPause   {@code READING_PAUSE_MS}: silent pause before the first part of a reply
     */
    public record Typing(
            double charsPerSecond,
            Duration min,
            Duration max,
            double jitter,
            OptionalLong seed,
            Duration readingPause) {
        public static Typing from(Config config) {
            Duration min = config.millis(TYPING_MIN_MS, 400, 0, 60_000);
            Duration max = config.millis(TYPING_MAX_MS, 4_000, 0, 120_000);
            if (max.compareTo(min) < 0) {
                throw new ConfigException(TYPING_MAX_MS, "must be >= " + TYPING_MIN_MS + " (" + min.toMillis() + ")");
            }
            return new Typing(
                    config.decimal(TYPING_CPS, 30, 0.1, 100_000),
                    min,
                    max,
                    config.decimal(TYPING_JITTER, 0.2, 0, 1),
                    config.isSet(TYPING_SEED)
                            ? OptionalLong.of(config.longValue(TYPING_SEED, 0, Long.MIN_VALUE, Long.MAX_VALUE))
                            : OptionalLong.empty(),
                    config.millis(READING_PAUSE_MS, 0, 0, 60_000));
        }
    }

    /**
     * @param ttl          {@code EMITTER_CLAIM_TTL_MS}: how long a message's claim or outcome is kept in Redis
     * @param maxAttempts  {@code EMITTER_MAX_SEND_ATTEMPTS}: attempts per message for 429 / 5xx / network errors
     * @param redisOutage  {@code EMITTER_REDIS_OUTAGE} (formerly {@code EMITTER_REDIS_MODE}): {@code fail-open}
     *                     sends without a claim (counted), {@code fail-closed} holds the chat's lane until Redis
     *                     answers
     */
    public record Claims(Duration ttl, int maxAttempts, RedisOutage redisOutage) {
        public static Claims from(Config config) {
            return new Claims(
                    config.millis(EMITTER_CLAIM_TTL_MS, 7 * DAY_MS, 60_000, 90 * DAY_MS),
                    config.integer(EMITTER_MAX_SEND_ATTEMPTS, 5, 1, 100),
                    RedisOutage.read(
                            config,
                            EMITTER_REDIS_OUTAGE,
                            RedisOutage.FAIL_OPEN,
                            RedisOutage.Legacy.sameValues(EMITTER_REDIS_MODE)));
        }
    }

    /**
     * Limits of 0 switch that scope off. The group and global limits belong to the bot, not to an instance: with
     * Redis every instance keeps them together; without it each keeps to its share.
     *
     * @param chatPerSecond   {@code EMITTER_CHAT_RATE_PER_S}: messages per second into one chat (token bucket refill)
     * @param chatBurst       {@code EMITTER_CHAT_BURST}: the chat bucket's capacity, i.e. the burst tolerated
     * @param groupPerMinute  {@code EMITTER_GROUP_RATE_PER_MIN}: messages of the bot into one group chat (id &lt; 0)
     *                        in any minute
     * @param globalPerSecond {@code EMITTER_GLOBAL_RATE_PER_S}: messages of the bot in any second
     * @param instances       {@code EMITTER_LIMIT_INSTANCES}: how many emitter instances send for the bot; while Redis
     *                        is unreachable (or not configured) each keeps to 1/this of the group and global limits
     */
    public record RateLimits(
            double chatPerSecond, int chatBurst, int groupPerMinute, int globalPerSecond, int instances) {
        public RateLimits {
            if (chatPerSecond < 0 || chatBurst < 1 || groupPerMinute < 0 || globalPerSecond < 0) {
                throw new IllegalArgumentException("limits must not be negative, and the chat burst at least 1");
            }
            if (instances < 1) {
                throw new IllegalArgumentException("instances must be >= 1 but was " + instances);
            }
        }

        public static RateLimits from(Config config) {
            return new RateLimits(
                    config.decimal(EMITTER_CHAT_RATE_PER_S, 1, 0, 1_000),
                    config.integer(EMITTER_CHAT_BURST, 3, 1, 1_000),
                    config.integer(EMITTER_GROUP_RATE_PER_MIN, 20, 0, 60_000),
                    config.integer(EMITTER_GLOBAL_RATE_PER_S, 30, 0, 100_000),
                    config.integer(EMITTER_LIMIT_INSTANCES, 1, 1, 1_000));
        }

        /** One instance's share of a bot-wide {@code limit}: 1/{@link #instances}, at least 1 (0 stays 0: no limit). */
        public int share(int limit) {
            return limit == 0 ? 0 : Math.max(1, limit / instances);
        }

        /** These limits with the group and global ones cut to this instance's share. */
        public RateLimits localShare() {
            return new RateLimits(chatPerSecond, chatBurst, share(groupPerMinute), share(globalPerSecond), 1);
        }
    }

    /**
     * @param groupId     {@code EMITTER_GROUP_ID}: the consumer group
     * @param maxBuffered {@code EMITTER_MAX_BUFFERED}: parts held (queued, waiting, sending) before the consumer
     *                    pauses its partitions; it resumes at half
     */
    public record Consumer(String groupId, int maxBuffered) {
        public static Consumer from(Config config) {
            return new Consumer(
                    config.string(EMITTER_GROUP_ID, StageDefaults.EMITTER_GROUP_ID),
                    config.integer(EMITTER_MAX_BUFFERED, 1_000, 1, 1_000_000));
        }
    }

    /**
     * @param threads   {@code EMITTER_SEND_THREADS}: threads for the blocking calls (Telegram, Redis); no thread
     *                  ever waits for a chat's delay, so this bounds only concurrent requests
     * @param parseMode {@code EMITTER_PARSE_MODE}: none (default) | MarkdownV2 | HTML | Markdown; a text Telegram
     *                  cannot parse is resent once as plain text
     * @param dryRun    {@code EMITTER_DRY_RUN}: record what would be sent instead of calling Telegram (replays)
     */
    public record Sending(int threads, ParseMode parseMode, boolean dryRun) {
        public static Sending from(Config config) {
            return new Sending(
                    config.integer(EMITTER_SEND_THREADS, 8, 1, 256),
                    config.enumValue(EMITTER_PARSE_MODE, ParseMode.class, ParseMode.NONE),
                    config.bool(EMITTER_DRY_RUN, false));
        }
    }
}
