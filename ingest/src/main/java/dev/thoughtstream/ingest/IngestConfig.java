package dev.thoughtstream.ingest;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.RedisOutage;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.ingest.intake.AccessSettings;
import dev.thoughtstream.ingest.webhook.WebhookSettings;
import java.time.Duration;

/**
 * Ingest's settings, read once at startup; a bad variable stops the service with a
 * {@link dev.thoughtstream.common.config.ConfigException} naming it.
 *
 * @param telegram        {@code TG_BOT_TOKEN}, {@code TG_API_URL}
 * @param pollTimeout     {@code INGEST_POLL_TIMEOUT_S}: getUpdates long-poll timeout (Telegram allows up to 50 s)
 * @param dedupTtl        {@code INGEST_DEDUP_TTL_MS}: how long an update id is remembered (Telegram keeps
 *                        unconfirmed updates for 24 h, so at least that)
 * @param retryBackoffMax {@code INGEST_RETRY_BACKOFF_MAX_MS}: the longest wait between attempts to write a batch,
 *                        and between getUpdates attempts while Telegram answers errors
 * @param mode            {@code INGEST_MODE}: polling (default) or webhook
 * @param webhook         webhook mode's settings ({@code INGEST_WEBHOOK_*}, {@link WebhookSettings}); null in polling
 *                        mode
 * @param access          allow-lists, group rules, flood guard and size cap ({@link AccessSettings})
 * @param lease           one poller at a time: {@code INGEST_LEASE_*}, {@code INGEST_REDIS_OUTAGE} ({@link Lease})
 */
public record IngestConfig(
        TelegramSettings telegram,
        int pollTimeout,
        Duration dedupTtl,
        Duration retryBackoffMax,
        IngestMode mode,
        WebhookSettings webhook,
        AccessSettings access,
        Lease lease) {
    /** The service's name: its subcommand, its log and its readiness. */
    public static final String SERVICE_NAME = "ingest";

    public static final String POLL_TIMEOUT = "INGEST_POLL_TIMEOUT_S";
    public static final String DEDUP_TTL = "INGEST_DEDUP_TTL_MS";
    public static final String RETRY_BACKOFF_MAX = "INGEST_RETRY_BACKOFF_MAX_MS";
    public static final String MODE = "INGEST_MODE";
    // ---- webhook mode (WebhookSettings) ----
    public static final String WEBHOOK_PORT = "INGEST_WEBHOOK_PORT";
    public static final String WEBHOOK_PATH = "INGEST_WEBHOOK_PATH";
    public static final String WEBHOOK_URL = "INGEST_WEBHOOK_URL";
    public static final String WEBHOOK_SECRET = "INGEST_WEBHOOK_SECRET";
    public static final String WEBHOOK_ACK_TIMEOUT_MS = "INGEST_WEBHOOK_ACK_TIMEOUT_MS";
    public static final String WEBHOOK_DELETE_ON_STOP = "INGEST_WEBHOOK_DELETE_ON_STOP";
    public static final String WEBHOOK_MAX_CONNECTIONS = "INGEST_WEBHOOK_MAX_CONNECTIONS";
    // ---- access and abuse rules (AccessSettings) ----
    public static final String ALLOWED_USER_IDS = "ALLOWED_USER_IDS";
    public static final String ALLOWED_CHAT_IDS = "ALLOWED_CHAT_IDS";
    public static final String ACCESS_DENIED_TEXT = "ACCESS_DENIED_TEXT";
    public static final String GROUP_MODE = "INGEST_GROUP_MODE";
    public static final String BOT_USERNAME = "BOT_USERNAME";
    public static final String MAX_MSGS_PER_MIN = "INGEST_MAX_MSGS_PER_MIN";
    public static final String FLOOD_NOTICE_TEXT = "FLOOD_NOTICE_TEXT";
    public static final String MAX_MESSAGE_CHARS = "INGEST_MAX_MESSAGE_CHARS";
    public static final String TOO_LONG_NOTICE_TEXT = "TOO_LONG_NOTICE_TEXT";
    // ---- one poller at a time (Lease) ----
    public static final String LEASE_TTL = "INGEST_LEASE_TTL_MS";
    public static final String LEASE_RETRY = "INGEST_LEASE_RETRY_MS";
    public static final String REDIS_OUTAGE = "INGEST_REDIS_OUTAGE";
    /** The old name of {@link #REDIS_OUTAGE}: {@code true} meant fail-closed. Still read, with a warning. */
    @Deprecated
    public static final String LEASE_REQUIRED = "INGEST_LEASE_REQUIRED";

    static final long DAY_MS = 24L * 60 * 60 * 1000;

    /**
     * Reads and validates ingest's variables.
     *
     * @throws dev.thoughtstream.common.config.ConfigException naming the first invalid or missing variable
     */
    public static IngestConfig from(Config config) {
        IngestMode mode = config.enumValue(MODE, IngestMode.class, IngestMode.POLLING);
        return new IngestConfig(
                TelegramSettings.from(config),
                config.integer(POLL_TIMEOUT, 50, 0, 50),
                config.millis(DEDUP_TTL, DAY_MS + 60 * 60 * 1000, DAY_MS, 30 * DAY_MS),
                config.millis(RETRY_BACKOFF_MAX, 10_000, 10, 600_000),
                mode,
                mode == IngestMode.WEBHOOK ? WebhookSettings.from(config) : null,
                AccessSettings.from(config),
                Lease.from(config));
    }

    /**
     * The poller lease in Redis that lets only one ingest instance call getUpdates (see docs/ingest.md).
     *
     * @param ttl    {@code INGEST_LEASE_TTL_MS}: how long the lease lasts without renewal; the active instance
     *               renews it every third of that, and a standby takes over at most ttl + retry after the active
     *               one died without releasing it
     * @param retry  {@code INGEST_LEASE_RETRY_MS}: how often a standby tries to acquire the lease
     * @param outage {@code INGEST_REDIS_OUTAGE}: {@code fail-closed} (default; exclusivity) stops polling once the
     *               lease could not be renewed for a whole ttl; {@code fail-open} (availability) keeps the active
     *               instance polling through a Redis outage, at the risk of two pollers should a standby still reach
     *               Redis
     */
    public record Lease(Duration ttl, Duration retry, RedisOutage outage) {
        static Lease from(Config config) {
            return new Lease(
                    config.millis(LEASE_TTL, 10_000, 500, 600_000),
                    config.millis(LEASE_RETRY, 1_000, 10, 60_000),
                    RedisOutage.read(
                            config,
                            REDIS_OUTAGE,
                            RedisOutage.FAIL_CLOSED,
                            RedisOutage.Legacy.bool(LEASE_REQUIRED, RedisOutage.FAIL_CLOSED)));
        }

        /** How often the active instance renews: three chances per ttl before the lease runs out. */
        public Duration renewInterval() {
            return Duration.ofMillis(ttl.toMillis() / 3);
        }

        /** True when the active instance must stop polling once its lease ran out by its own clock. */
        public boolean required() {
            return outage == RedisOutage.FAIL_CLOSED;
        }
    }
}
