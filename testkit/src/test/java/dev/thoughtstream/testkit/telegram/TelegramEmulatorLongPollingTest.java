package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.telegram.telegrambots.meta.api.objects.MessageEntity;
import org.telegram.telegrambots.meta.api.objects.Update;
import org.telegram.telegrambots.meta.api.objects.message.Message;

/** The real TelegramBots long-polling application against the emulator, over real sockets. */
class TelegramEmulatorLongPollingTest {
    private static final String TOKEN = "123456:long-polling_TOKEN";

    private TelegramEmulator telegram;

    @BeforeEach
    void startEmulator() {
        telegram = TelegramEmulator.builder().botToken(TOKEN).build().start();
    }

    @AfterEach
    void stopEmulator() {
        telegram.close();
    }

    @Test
    void injectedMessagesReachASynchronousLongPollingConsumer() throws Exception {
        // given a bot polling the emulator with a synchronous consumer
        List<Update> received = new CopyOnWriteArrayList<>();
        try (LongPollingHarness bot = new LongPollingHarness(telegram.port(), TOKEN, received::addAll)) {
            // when a person writes privately and another one in a group
            telegram.injectMessage(42, "hello");
            telegram.injectMessage(IncomingMessage.text(-100500, "/start@thoughtstream_bot now")
                    .group("Team")
                    .from(7, "Bo")
                    .build());

            // then the bot receives both with their chats and senders
            Wait.until("two updates consumed", () -> received.size() == 2);
            Message first = received.get(0).getMessage();
            assertEquals("hello", first.getText());
            assertEquals(42L, first.getChatId());
            assertTrue(first.getChat().isUserChat());
            assertEquals(42L, first.getFrom().getId());
            assertEquals("User", first.getFrom().getFirstName());
            Message second = received.get(1).getMessage();
            assertTrue(second.getChat().isGroupChat());
            assertEquals("Team", second.getChat().getTitle());
            assertEquals(7L, second.getFrom().getId());
            assertEquals("Bo", second.getFrom().getFirstName());
            MessageEntity command = second.getEntities().get(0);
            assertEquals("bot_command", command.getType());
            assertEquals(0, command.getOffset());
            assertEquals("/start@thoughtstream_bot", command.getText());
            assertEquals(received.get(0).getUpdateId() + 1, received.get(1).getUpdateId());

            // and its next poll confirms them
            Wait.until("both updates confirmed", () -> telegram.pendingUpdates() == 0);
            assertTrue(bot.isRunning());
            assertEquals(received.get(1).getUpdateId() + 1L, telegram.confirmedOffset());
        }
    }

    @Test
    void unconfirmedUpdatesAreRedeliveredToTheNextPollerAndConfirmedOnesAreNot() throws Exception {
        // given a bot instance that handled "one" and "two" (confirmed by its next poll) and is busy with "three"
        List<String> firstInstance = new CopyOnWriteArrayList<>();
        CountDownLatch finishThird = new CountDownLatch(1);
        LongPollingHarness first = new LongPollingHarness(telegram.port(), TOKEN, updates -> {
            for (Update update : updates) {
                firstInstance.add(update.getMessage().getText());
                if (update.getMessage().getText().equals("three")) {
                    awaitQuietly(finishThird);
                }
            }
        });
        long thirdUpdateId;
        try {
            telegram.injectMessage(42, "one");
            telegram.injectMessage(42, "two");
            Wait.until(
                    "one and two consumed and confirmed",
                    () -> firstInstance.size() == 2 && telegram.pendingUpdates() == 0);
            thirdUpdateId = telegram.injectMessage(42, "three").updateId();
            Wait.until("three being consumed", () -> firstInstance.contains("three"));

            // when that instance stops before its next getUpdates (as on a crash or shutdown mid-batch)
            first.stopPolling();
        } finally {
            finishThird.countDown();
            first.close();
        }
        assertEquals(1, telegram.pendingUpdates(), "three was never confirmed");
        assertEquals(thirdUpdateId, telegram.confirmedOffset());

        // then the next instance gets "three" again, and not the confirmed "one" and "two"
        List<String> secondInstance = new CopyOnWriteArrayList<>();
        try (LongPollingHarness second = new LongPollingHarness(
                telegram.port(),
                TOKEN,
                updates ->
                        updates.forEach(u -> secondInstance.add(u.getMessage().getText())))) {
            Wait.until(
                    "three redelivered and confirmed",
                    () -> !secondInstance.isEmpty() && telegram.pendingUpdates() == 0);
            assertEquals(List.of("three"), secondInstance);
            assertTrue(second.isRunning());
        }
        assertEquals(List.of("one", "two", "three"), firstInstance);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            if (!latch.await(30, TimeUnit.SECONDS)) {
                throw new IllegalStateException("test never released the consumer");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
