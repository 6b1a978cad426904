package dev.thoughtstream.ingest.intake;

import dev.thoughtstream.common.redis.ClaimStore;
import java.time.Duration;

/**
 * "Tell the person once": the first notice for a key claims it in Redis with the notice's id. A later update
 * finds the key taken and stays silent, except the update that claimed it, redelivered by Telegram (say ingest
 * crashed before the notice reached Kafka): it finds its own notice id and sends the same notice again, which
 * the emitter deduplicates by reply id.
 */
final class NoticeOnce {
    private final ClaimStore claims;

    NoticeOnce(ClaimStore claims) {
        this.claims = claims;
    }

    /**
     * True when the notice {@code noticeId} should be sent for {@code key}.
     *
     * @throws RuntimeException when Redis cannot be reached
     */
    boolean shouldSend(String key, String noticeId, Duration remember) {
        if (claims.claim(key, noticeId, remember)) {
            return true;
        }
        return claims.get(key).map(noticeId::equals).orElse(false);
    }
}
