package dev.thoughtstream.llm.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.llm.handle.Disposition;
import dev.thoughtstream.llm.handle.Handling;
import dev.thoughtstream.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Group mode's per-chat scheduling, with attempts the test completes by hand. */
class ChatLanesTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    /** An attempt the test ends: {@link #end}. */
    private static class Manual implements Handling {
        final String value;
        final CompletableFuture<Disposition> result = new CompletableFuture<>();
        final AtomicBoolean cancelled = new AtomicBoolean();

        Manual(String value) {
            this.value = value;
        }

        @Override
        public CompletableFuture<Disposition> result() {
            return result;
        }

        @Override
        public void cancel() {
            cancelled.set(true);
            result.complete(Disposition.RETRY);
        }

        void end(Disposition d) {
            result.complete(d);
        }
    }

    private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
    private final List<Manual> launched = Collections.synchronizedList(new ArrayList<>());
    private final List<String> finished = Collections.synchronizedList(new ArrayList<>());
    private final Map<String, Disposition> outcomes = new ConcurrentHashMap<>();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    private ChatLanes<String> lanes(int concurrency) {
        return new ChatLanes<>(
                concurrency,
                scheduler,
                item -> {
                    Manual m = new Manual(item.value);
                    launched.add(m);
                    return m;
                },
                (item, d) -> {
                    finished.add(item.value);
                    outcomes.put(item.value, d);
                },
                Duration.ofMillis(20),
                Duration.ofMillis(20),
                Duration.ofMillis(100));
    }

    private List<String> launchedValues() {
        synchronized (launched) {
            return launched.stream().map(m -> m.value).toList();
        }
    }

    private Manual running(String value) {
        synchronized (launched) {
            return launched.stream()
                    .filter(m -> m.value.equals(value) && !m.result.isDone())
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(value + " is not running: " + launchedValues()));
        }
    }

    @Test
    void aChatsThoughtsRunOneAfterAnotherInOrderWhileOtherChatsRunAlongside() {
        // given lanes for two at a time
        ChatLanes<String> lanes = lanes(2);

        // when chat 1 has three thoughts and chat 2 one
        lanes.submit(1, "1a");
        lanes.submit(1, "1b");
        lanes.submit(2, "2a");
        lanes.submit(1, "1c");

        // then chat 1's first and chat 2's run; chat 1's next waits for its first
        assertEquals(List.of("1a", "2a"), launchedValues());
        running("2a").end(Disposition.ANSWERED);
        assertEquals(List.of("1a", "2a"), launchedValues(), "2's end frees a slot, but 1b waits for 1a");
        running("1a").end(Disposition.ANSWERED);
        assertEquals(List.of("1a", "2a", "1b"), launchedValues());
        running("1b").end(Disposition.SKIPPED_STALE);
        running("1c").end(Disposition.ANSWERED);
        assertEquals(List.of("2a", "1a", "1b", "1c"), finished);
        assertEquals(0, lanes.size());
    }

    @Test
    void noMoreThanTheConcurrencyRunAtOnce() {
        // given lanes for two at a time
        ChatLanes<String> lanes = lanes(2);

        // when four chats have a thought each
        for (int chat = 1; chat <= 4; chat++) {
            lanes.submit(chat, "c" + chat);
        }

        // then two run, and each end starts the next
        assertEquals(2, lanes.running());
        assertEquals(4, lanes.size());
        running("c1").end(Disposition.ANSWERED);
        assertEquals(List.of("c1", "c2", "c3"), launchedValues());
        assertEquals(2, lanes.running());
    }

    @Test
    void anUnfinishedAttemptKeepsItsChatsPlaceAndRunsAgainAfterADelayWithoutBlockingOthers() {
        // given one slot and two chats
        ChatLanes<String> lanes = lanes(1);
        lanes.submit(1, "1a");
        lanes.submit(1, "1b");
        lanes.submit(2, "2a");

        // when chat 1's attempt must wait (its claim is held elsewhere)
        running("1a").end(Disposition.WAIT);

        // then chat 2 takes the free slot, and 1a (not 1b) runs again afterwards
        assertEquals(List.of("1a", "2a"), launchedValues());
        running("2a").end(Disposition.ANSWERED);
        Await.until("1a launched again", TIMEOUT, () -> launchedValues().equals(List.of("1a", "2a", "1a")));
        running("1a").end(Disposition.ANSWERED);
        running("1b").end(Disposition.ANSWERED);
        assertEquals(List.of("2a", "1a", "1b"), finished);
    }

    @Test
    void droppingAPartitionsWorkCancelsItsRunningAttemptAndForgetsItsQueueButKeepsOthers() {
        // given chat 1 (to be dropped) running with one queued behind, and chat 2 running
        ChatLanes<String> lanes = lanes(2);
        lanes.submit(1, "drop-1");
        lanes.submit(1, "drop-2");
        lanes.submit(2, "keep-1");

        // when chat 1's items are dropped
        List<CompletableFuture<Disposition>> cancelled = lanes.drop(v -> v.startsWith("drop"));

        // then its running attempt is cancelled, nothing of it runs again, and chat 2 is untouched
        assertEquals(1, cancelled.size());
        assertTrue(running("keep-1") != null);
        assertTrue(launched.get(0).cancelled.get(), "the running attempt was cancelled");
        assertEquals(1, lanes.size());
        running("keep-1").end(Disposition.ANSWERED);
        assertEquals(List.of("drop-1", "keep-1"), launchedValues(), "drop-2 never starts");
        assertEquals(List.of("keep-1"), finished);
        assertFalse(outcomes.containsKey("drop-1"), "a cancelled attempt does not finish its thought");
        assertEquals(0, lanes.size());
        assertEquals(0, lanes.running());
    }

    @Test
    void aDroppedAttemptThatFinishesAnywayIsStillReportedSoItCanBeCommitted() {
        // given a running attempt whose cancellation comes too late to stop it
        ChatLanes<String> lanes = new ChatLanes<>(
                1,
                scheduler,
                item -> {
                    Manual m = new Manual(item.value) {
                        @Override
                        public void cancel() {
                            cancelled.set(true); // it had already finished its work
                        }
                    };
                    launched.add(m);
                    return m;
                },
                (item, d) -> finished.add(item.value),
                Duration.ofMillis(20),
                Duration.ofMillis(20),
                Duration.ofMillis(100));
        lanes.submit(1, "late");

        // when it is dropped and then ends answered
        lanes.drop(v -> true);
        running("late").end(Disposition.ANSWERED);

        // then its end is reported
        assertEquals(List.of("late"), finished);
        assertEquals(0, lanes.running());
    }

    @Test
    void afterCloseNothingStartsAndRunningAttemptsAreCancelled() {
        // given one running and one queued
        ChatLanes<String> lanes = lanes(1);
        lanes.submit(1, "a");
        lanes.submit(2, "b");

        // when closed
        List<CompletableFuture<Disposition>> cancelled = lanes.close();
        lanes.submit(3, "c");

        // then the running one was cancelled and nothing else ever starts
        assertEquals(1, cancelled.size());
        assertEquals(List.of("a"), launchedValues());
        assertEquals(0, lanes.size());
    }
}
