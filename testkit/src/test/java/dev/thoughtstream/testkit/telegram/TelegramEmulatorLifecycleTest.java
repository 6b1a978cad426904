package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Starting and stopping: the emulator must never keep a JVM (or a port) alive. */
class TelegramEmulatorLifecycleTest {

    @Test
    void closingEndsWaitingLongPollsAndStopsEveryThread() throws Exception {
        // given a bot waiting in a 50 s long poll
        TelegramEmulator telegram = TelegramEmulator.builder().build().start();
        CompletableFuture<HttpResponse<String>> poll =
                new RawHttp(telegram.baseUrl()).postJsonAsync("/bot1:x/getUpdates", "{\"timeout\":50}");
        Wait.until("the long poll is waiting", () -> telegram.activePolls() == 1);

        // when the emulator closes
        telegram.close();

        // then the poll ends now rather than after its timeout, and no emulator thread is left
        try {
            HttpResponse<String> answer = poll.get(20, TimeUnit.SECONDS);
            assertEquals("{\"ok\":true,\"result\":[]}", answer.body());
        } catch (ExecutionException connectionClosedFirst) {
            // Also fine: the server stopped before the empty answer was written.
            assertTrue(
                    connectionClosedFirst.getCause() instanceof java.io.IOException, connectionClosedFirst::toString);
        }
        Wait.until(
                "every tg-emulator thread ended",
                () -> Thread.getAllStackTraces().keySet().stream()
                        .noneMatch(t -> t.getName().startsWith("tg-emulator") && t.isAlive()));
    }

    @Test
    void theBoundPortAndBaseUrlAreReportedAndABusyPortFailsNamingIt() {
        try (TelegramEmulator first = TelegramEmulator.builder().build().start()) {
            int port = first.port();
            assertTrue(port > 0);
            assertEquals("http://127.0.0.1:" + port, first.baseUrl());

            UncheckedIOException busy = assertThrows(
                    UncheckedIOException.class,
                    () -> TelegramEmulator.builder().port(port).build().start());
            assertTrue(busy.getMessage().contains(":" + port), busy.getMessage());
        }
    }

    @Test
    void anEmulatorCannotBeStartedTwiceOrUsedBeforeStart() {
        TelegramEmulator telegram = TelegramEmulator.builder().build();
        assertThrows(IllegalStateException.class, telegram::port);
        try (telegram) {
            telegram.start();
            assertThrows(IllegalStateException.class, telegram::start);
        }
    }
}
