package dev.thoughtstream.ingest;

import java.time.Duration;
import org.telegram.telegrambots.longpolling.interfaces.BackOff;

/**
 * How long TelegramBots waits after a failed getUpdates: doubling from {@value #FIRST_MS} ms up to a cap. It
 * replaces the library's default, which after 15 minutes of failures waits 15 minutes between attempts, so a
 * long Telegram outage would leave ingest idle for up to 15 minutes after Telegram came back.
 * Used by the one polling thread only.
 */
final class PollBackOff implements BackOff {
    static final long FIRST_MS = 250;

    private final long maxMs;
    private long nextMs = FIRST_MS;

    PollBackOff(Duration max) {
        this.maxMs = Math.max(FIRST_MS, max.toMillis());
    }

    @Override
    public void reset() {
        nextMs = FIRST_MS;
    }

    @Override
    public long nextBackOffMillis() {
        long current = nextMs;
        nextMs = Math.min(maxMs, nextMs * 2);
        return current;
    }
}
