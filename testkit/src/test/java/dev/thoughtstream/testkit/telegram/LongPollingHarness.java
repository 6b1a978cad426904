package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.telegram.telegrambots.longpolling.TelegramBotsLongPollingApplication;
import org.telegram.telegrambots.longpolling.interfaces.LongPollingUpdateConsumer;
import org.telegram.telegrambots.longpolling.util.DefaultGetUpdatesGenerator;
import org.telegram.telegrambots.meta.TelegramUrl;
import org.telegram.telegrambots.meta.exceptions.TelegramApiException;

/**
 * The real TelegramBots long-polling application pointed at the emulator, with the shutdown sequence the
 * library needs (it never stops its executor or the in-flight long poll itself).
 */
final class LongPollingHarness implements AutoCloseable {
    private final OkHttpClient http;
    private final ScheduledExecutorService executor;
    private final TelegramBotsLongPollingApplication app;
    private boolean closed;

    LongPollingHarness(int port, String token, LongPollingUpdateConsumer consumer) throws TelegramApiException {
        // The read timeout must exceed getUpdates' 50 s long poll.
        http = new OkHttpClient.Builder().readTimeout(75, TimeUnit.SECONDS).build();
        executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "test-long-poller");
            thread.setDaemon(true);
            return thread;
        });
        app = new TelegramBotsLongPollingApplication(ObjectMapper::new, () -> http, () -> executor);
        app.registerBot(
                token,
                () -> new TelegramUrl("http", "127.0.0.1", port, false),
                new DefaultGetUpdatesGenerator(),
                consumer);
    }

    /** Cancels the poll task: the batch being consumed finishes, but no further getUpdates is sent. */
    void stopPolling() {
        try {
            app.close();
        } catch (Exception e) {
            throw new IllegalStateException("closing the long-polling application failed", e);
        }
    }

    boolean isRunning() {
        return app.isRunning();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        stopPolling();
        http.dispatcher().cancelAll();
        executor.shutdownNow();
        try {
            if (!executor.awaitTermination(10, TimeUnit.SECONDS)) {
                throw new IllegalStateException("long-poll executor did not stop");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping the long poller", e);
        } finally {
            http.dispatcher().executorService().shutdown();
            http.connectionPool().evictAll();
        }
    }
}
