package dev.thoughtstream.emitter;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.Delayed;
import java.util.concurrent.FutureTask;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * A scheduler on virtual time, for tests that must see what happens during a delay without waiting it out. Tasks
 * that are due run at once, on one daemon thread of their own (as on a real scheduler, never on the caller's
 * thread); tasks that are not due wait until the test {@link #advance advances} the time past them. {@link #clock()}
 * reads the same virtual time, so rate limits and typing deadlines agree with the timers.
 */
public final class ManualScheduler extends AbstractExecutorService implements ScheduledExecutorService {
    private final PriorityQueue<Task<?>> tasks = new PriorityQueue<>();
    private final Thread runner;
    private long nowMs;
    private long sequence;
    private boolean shutdown;

    public ManualScheduler() {
        nowMs = System.currentTimeMillis();
        runner = new Thread(this::runDueTasks, "manual-scheduler");
        runner.setDaemon(true);
        runner.start();
    }

    /** Virtual time. */
    public Clock clock() {
        return new Clock() {
            @Override
            public ZoneId getZone() {
                return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
                return this;
            }

            @Override
            public long millis() {
                return now();
            }

            @Override
            public Instant instant() {
                return Instant.ofEpochMilli(now());
            }
        };
    }

    public synchronized long now() {
        return nowMs;
    }

    /** Moves virtual time forward; tasks that become due run (in due order) on the scheduler's thread. */
    public synchronized void advance(Duration by) {
        nowMs += by.toMillis();
        notifyAll();
    }

    /** Delays of the timers still pending (not cancelled), from now, shortest first. */
    public synchronized List<Duration> pendingDelays() {
        List<Duration> out = new ArrayList<>();
        tasks.stream().filter(t -> !t.isCancelled()).sorted().forEach(t -> out.add(Duration.ofMillis(t.dueMs - nowMs)));
        return out;
    }

    private void runDueTasks() {
        while (true) {
            Task<?> next;
            synchronized (this) {
                while (!shutdown && (tasks.isEmpty() || tasks.peek().dueMs > nowMs)) {
                    try {
                        wait();
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                if (shutdown) {
                    return;
                }
                next = tasks.poll();
            }
            next.run();
        }
    }

    private synchronized <V> Task<V> add(Task<V> task) {
        if (shutdown) {
            throw new RejectedExecutionException("the manual scheduler is shut down");
        }
        tasks.add(task);
        notifyAll();
        return task;
    }

    private final class Task<V> extends FutureTask<V> implements ScheduledFuture<V> {
        final long dueMs;
        final long order;

        Task(Callable<V> callable, long dueMs) {
            super(callable);
            this.dueMs = dueMs;
            synchronized (ManualScheduler.this) {
                this.order = sequence++;
            }
        }

        @Override
        public long getDelay(TimeUnit unit) {
            return unit.convert(dueMs - now(), TimeUnit.MILLISECONDS);
        }

        @Override
        public int compareTo(Delayed other) {
            Task<?> o = (Task<?>) other;
            int byDue = Long.compare(dueMs, o.dueMs);
            return byDue != 0 ? byDue : Long.compare(order, o.order);
        }

        @Override
        public boolean cancel(boolean mayInterrupt) {
            boolean cancelled = super.cancel(mayInterrupt);
            synchronized (ManualScheduler.this) {
                tasks.remove(this);
            }
            return cancelled;
        }
    }

    @Override
    public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
        return add(new Task<>(
                () -> {
                    command.run();
                    return null;
                },
                now() + Math.max(0, unit.toMillis(delay))));
    }

    @Override
    public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
        return add(new Task<>(callable, now() + Math.max(0, unit.toMillis(delay))));
    }

    @Override
    public void execute(Runnable command) {
        schedule(command, 0, TimeUnit.MILLISECONDS);
    }

    @Override
    public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
        throw new UnsupportedOperationException("not needed by the emitter");
    }

    @Override
    public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
        throw new UnsupportedOperationException("not needed by the emitter");
    }

    @Override
    public synchronized void shutdown() {
        shutdown = true;
        notifyAll();
    }

    @Override
    public synchronized List<Runnable> shutdownNow() {
        shutdown = true;
        List<Runnable> left = new ArrayList<>(tasks);
        tasks.clear();
        notifyAll();
        return left;
    }

    @Override
    public synchronized boolean isShutdown() {
        return shutdown;
    }

    @Override
    public boolean isTerminated() {
        return isShutdown() && !runner.isAlive();
    }

    @Override
    public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
        runner.join(unit.toMillis(timeout));
        return !runner.isAlive();
    }
}
