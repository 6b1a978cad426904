package dev.thoughtstream.ingest.poll;

import dev.thoughtstream.common.retry.Backoff;
import java.time.Duration;
import org.telegram.telegrambots.longpolling.interfaces.BackOff;

/**
 * How long TelegramBots waits after a failed getUpdates: doubling from {@link #FIRST} up to a cap. It replaces the
 * library's default, which after 15 minutes of failures waits 15 minutes between attempts, so a long Telegram outage
 * would leave ingest idle for up to 15 minutes after Telegram came back. Used by the one polling thread only.
 */
final class PollBackOff implements BackOff {
    static final Duration FIRST = Duration.ofMillis(250);

    private final Backoff.Sequence waits;

    /** @param max the cap; one below {@link #FIRST} makes every wait {@link #FIRST} */
    PollBackOff(Duration max) {
        this.waits = Backoff.exponential(FIRST, max.compareTo(FIRST) < 0 ? FIRST : max)
                .sequence();
    }

    @Override
    public void reset() {
        waits.reset();
    }

    @Override
    public long nextBackOffMillis() {
        return waits.nextMillis();
    }
}
