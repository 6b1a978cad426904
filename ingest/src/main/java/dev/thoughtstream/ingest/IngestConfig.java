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
 * @param retryBackoffMax {@code INGEST_RETRY_BACKOFF_MAX_MS}: the longest wait between attempts to write a batch
 */
public record IngestConfig(TelegramSettings telegram, int pollTimeout, Duration dedupTtl, Duration retryBackoffMax) {
    static final long DAY_MS = 24L * 60 * 60 * 1000;

    public static IngestConfig from(Config config) {
        return new IngestConfig(
                TelegramSettings.from(config),
                config.integer("INGEST_POLL_TIMEOUT_S", 50, 0, 50),
                config.millis("INGEST_DEDUP_TTL_MS", DAY_MS + 60 * 60 * 1000, DAY_MS, 30 * DAY_MS),
                config.millis("INGEST_RETRY_BACKOFF_MAX_MS", 10_000, 10, 600_000));
    }
}
