package dev.thoughtstream.ingest.poll;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.service.NamedThreads;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.Function;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.client.okhttp.OkHttpTelegramClient;
import org.telegram.telegrambots.longpolling.BotSession;
import org.telegram.telegrambots.longpolling.TelegramBotsLongPollingApplication;
import org.telegram.telegrambots.meta.TelegramUrl;
import org.telegram.telegrambots.meta.api.methods.updates.GetUpdates;
import org.telegram.telegrambots.meta.api.objects.Update;
import org.telegram.telegrambots.meta.exceptions.TelegramApiException;

/**
 * TelegramBots' long polling for one term: its OkHttp client, its poller thread and its bot session, and the one
 * getUpdates that confirms on shutdown what TelegramBots would leave unconfirmed. Messages of its exceptions and logs
 * never hold the bot token.
 */
final class TelegramPolling {
    private static final Logger LOG = LoggerFactory.getLogger(TelegramPolling.class);
    /** How long the poller thread may take to stop. */
    private static final Duration POLLER_STOP = Duration.ofSeconds(10);
    /** How long the confirming getUpdates on shutdown may take. */
    private static final Duration CONFIRM_TIMEOUT = Duration.ofSeconds(5);

    private final TelegramSettings telegram;
    private final OkHttpClient http;
    private final ScheduledExecutorService pollExecutor;
    private final TelegramBotsLongPollingApplication app;
    private volatile BotSession session;

    /**
     * @param pollTimeout getUpdates' long-poll timeout in seconds
     * @param backoffMax  the longest wait between failed getUpdates ({@link PollBackOff})
     */
    TelegramPolling(TelegramSettings telegram, int pollTimeout, Duration backoffMax) {
        this.telegram = telegram;
        // The read timeout must outlast the long poll, or every quiet poll ends in an error.
        this.http = new OkHttpClient.Builder()
                .readTimeout(Duration.ofSeconds(pollTimeout + 15L))
                .callTimeout(Duration.ZERO)
                .build();
        this.pollExecutor = Executors.newSingleThreadScheduledExecutor(NamedThreads.daemon("ingest-telegram-poller"));
        this.app = new TelegramBotsLongPollingApplication(
                ObjectMapper::new, () -> http, () -> pollExecutor, () -> new PollBackOff(backoffMax));
    }

    /**
     * Starts polling: TelegramBots calls {@code nextPoll} for every getUpdates it is about to send and hands each
     * batch to {@code consume}, confirming it with the next getUpdates once {@code consume} returned.
     *
     * @throws IllegalStateException when Telegram cannot be reached
     */
    void start(Function<Integer, GetUpdates> nextPoll, Consumer<List<Update>> consume) {
        TelegramUrl url = url();
        try {
            session = app.registerBot(telegram.token().reveal(), () -> url, nextPoll::apply, consume::accept);
        } catch (TelegramApiException e) {
            // The cause is left out on purpose: TelegramBots' exceptions may quote request URLs, which hold the
            // token. Its description, redacted, is kept.
            throw new IllegalStateException(
                    "cannot start long polling at " + telegram.apiUrl() + ": "
                            + telegram.token().describe(e),
                    null);
        }
    }

    /** True while TelegramBots' polling task is alive. */
    boolean isPolling() {
        BotSession s = session;
        if (s == null || !s.isRunning()) {
            return false;
        }
        var polling = s.getRunningPolling();
        return polling != null && !polling.isDone();
    }

    /** Stops TelegramBots from polling again and cancels the long poll in flight. */
    void stopPolling() {
        try {
            app.close();
        } catch (Exception e) {
            LOG.warn(
                    "closing the long-polling application: {}", telegram.token().redact(e.toString()));
        }
        // app.close() leaves the in-flight long poll running; cancel it so shutdown does not wait for it.
        http.dispatcher().cancelAll();
    }

    /** Interrupts the poller thread and waits for it to end. */
    void awaitPollerStopped() {
        pollExecutor.shutdownNow();
        try {
            if (!pollExecutor.awaitTermination(POLLER_STOP.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn("the Telegram poller did not stop within {} s", POLLER_STOP.toSeconds());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * TelegramBots does not confirm the last batch on close, so Telegram would redeliver it to the next poller:
     * confirms updates up to {@code last} with one {@code getUpdates(offset=last+1, timeout=0)} (a redelivery would be
     * deduplicated anyway; this saves the work). Call it only after the poller stopped.
     */
    void confirmUpTo(long last) {
        OkHttpClient confirmHttp =
                http.newBuilder().readTimeout(CONFIRM_TIMEOUT).build();
        try {
            new OkHttpTelegramClient(confirmHttp, telegram.token().reveal(), url())
                    .execute(GetUpdates.builder()
                            .offset((int) (last + 1))
                            .timeout(0)
                            .limit(1)
                            .build());
            LOG.info("confirmed updates up to {} to Telegram", last);
        } catch (TelegramApiException | RuntimeException e) {
            LOG.warn(
                    "could not confirm updates up to {} on shutdown; Telegram will redeliver them "
                            + "(deduplicated): {}",
                    last,
                    telegram.token().redact(e.toString()));
        }
    }

    /** Releases the HTTP client's threads and connections. */
    void release() {
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
    }

    private TelegramUrl url() {
        return new TelegramUrl(telegram.scheme(), telegram.host(), telegram.port(), false);
    }
}
