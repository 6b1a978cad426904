package dev.thoughtstream.emitter.lane;

import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.logging.LogContext;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the lanes' work runs, so that no thread ever waits for a chat: a wait is a timer on the scheduler, a blocking
 * call (Redis, Telegram) a task on the bounded send pool, an outcome a hand-over on the one publishing thread (which
 * keeps the order of the hand-overs), and every state change happens under the one {@link #lock} in between.
 * {@link #halt} stops all of it at once, the way a crash would.
 */
final class LaneRuntime {
    private static final Logger LOG = LoggerFactory.getLogger(LaneRuntime.class);

    /** A state change under the lock; {@code acks} collects the outcomes it hands over. */
    @FunctionalInterface
    interface Change {
        void apply(List<CompletableFuture<?>> acks);
    }

    /** What a failed {@link Change} leaves to do, under the lock. */
    @FunctionalInterface
    interface Recovery {
        void recover(RuntimeException failure, List<CompletableFuture<?>> acks);
    }

    private final Object lock = new Object();
    private final ScheduledExecutorService scheduler;
    private final Executor workers;
    private final Executor publisher;
    private volatile boolean halted;

    LaneRuntime(ScheduledExecutorService scheduler, Executor workers, Executor publisher) {
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.workers = Objects.requireNonNull(workers, "workers");
        this.publisher = Objects.requireNonNull(publisher, "publisher");
    }

    /** The lanes' one lock. */
    Object lock() {
        return lock;
    }

    /**
     * Applies {@code change} under the lock unless halted; when it throws, {@code recovery} runs under the lock. Then
     * {@code busy} (if any) completes once the outcomes handed over meanwhile are stored.
     */
    void apply(CompletableFuture<Void> busy, Change change, Recovery recovery) {
        List<CompletableFuture<?>> acks = new ArrayList<>();
        try {
            synchronized (lock) {
                if (!halted) {
                    change.apply(acks);
                }
            }
        } catch (RuntimeException e) {
            synchronized (lock) {
                recovery.recover(e, acks);
            }
        } finally {
            if (busy != null) {
                CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new))
                        .whenComplete((v, e) -> busy.complete(null));
            }
        }
    }

    /** Runs {@code task} on the scheduler after {@code delay}; null when the scheduler is shut down. */
    ScheduledFuture<?> after(long chatId, Duration delay, Runnable task) {
        try {
            return scheduler.schedule(task, delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("chat {}: not scheduling the next step, stopping", chatId);
            return null;
        }
    }

    /** Runs {@code task} on the scheduler as soon as it can (never on the caller's thread). */
    void soon(long chatId, Runnable task) {
        try {
            scheduler.execute(task);
        } catch (RejectedExecutionException e) {
            LOG.debug("chat {}: not going on, stopping", chatId);
        }
    }

    /** Runs a blocking call on a send thread; false (and {@code done} completed) when the pool is shut down. */
    boolean blocking(CompletableFuture<Void> done, Runnable call) {
        try {
            workers.execute(() -> {
                if (halted) {
                    done.complete(null);
                    return;
                }
                try {
                    call.run();
                } catch (RuntimeException e) {
                    // The lanes catch what a step throws; this is the last line of defence.
                    LOG.error("a blocking emitter call failed", e);
                    done.complete(null);
                }
            });
            return true;
        } catch (RejectedExecutionException e) {
            done.complete(null);
            return false;
        }
    }

    /**
     * Hands {@code part}'s outcome over on the publishing thread, in the order of these calls. The result completes
     * when {@code handOver}'s future does (the outcome is stored or failed), or at once when it cannot be handed
     * over.
     */
    CompletableFuture<?> publish(ReplyPart part, Supplier<CompletableFuture<?>> handOver) {
        CompletableFuture<Void> stored = new CompletableFuture<>();
        try {
            publisher.execute(() -> {
                try (LogContext ignored = LogContext.of(part.chatId(), part.thoughtId(), part.replyId())) {
                    handOver.get().whenComplete((v, e) -> stored.complete(null));
                } catch (RuntimeException e) {
                    LOG.error(
                            "chat {} reply {} part {}: the outcome could not be handed over",
                            part.chatId(),
                            part.replyId(),
                            part.seq(),
                            e);
                    stored.complete(null);
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.debug("not reporting chat {} reply {} part {}: stopping", part.chatId(), part.replyId(), part.seq());
            stored.complete(null);
        }
        return stored;
    }

    /** Stops dead: blocking calls not yet begun are skipped, and no change is applied any more. */
    void halt() {
        halted = true;
    }

    boolean halted() {
        return halted;
    }
}
