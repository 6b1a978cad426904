package dev.thoughtstream.llm.consume;

import dev.thoughtstream.llm.handle.Disposition;
import dev.thoughtstream.llm.handle.Handling;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Group mode's scheduler: one lane per chat, so a chat's thoughts run strictly one after another in the order they
 * were submitted, while lanes of different chats run in parallel, at most {@code concurrency} at a time. A slow or
 * failing thought holds up its own chat only.
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

        private Item(long chatId, T value) {
            this.chatId = chatId;
            this.value = value;
        }
    }

    private enum State { READY, RUNNING, WAITING }

    private static final class Lane<T> {
        final ArrayDeque<Item<T>> pending = new ArrayDeque<>();
        /** The item running, waiting to run again, or about to run; null when the next one comes from pending. */
        Item<T> current;
        State state = State.READY;
    }

    private final int concurrency;
    private final ScheduledExecutorService scheduler;
    private final Launcher<T> launcher;
    private final Finisher<T> finisher;
    private final Duration waitDelay;
    private final Duration retryBase;
    private final Duration retryMax;

    private final Map<Long, Lane<T>> lanes = new HashMap<>();
    private final ArrayDeque<Lane<T>> ready = new ArrayDeque<>();
    private int running;
    private int size;
    private boolean closed;

    ChatLanes(int concurrency, ScheduledExecutorService scheduler, Launcher<T> launcher, Finisher<T> finisher,
            Duration waitDelay, Duration retryBase, Duration retryMax) {
        if (concurrency < 1) {
            throw new IllegalArgumentException("concurrency must be >= 1");
        }
        this.concurrency = concurrency;
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.launcher = Objects.requireNonNull(launcher, "launcher");
        this.finisher = Objects.requireNonNull(finisher, "finisher");
        this.waitDelay = waitDelay;
        this.retryBase = retryBase;
        this.retryMax = retryMax;
    }

    /** Queues {@code value} behind the chat's earlier items; it starts as soon as its lane and a slot are free. */
    void submit(long chatId, T value) {
        List<Item<T>> launch;
        synchronized (this) {
            if (closed) {
                return;
            }
            Lane<T> lane = lanes.get(chatId);
            if (lane == null) {
                lane = new Lane<>();
                lanes.put(chatId, lane);
                ready.add(lane);
            }
            lane.pending.add(new Item<>(chatId, value));
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
            for (Iterator<Lane<T>> it = lanes.values().iterator(); it.hasNext(); ) {
                Lane<T> lane = it.next();
                for (Iterator<Item<T>> items = lane.pending.iterator(); items.hasNext(); ) {
                    Item<T> item = items.next();
                    if (which.test(item.value)) {
                        item.dropped = true;
                        items.remove();
                        size--;
                    }
                }
                Item<T> current = lane.current;
                if (current != null && which.test(current.value)) {
                    current.dropped = true;
                    size--;
                    if (lane.state == State.RUNNING) {
                        if (current.started != null) {
                            cancel.add(current.started);
                            results.add(current.started.result());
                        }
                        // launchAll() cancels it when its launch is still under way.
                    } else {
                        lane.current = null;
                        if (lane.state == State.WAITING) {
                            lane.state = State.READY;
                            ready.add(lane);
                        }
                    }
                }
                if (lane.current == null && lane.pending.isEmpty() && lane.state != State.RUNNING) {
                    it.remove();
                    ready.remove(lane);
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

    /** Under the lock: takes lanes off the ready queue while slots are free. */
    private List<Item<T>> pump() {
        List<Item<T>> launch = new ArrayList<>();
        while (!closed && running < concurrency && !ready.isEmpty()) {
            Lane<T> lane = ready.poll();
            if (lane.current == null) {
                lane.current = lane.pending.poll();
            }
            if (lane.current == null) {
                lanes.values().remove(lane);
                continue;
            }
            lane.state = State.RUNNING;
            running++;
            launch.add(lane.current);
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
            Lane<T> lane = lanes.get(item.chatId);
            boolean head = lane != null && lane.current == item;
            if (item.dropped || disposition.finished()) {
                if (!item.dropped) {
                    size--;
                }
                if (head) {
                    lane.current = null;
                    advance(lane);
                }
            } else if (head) {
                item.tries++;
                lane.state = State.WAITING;
                Duration delay = delay(disposition, item.tries);
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

    private Duration delay(Disposition disposition, int tries) {
        if (disposition == Disposition.WAIT) {
            return waitDelay;
        }
        long factor = 1L << Math.min(tries - 1, 20);
        Duration backoff = retryBase.multipliedBy(factor);
        return backoff.compareTo(retryMax) > 0 ? retryMax : backoff;
    }

    private void again(Item<T> item) {
        List<Item<T>> launch;
        synchronized (this) {
            Lane<T> lane = lanes.get(item.chatId);
            if (closed || item.dropped || lane == null || lane.current != item || lane.state != State.WAITING) {
                return;
            }
            lane.state = State.READY;
            ready.add(lane);
            launch = pump();
        }
        launchAll(launch);
    }

    /** Under the lock: the lane's head is done; the next item queues up, or the lane goes away. */
    private void advance(Lane<T> lane) {
        if (lane.pending.isEmpty()) {
            lanes.values().remove(lane);
            ready.remove(lane);
        } else {
            lane.state = State.READY;
            ready.add(lane);
        }
    }
}
