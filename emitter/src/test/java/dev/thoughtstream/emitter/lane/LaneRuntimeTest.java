package dev.thoughtstream.emitter.lane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.emitter.ManualScheduler;
import dev.thoughtstream.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The lanes' plumbing: timers, the send pool, the publishing thread and the one lock, and how a halt stops them. */
class LaneRuntimeTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final ReplyPart PART = new ReplyPart(ReplyPart.SCHEMA_VERSION, "r1", "t1", 42, 5, 0, true, "hi", 0);

    private final ManualScheduler time = new ManualScheduler();
    private final ExecutorService workers = Executors.newFixedThreadPool(2);
    private final ExecutorService publisher = Executors.newSingleThreadExecutor();
    private final LaneRuntime runtime = new LaneRuntime(time, workers, publisher);

    @AfterEach
    void stop() {
        time.shutdownNow();
        workers.shutdownNow();
        publisher.shutdownNow();
    }

    @Test
    void aChangeRunsUnderTheLockAndItsCallerLearnsWhenItsOutcomesAreStored() {
        // given a change that hands over one outcome, stored later
        CompletableFuture<Void> stored = new CompletableFuture<>();
        CompletableFuture<Void> busy = new CompletableFuture<>();
        AtomicBoolean locked = new AtomicBoolean();

        // when it is applied
        runtime.apply(
                busy,
                acks -> {
                    locked.set(Thread.holdsLock(runtime.lock()));
                    acks.add(stored);
                },
                (e, acks) -> {
                    throw new AssertionError("no failure expected", e);
                });

        // then it ran under the lock, and busy completes only once the outcome is stored
        assertTrue(locked.get());
        assertFalse(busy.isDone());
        stored.complete(null);
        assertTrue(busy.isDone());
    }

    @Test
    void aChangeThatThrowsLeavesItsRecoveryToRunUnderTheLock() {
        // given a change with a bug
        List<String> recovered = new ArrayList<>();

        // when it is applied
        runtime.apply(
                null,
                acks -> {
                    throw new IllegalStateException("bug");
                },
                (e, acks) ->
                        recovered.add(e.getMessage() + (Thread.holdsLock(runtime.lock()) ? " under the lock" : "")));

        // then its recovery ran, under the lock
        assertEquals(List.of("bug under the lock"), recovered);
    }

    @Test
    void aTimerRunsItsTaskOnTheSchedulerOnlyOnceItsTimeHasCome() {
        // given a timer of one second
        AtomicBoolean ran = new AtomicBoolean();
        runtime.after(42, Duration.ofSeconds(1), () -> ran.set(true));

        // when less than that passes, nothing happens; when it has passed, the task runs
        time.advance(Duration.ofMillis(999));
        assertFalse(ran.get());
        time.advance(Duration.ofMillis(1));
        Await.until("the timer's task", TIMEOUT, ran::get);
    }

    @Test
    void outcomesAreHandedOverInTheOrderOfTheCalls() {
        // given three outcomes handed over one after another
        List<Integer> order = Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<?>> stored = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int n = i;
            stored.add(runtime.publish(PART, () -> {
                order.add(n);
                return CompletableFuture.completedFuture(null);
            }));
        }

        // then they arrive in that order, and each is stored
        CompletableFuture.allOf(stored.toArray(CompletableFuture[]::new)).join();
        assertEquals(List.of(0, 1, 2), order);
    }

    @Test
    void afterAHaltNoChangeAppliesAndNoBlockingCallStarts() {
        // given a halted runtime
        runtime.halt();
        AtomicBoolean changed = new AtomicBoolean();
        AtomicBoolean called = new AtomicBoolean();
        CompletableFuture<Void> done = new CompletableFuture<>();

        // when a change and a blocking call come
        runtime.apply(null, acks -> changed.set(true), (e, acks) -> {});
        runtime.blocking(done, () -> called.set(true));

        // then neither runs, and the call's caller is told it is over
        done.join();
        assertFalse(changed.get());
        assertFalse(called.get());
    }

    @Test
    void withThePoolAndTheSchedulerShutDownNothingIsStartedAndNothingHangs() {
        // given the executors shut down (the emitter is stopping)
        workers.shutdownNow();
        time.shutdownNow();
        CompletableFuture<Void> done = new CompletableFuture<>();

        // when a blocking call and a timer are asked for
        boolean started = runtime.blocking(done, () -> {});

        // then the call is refused and over, and the timer is not set
        assertFalse(started);
        assertTrue(done.isDone());
        assertNull(runtime.after(42, Duration.ofSeconds(1), () -> {}));
    }
}
