package dev.thoughtstream.llm.consume;

import dev.thoughtstream.common.lane.KeyedLanes;
import dev.thoughtstream.common.retry.Backoff;
import dev.thoughtstream.llm.handle.Disposition;
import dev.thoughtstream.llm.handle.Handling;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group mode's scheduler: one lane per chat (common's {@link KeyedLanes}), so a chat's thoughts run strictly one after
 * another in the order they were submitted, while lanes of different chats run in parallel, at most
 * {@code concurrency} at a time. A slow or failing thought holds up its own chat only.
 *
 * <p>A handling that does not finish its thought ({@link Disposition#RETRY}, {@link Disposition#WAIT}) keeps the head
 * of its lane, frees its slot, and runs again after a delay: {@code waitDelay} for WAIT (a claim held elsewhere,
 * Redis down), an exponential backoff from {@code retryBase} to {@code retryMax} for RETRY. Finished items are
 * reported to the {@link Finisher} (also after they were {@link #drop dropped}, so the caller can still commit them).
 *
 * <p>Thread-safe; launching and reporting happen outside the lock.
 */
public final class ChatLanes<T> {
    private static final Logger LOG = LoggerFactory.getLogger(ChatLanes.class);

    /** Starts handling an item; returns at once. */
    @FunctionalInterface
    interface Launcher<T> {
        Handling launch(Item<T> item);
    }

    /** Told once per item whose thought is finished; called outside the lock, from any thread. */
    @FunctionalInterface
    interface Finisher<T> {
        void finished(Item<T> item, Disposition disposition);
    }

    /** One thought's place in its chat's lane. */
    static final class Item<T> {
        final long chatId;
        final T value;
        // Guarded by the lanes' lock.
        private int tries;
        private boolean dropped;
        private Handling started;
        /** Meaningful while the item is its lane's head. */
        private State state = State.READY;

        private Item(long chatId, T value) {
            this.chatId = chatId;
            this.value = value;
        }
    }

    /** A lane head's state: READY heads wait for a slot in {@link #ready}, WAITING ones for their timer. */
    private enum State {
        READY,
        RUNNING,
        WAITING
    }

    private final int concurrency;
    private final ScheduledExecutorService scheduler;
    private final Launcher<T> launcher;
    private final Finisher<T> finisher;
    private final Duration waitDelay;
    private final Backoff retryBackoff;

    private final KeyedLanes<Long, Item<T>> lanes = new KeyedLanes<>();
    /** Chats whose head is READY, in the order they became ready. */
    private final ArrayDeque<Long> ready = new ArrayDeque<>();

    private int running;
    private int size;
    private boolean closed;

    ChatLanes(
            int concurrency,
            ScheduledExecutorService scheduler,
            Launcher<T> launcher,
            Finisher<T> finisher,
            Duration waitDelay,
            Duration retryBase,
            Duration retryMax) {
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be >= 1");
        }
        this.concurrency = concurrency;
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.launcher = Objects.requireNonNull(launcher, "launcher");
        this.finisher = Objects.requireNonNull(finisher, "finisher");
        this.waitDelay = waitDelay;
        this.retryBackoff = Backoff.exponential(retryBase, retryMax);
    }

    /** Queues {@code value} behind the chat's earlier items; it starts as soon as its lane and a slot are free. */
    void submit(long chatId, T value) {
        List<Item<T>> launch;
        synchronized (this) {
            if (closed) {
                return;
            }
            if (lanes.add(chatId, new Item<>(chatId, value))) {
                ready.add(chatId);
            }
            size++;
            launch = pump();
        }
        launchAll(launch);
    }

    /** Items not finished yet: queued, running or waiting to run again. */
    synchronized int size() {
        return size;
    }

    /** Handlings running now. */
    synchronized int running() {
        return running;
    }

    /**
     * Removes the items {@code which} selects: queued and waiting ones at once, running ones are cancelled (their
     * outcome is still reported if it finishes the thought). Returns the results of the cancelled handlings.
     */
    List<CompletableFuture<Disposition>> drop(Predicate<T> which) {
        List<Handling> cancel = new ArrayList<>();
        List<CompletableFuture<Disposition>> results = new ArrayList<>();
        List<Item<T>> launch;
        synchronized (this) {
            for (Item<T> item : lanes.removeQueued(item -> which.test(item.value))) {
                item.dropped = true;
                size--;
            }
            for (Item<T> head : lanes.heads()) {
                if (!which.test(head.value)) {
                    continue;
                }
                head.dropped = true;
                size--;
                if (head.state == State.RUNNING) {
                    if (head.started != null) {
                        cancel.add(head.started);
                        results.add(head.started.result());
                    }
                    // launchAll() cancels it when its launch is still under way; its end frees the lane.
                } else {
                    // A READY lane keeps its place in the ready queue for its next item; a WAITING one joins it.
                    boolean wasReady = head.state == State.READY;
                    Item<T> next = lanes.advance(head.chatId);
                    if (next == null && wasReady) {
                        ready.remove(head.chatId);
                    } else if (next != null && !wasReady) {
                        ready.add(head.chatId);
                    }
                }
            }
            launch = pump();
        }
        cancel.forEach(Handling::cancel);
        launchAll(launch);
        return results;
    }

    /** Drops everything and accepts nothing more; returns the results of the handlings cancelled. */
    List<CompletableFuture<Disposition>> close() {
        List<CompletableFuture<Disposition>> results = drop(v -> true);
        synchronized (this) {
            closed = true;
        }
        return results;
    }

    /** Under the lock: starts READY heads, in the order they became ready, while slots are free. */
    private List<Item<T>> pump() {
        List<Item<T>> launch = new ArrayList<>();
        while (!closed && running < concurrency && !ready.isEmpty()) {
            Item<T> head = lanes.head(ready.poll());
            head.state = State.RUNNING;
            running++;
            launch.add(head);
        }
        return launch;
    }

    private void launchAll(List<Item<T>> items) {
        for (Item<T> item : items) {
            Handling started;
            try {
                started = launcher.launch(item);
            } catch (RuntimeException e) {
                LOG.error("could not start handling a thought of chat {}; trying again later", item.chatId, e);
                started = failed();
            }
            boolean cancel;
            synchronized (this) {
                item.started = started;
                cancel = item.dropped;
            }
            if (cancel) {
                started.cancel();
            }
            started.result().whenComplete((d, error) -> completed(item, error != null ? Disposition.RETRY : d));
        }
    }

    private static Handling failed() {
        CompletableFuture<Disposition> result = CompletableFuture.completedFuture(Disposition.RETRY);
        return new Handling() {
            @Override
            public CompletableFuture<Disposition> result() {
                return result;
            }

            @Override
            public void cancel() {
                // Nothing runs.
            }
        };
    }

    private void completed(Item<T> item, Disposition disposition) {
        List<Item<T>> launch;
        boolean report = disposition.finished();
        synchronized (this) {
            running--;
            item.started = null;
            boolean head = lanes.head(item.chatId) == item;
            if (item.dropped || disposition.finished()) {
                if (!item.dropped) {
                    size--;
                }
                if (head) {
                    advance(item.chatId);
                }
            } else if (head) {
                item.tries++;
                item.state = State.WAITING;
                Duration delay = disposition == Disposition.WAIT ? waitDelay : retryBackoff.delay(item.tries);
                try {
                    scheduler.schedule(() -> again(item), delay.toMillis(), TimeUnit.MILLISECONDS);
                } catch (RejectedExecutionException e) {
                    LOG.debug("not retrying chat {}: shutting down", item.chatId);
                }
            }
            launch = pump();
        }
        if (report) {
            finisher.finished(item, disposition);
        }
        launchAll(launch);
    }

    private void again(Item<T> item) {
        List<Item<T>> launch;
        synchronized (this) {
            if (closed || item.dropped || lanes.head(item.chatId) != item || item.state != State.WAITING) {
                return;
            }
            item.state = State.READY;
            ready.add(item.chatId);
            launch = pump();
        }
        launchAll(launch);
    }

    /** Under the lock: the lane's head is done; the next item queues up for a slot, or the lane goes away. */
    private void advance(long chatId) {
        if (lanes.advance(chatId) != null) {
            ready.add(chatId);
        }
    }
}
