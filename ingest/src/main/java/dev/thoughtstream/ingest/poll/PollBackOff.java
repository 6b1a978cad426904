package dev.thoughtstream.ingest.poll;

import dev.thoughtstream.common.retry.Backoff;
import java.time.Duration;

/**
 * How long the poller waits after a failed getUpdates: doubling from {@link #FIRST} up to a cap
 * ({@code INGEST_RETRY_BACKOFF_MAX_MS}), so even after a long Telegram outage polling resumes within one cap of
 * Telegram coming back. Used by the one polling thread only.
 */
final class PollBackOff {
    static final Duration FIRST = Duration.ofMillis(250);

    private final Backoff.Sequence waits;

    /** @param max the cap; one below {@link #FIRST} makes every wait {@link #FIRST} */
    PollBackOff(Duration max) {
        this.waits = Backoff.exponential(FIRST, max.compareTo(FIRST) < 0 ? FIRST : max)
                .sequence();
    }

    void reset() {
        waits.reset();
    }

    long nextBackOffMillis() {
        return waits.nextMillis();
    }
}
