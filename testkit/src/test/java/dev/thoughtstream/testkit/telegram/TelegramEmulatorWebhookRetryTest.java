package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.thoughtstream.testkit.MutableClock;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.telegram.telegrambots.client.okhttp.OkHttpTelegramClient;
import org.telegram.telegrambots.meta.TelegramUrl;
import org.telegram.telegrambots.meta.api.methods.updates.GetWebhookInfo;
import org.telegram.telegrambots.meta.api.methods.updates.SetWebhook;
import org.telegram.telegrambots.meta.api.objects.WebhookInfo;
import org.telegram.telegrambots.meta.generics.TelegramClient;

/**
 * A failing webhook over real HTTP, on Telegram's own retry schedule and with a clock the test moves: retries come
 * when the clock says so (not after real minutes), a {@code Retry-After} is honoured, and an update a day old is
 * dropped. The exact schedule is pinned in {@link WebhookDeliveryRulesTest}.
 */
class TelegramEmulatorWebhookRetryTest {
    private static final String TOKEN = "5151:retry-TOKEN";

    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
    private final TelegramEmulator telegram =
            TelegramEmulator.builder().botToken(TOKEN).clock(clock).build().start();
    private final OkHttpClient http =
            new OkHttpClient.Builder().readTimeout(30, TimeUnit.SECONDS).build();
    private final TelegramClient client =
            new OkHttpTelegramClient(http, TOKEN, new TelegramUrl("http", "127.0.0.1", telegram.port(), false));

    /** The emulator's clock at each request the receiver got. */
    private final List<Instant> attempts = new CopyOnWriteArrayList<>();
    /** What the receiver answers. */
    private volatile int status = 500;

    private volatile String retryAfter;
    private final ExecutorService hookThreads = Executors.newFixedThreadPool(4);
    private HttpServer hook;

    @BeforeEach
    void startWebhookReceiver() throws IOException {
        hook = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        hook.createContext("/hook", this::receive);
        hook.setExecutor(hookThreads);
        hook.start();
    }

    @AfterEach
    void stopAll() {
        hook.stop(0);
        hookThreads.shutdownNow();
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
        telegram.close();
    }

    private void receive(HttpExchange exchange) throws IOException {
        try (exchange;
                InputStream body = exchange.getRequestBody()) {
            body.readAllBytes();
            attempts.add(clock.instant());
            if (retryAfter != null) {
                exchange.getResponseHeaders().set("Retry-After", retryAfter);
            }
            exchange.sendResponseHeaders(status, -1);
        }
    }

    private String hookUrl() {
        return "http://127.0.0.1:" + hook.getAddress().getPort() + "/hook";
    }

    /**
     * Returns once {@code n} attempts have failed and their retries are scheduled (moving the clock before that
     * would move the retry too).
     */
    private void awaitFailures(int n) {
        Wait.until(n + " failed delivery attempts", () -> telegram.webhook().failedAttempts() >= n);
        assertEquals(n, attempts.size(), "no attempt beyond the " + n + " due");
    }

    @Test
    void aFailingUpdateIsRetriedAtOnceThenAfterTwoAndFourSecondsOfTheEmulatorsClock() throws Exception {
        // given a webhook answering 500
        Instant start = clock.instant();
        assertTrue(client.execute(SetWebhook.builder().url(hookUrl()).build()));

        // when a person writes
        telegram.injectMessage(42, "hello?");

        // then the first failure is retried at once
        awaitFailures(2);
        assertEquals(List.of(start, start), attempts);

        // and the next ones once the clock has moved on by 2 s, then by 4 s
        clock.advance(Duration.ofSeconds(2));
        awaitFailures(3);
        clock.advance(Duration.ofSeconds(4));
        awaitFailures(4);
        assertEquals(List.of(start, start, start.plusSeconds(2), start.plusSeconds(6)), attempts);

        // and getWebhookInfo tells the bot, as Telegram does
        WebhookInfo info = client.execute(new GetWebhookInfo());
        assertEquals(1, info.getPendingUpdatesCount());
        assertEquals("Wrong response from the webhook: 500 Internal Server Error", info.getLastErrorMessage());
        assertEquals(
                start.plusSeconds(6).getEpochSecond(), info.getLastErrorDate().longValue());
    }

    @Test
    void aRetryAfterHeaderOfTheWebhookSetsTheWait() throws Exception {
        // given a webhook answering 503 with Retry-After: 30
        status = 503;
        retryAfter = "30";
        Instant start = clock.instant();
        client.execute(SetWebhook.builder().url(hookUrl()).build());

        // when a person writes, and the webhook recovers after its second refusal
        telegram.injectMessage(42, "hello?");
        awaitFailures(1);
        clock.advance(Duration.ofSeconds(30));
        awaitFailures(2);
        status = 200;
        retryAfter = null;
        clock.advance(Duration.ofSeconds(30));

        // then each retry came when the header asked, and the update is delivered
        Wait.until("the update delivered", () -> telegram.pendingUpdates() == 0);
        assertEquals(List.of(start, start.plusSeconds(30), start.plusSeconds(60)), attempts);
        assertEquals(
                "Wrong response from the webhook: 503 Service Unavailable",
                telegram.webhook().lastErrorMessage());
    }

    @Test
    void anUpdateTheWebhookRefusesForADayIsDropped() throws Exception {
        // given a webhook that refuses everything, and an update it has refused for almost a day
        client.execute(SetWebhook.builder().url(hookUrl()).build());
        telegram.injectMessage(42, "lost");
        awaitFailures(2);
        clock.advance(Duration.ofHours(23).plusMinutes(50));
        awaitFailures(3);
        assertEquals(1, telegram.pendingUpdates());

        // when the day is over
        clock.advance(Duration.ofMinutes(10));

        // then Telegram has given up on it: nothing pending, and the bot is not told
        Wait.until("the update dropped", () -> telegram.pendingUpdates() == 0);
        assertEquals(0, client.execute(new GetWebhookInfo()).getPendingUpdatesCount());
        assertEquals(1, telegram.webhook().expiredCount());
        assertEquals(0, telegram.webhook().deliveredCount());
    }
}
