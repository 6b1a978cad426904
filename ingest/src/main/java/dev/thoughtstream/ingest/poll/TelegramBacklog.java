package dev.thoughtstream.ingest.poll;

import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.ingest.BotApiClient;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The updates Telegram holds for the bot that the poller has not confirmed yet ({@code ingest_telegram_pending_updates}):
 * getWebhookInfo's {@code pending_update_count} ({@link BotApiClient#pendingUpdateCount()}), asked every
 * {@link Metrics#refresh()} on a thread and an HTTP client of its own, so the poll loop never waits for it. The active
 * poller runs one while it polls; the gauge is NaN (no value) before the first answer, while Telegram does not answer,
 * and once the term ended, so a standby never shows a stale count.
 */
final class TelegramBacklog implements AutoCloseable {
    static final String NAME = "ingest_telegram_pending_updates";
    private static final Logger LOG = LoggerFactory.getLogger(TelegramBacklog.class);

    private final TelegramSettings telegram;
    private final ExecutorService httpExecutor;
    private final BotApiClient botApi;
    private final ScheduledExecutorService refresher;
    private volatile double pending = Double.NaN;
    private volatile boolean closed;
    /** Whether the last refresh failed: a failure is logged once, not at every refresh. */
    private boolean failing;

    TelegramBacklog(TelegramSettings telegram, Metrics metrics) {
        this.telegram = telegram;
        this.httpExecutor = Executors.newCachedThreadPool(NamedThreads.daemon("ingest-telegram-backlog-http"));
        this.botApi = BotApiClient.onOwnConnections(telegram, httpExecutor);
        this.refresher = Executors.newSingleThreadScheduledExecutor(NamedThreads.daemon("ingest-telegram-backlog"));
        metrics.gauge(
                NAME,
                "updates Telegram holds for the bot that the poller has not confirmed (getWebhookInfo's "
                        + "pending_update_count), read every refresh interval by the active poller; NaN when unknown",
                this::pending);
        Duration every = metrics.refresh();
        refresher.scheduleWithFixedDelay(this::refresh, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The last count Telegram gave; NaN when unknown. */
    double pending() {
        return closed ? Double.NaN : pending;
    }

    private void refresh() {
        try {
            pending = botApi.pendingUpdateCount();
            if (failing) {
                LOG.info("Telegram answers getWebhookInfo again: {} update(s) pending", (long) pending);
            }
            failing = false;
        } catch (RuntimeException e) {
            // The poll loop logs Telegram's failures as they happen; one line here says the backlog is unknown.
            pending = Double.NaN;
            if (!failing) {
                LOG.warn(
                        "cannot read Telegram's backlog (getWebhookInfo): {}; the gauge has no value until it answers",
                        telegram.token().redact(e.getMessage()));
            }
            if (failing) {
                LOG.debug(
                        "Telegram's backlog still unknown: {}", telegram.token().redact(e.getMessage()));
            }
            failing = true;
        }
    }

    @Override
    public void close() {
        closed = true;
        refresher.shutdownNow();
        httpExecutor.shutdownNow();
    }
}
