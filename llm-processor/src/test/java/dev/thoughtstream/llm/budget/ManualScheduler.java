package dev.thoughtstream.llm.budget;

import dev.thoughtstream.testkit.MutableClock;
import java.time.Duration;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A scheduler whose time is a {@link MutableClock}: tasks run on the test's thread, only when the test says so
 * ({@link #runDue()}, {@link #advance}), in the order of their due times. Time-based behaviour is then tested
 * without waiting for the time to pass, and without races. Periodic scheduling is not supported (the budget does
 * not use it).
 */
final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {
    private final MutableClock clock;
    private final PriorityQueue<Task> tasks = new PriorityQueue<>();
    private final AtomicLong sequence = new AtomicLong();
    private boolean shutdown;

    ManualScheduler(MutableClock clock) {
        this.clock = clock;
    }

    /** Runs every task due now, and those they schedule for now, on this thread. */
    void runDue() {
        for (Task task = nextDue(clock.millis()); task != null; task = nextDue(clock.millis())) {
            task.run();
        }
    }

    /** Moves the clock forward by {@code duration}, running each task at its due time on the way. */
    void advance(Duration duration) {
        long target = clock.millis() + duration.toMillis();
        runDue();
        while (true) {
            Task next;
            synchronized (this) {
                next = tasks.peek();
            }
            if (next == null || next.due > target) {
                break;
            }
            if (next.due > clock.millis()) {
                clock.advance(Duration.ofMillis(next.due - clock.millis()));
            }
            runDue();
        }
        clock.advance(Duration.ofMillis(target - clock.millis()));
        runDue();
    }

    private synchronized Task nextDue(long now) {
        while (!tasks.isEmpty() && tasks.peek().cancelled) {
            tasks.poll();
        }
        return !tasks.isEmpty() && tasks.peek().due <= now ? tasks.poll() : null;
    }

    @Override
    public synchronized ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        if (shutdown) {
            throw new java.util.concurrent.RejectedExecutionException("shut down");
        }
        Task task = new Task(command, clock.millis() + unit.toMillis(Math.max(0, delay)), sequence.incrementAndGet());
        tasks.add(task);
        return task;
    }

    @Override
    public void execute(Runnable command) {
        schedule(command, 0, TimeUnit.MILLISECONDS);
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException();
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        throw new UnsupportedOperationException();
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException();
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
    }

    @Override
    public synchronized List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> pending =
                tasks.stream().filter(t -> !t.cancelled).map(t -> t.command).toList();
        tasks.clear();
        return pending;
    }

    @Override
    public synchronized boolean isShutdown() {
        return shutdown;
    }

    @Override
    public synchronized boolean isTerminated() {
        return shutdown;
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) {
        return isTerminated();
    }

    private final class Task implements ScheduledFuture<Object>, Runnable {
        final Runnable command;
        final long due;
        final long seq;
        volatile boolean cancelled;
        volatile boolean done;

        Task(Runnable command, long due, long seq) {
            this.command = command;
            this.due = due;
            this.seq = seq;
        }

        @Override
        public void run() {
            try {
                command.run();
            } finally {
                done = true;
            }
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(due - clock.millis(), TimeUnit.MILLISECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            Task o = (Task) other;
            return due != o.due ? Long.compare(due, o.due) : Long.compare(seq, o.seq);
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            if (done) {
                return false;
            }
            cancelled = true;
            return true;
        }

        @Override
        public boolean isCancelled() {
            return cancelled;
        }

        @Override
        public boolean isDone() {
            return done || cancelled;
        }

        @Override
        public Object get() {
            throw new UnsupportedOperationException("a manual task is not waited for");
        }

        @Override
        public Object get(long timeout, TimeUnit unit) {
            throw new UnsupportedOperationException("a manual task is not waited for");
        }
    }
}
