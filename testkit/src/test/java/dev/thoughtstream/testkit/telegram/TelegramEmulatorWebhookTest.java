package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.thoughtstream.common.serde.Json;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.telegram.telegrambots.client.okhttp.OkHttpTelegramClient;
import org.telegram.telegrambots.meta.TelegramUrl;
import org.telegram.telegrambots.meta.api.methods.updates.DeleteWebhook;
import org.telegram.telegrambots.meta.api.methods.updates.GetWebhookInfo;
import org.telegram.telegrambots.meta.api.methods.updates.SetWebhook;
import org.telegram.telegrambots.meta.api.objects.WebhookInfo;
import org.telegram.telegrambots.meta.generics.TelegramClient;

/** Webhook mode: the emulator POSTs updates to a real local HTTP server, set up through the real client. */
class TelegramEmulatorWebhookTest {
    private static final String TOKEN = "5150:webhook-TOKEN";
    private static final String SECRET = "s3cret-Token_1";

    private final TelegramEmulator telegram = TelegramEmulator.builder()
            .botToken(TOKEN)
            .webhookRetryBackoff(Duration.ofMillis(50), Duration.ofMillis(200))
            .build()
            .start();
    private final OkHttpClient http =
            new OkHttpClient.Builder().readTimeout(30, TimeUnit.SECONDS).build();
    private final TelegramClient client =
            new OkHttpTelegramClient(http, TOKEN, new TelegramUrl("http", "127.0.0.1", telegram.port(), false));

    private final List<JsonNode> accepted = new CopyOnWriteArrayList<>();
    private final List<String> secrets = new CopyOnWriteArrayList<>();
    private final AtomicInteger attempts = new AtomicInteger();
    /** Attempts numbered up to this fail with 500. */
    private volatile int failFirstAttempts;
    /** Requests being received right now, and the most there were at once. */
    private final List<JsonNode> inFlight = new CopyOnWriteArrayList<>();

    private final AtomicInteger maxInFlight = new AtomicInteger();
    /** Every request waits for this before it is answered (open unless a test closes it). */
    private volatile CountDownLatch hold = new CountDownLatch(0);

    /** More than the 40 connections Telegram opens by default. */
    private final ExecutorService hookThreads = Executors.newFixedThreadPool(48);

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
        hold.countDown();
        hook.stop(0);
        hookThreads.shutdownNow();
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
        telegram.close();
    }

    private void receive(HttpExchange exchange) throws IOException {
        try (exchange;
                InputStream body = exchange.getRequestBody()) {
            byte[] bytes = body.readAllBytes();
            if (attempts.incrementAndGet() <= failFirstAttempts) {
                exchange.sendResponseHeaders(500, -1);
                return;
            }
            JsonNode update = Json.mapper().readTree(bytes);
            inFlight.add(update);
            maxInFlight.accumulateAndGet(inFlight.size(), Math::max);
            try {
                if (!hold.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("the test never released the held requests");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while held", e);
            } finally {
                inFlight.remove(update);
            }
            accepted.add(update);
            secrets.add(String.valueOf(exchange.getRequestHeaders().getFirst("X-Telegram-Bot-Api-Secret-Token")));
            exchange.sendResponseHeaders(200, -1);
        }
    }

    private String hookUrl() {
        return "http://127.0.0.1:" + hook.getAddress().getPort() + "/hook";
    }

    @Test
    void updatesArePostedInOrderWithTheSecretAndRetriedAfterAServerError() throws Exception {
        // given a webhook with a secret whose first delivery attempt fails with 500
        failFirstAttempts = 1;
        assertTrue(client.execute(
                SetWebhook.builder().url(hookUrl()).secretToken(SECRET).build()));

        // when a person writes twice
        telegram.injectMessage(42, "first");
        telegram.injectMessage(42, "second");

        // then both arrive, in order, each with the secret; the failed one was retried, not lost
        Wait.until("both updates delivered", () -> accepted.size() == 2 && telegram.pendingUpdates() == 0);
        assertEquals(
                List.of("first", "second"),
                accepted.stream().map(u -> u.at("/message/text").asText()).collect(Collectors.toList()));
        assertEquals(List.of(SECRET, SECRET), secrets);
        assertEquals(3, attempts.get());
        WebhookInfo info = client.execute(new GetWebhookInfo());
        assertEquals(hookUrl(), info.getUrl());
        assertEquals(0, info.getPendingUpdatesCount());
        assertEquals("Wrong response from the webhook: 500 Internal Server Error", info.getLastErrorMessage());
        assertEquals(2, telegram.webhook().deliveredCount());
        assertEquals(1, telegram.webhook().failedAttempts());
    }

    @Test
    void differentChatsAreDeliveredAtOnceUpToMaxConnectionsAndEachChatOneAtATimeInOrder() throws Exception {
        // given a webhook of three connections whose receiver holds every request until released
        hold = new CountDownLatch(1);
        assertTrue(client.execute(
                SetWebhook.builder().url(hookUrl()).maxConnections(3).build()));
        assertEquals(3, telegram.webhook().maxConnections());

        // when five people write twice each
        for (int round = 1; round <= 2; round++) {
            for (long chat = 61; chat <= 65; chat++) {
                telegram.injectMessage(chat, chat + "/" + round);
            }
        }

        // then three requests are open at once, of three different chats, and no more come while they are held
        Wait.until("three deliveries in flight", () -> inFlight.size() == 3);
        assertEquals(
                3,
                inFlight.stream()
                        .map(u -> u.at("/message/chat/id").asLong())
                        .distinct()
                        .count(),
                "one request per chat at a time: " + inFlight);
        assertEquals(3, maxInFlight.get());

        // when the receiver lets them through
        hold.countDown();

        // then everything arrives, never more than three at once, each chat's messages in their order
        Wait.until("all ten delivered", () -> accepted.size() == 10 && telegram.pendingUpdates() == 0);
        assertEquals(3, maxInFlight.get());
        for (long chat = 61; chat <= 65; chat++) {
            long c = chat;
            assertEquals(
                    List.of(c + "/1", c + "/2"),
                    accepted.stream()
                            .filter(u -> u.at("/message/chat/id").asLong() == c)
                            .map(u -> u.at("/message/text").asText())
                            .collect(Collectors.toList()));
        }
        assertEquals(0, telegram.webhook().failedAttempts());
    }

    @Test
    void withoutMaxConnectionsFortyRequestsAreOpenAtOnceAgainstASlowReceiver() throws Exception {
        // given a webhook set without max_connections, whose receiver holds every request until released
        hold = new CountDownLatch(1);
        assertTrue(client.execute(SetWebhook.builder().url(hookUrl()).build()));
        assertEquals(40, client.execute(new GetWebhookInfo()).getMaxConnections());

        // when fifty people write
        for (long chat = 1001; chat <= 1050; chat++) {
            telegram.injectMessage(chat, "hi from " + chat);
        }

        // then Telegram's default of forty requests are open at once, and no more while they are held
        Wait.until("forty deliveries in flight", () -> inFlight.size() == 40);
        assertEquals(50, telegram.pendingUpdates());

        // when the receiver lets them through, everything arrives and the cap was never passed
        hold.countDown();
        Wait.until("all fifty delivered", () -> accepted.size() == 50 && telegram.pendingUpdates() == 0);
        assertEquals(40, maxInFlight.get());
    }

    @Test
    void undeliveredUpdatesStayPendingAndArePolledAfterTheWebhookIsDeleted() throws Exception {
        // given a webhook that keeps failing
        failFirstAttempts = Integer.MAX_VALUE;
        client.execute(SetWebhook.builder().url(hookUrl()).build());
        telegram.injectMessage(42, "are you there?");
        Wait.until("a few failed attempts", () -> telegram.webhook().failedAttempts() >= 2);

        // when the bot goes back to long polling
        assertTrue(client.execute(new DeleteWebhook()));

        // then the update is still there for getUpdates
        JsonNode polled = RawHttp.json(
                new RawHttp(telegram.baseUrl()).postJson("/bot" + TOKEN + "/getUpdates", "{\"timeout\":0}"));
        assertEquals("are you there?", polled.at("/result/0/message/text").asText());
        assertTrue(accepted.isEmpty());
        assertEquals("", telegram.webhook().url());
    }

    @Test
    void settingAWebhookWithDropPendingUpdatesForgetsThem() throws Exception {
        // given an update nobody fetched
        telegram.injectMessage(42, "old news");

        // when a webhook is set dropping pending updates, and a new message arrives
        client.execute(
                SetWebhook.builder().url(hookUrl()).dropPendingUpdates(true).build());
        telegram.injectMessage(42, "fresh");

        // then only the new message is delivered
        Wait.until("the fresh update delivered", () -> !accepted.isEmpty() && telegram.pendingUpdates() == 0);
        assertEquals(
                List.of("fresh"),
                accepted.stream().map(u -> u.at("/message/text").asText()).collect(Collectors.toList()));
        assertEquals(List.of("null"), secrets, "no secret header without a secret token");
    }
}
