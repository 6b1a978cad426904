package dev.thoughtstream.ingest;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.TelegramSettings;
import java.time.Duration;

/**
 * Ingest's settings.
 *
 * @param telegram        {@code TG_BOT_TOKEN}, {@code TG_API_URL}
 * @param pollTimeout     {@code INGEST_POLL_TIMEOUT_S}: getUpdates long-poll timeout (Telegram allows up to 50 s)
 * @param dedupTtl        {@code INGEST_DEDUP_TTL_MS}: how long an update id is remembered (Telegram keeps
 *                        unconfirmed updates for 24 h, so at least that)
 * @param retryBackoffMax {@code INGEST_RETRY_BACKOFF_MAX_MS}: the longest wait between attempts to write a batch,
 *                        and between getUpdates attempts while Telegram answers errors
 */
public record IngestConfig(TelegramSettings telegram, int pollTimeout, Duration dedupTtl, Duration retryBackoffMax) {
    public static final String POLL_TIMEOUT = "INGEST_POLL_TIMEOUT_S";
    public static final String DEDUP_TTL = "INGEST_DEDUP_TTL_MS";
    public static final String RETRY_BACKOFF_MAX = "INGEST_RETRY_BACKOFF_MAX_MS";
    static final long DAY_MS = 24L * 60 * 60 * 1000;

    /**
     * Reads and validates ingest's variables.
     *
     * @throws dev.thoughtstream.common.config.ConfigException naming the first invalid or missing variable
     */
    public static IngestConfig from(Config config) {
        return new IngestConfig(
                TelegramSettings.from(config),
                config.integer(POLL_TIMEOUT, 50, 0, 50),
                config.millis(DEDUP_TTL, DAY_MS + 60 * 60 * 1000, DAY_MS, 30 * DAY_MS),
                config.millis(RETRY_BACKOFF_MAX, 10_000, 10, 600_000));
    }
}
