package dev.thoughtstream.emitter.lane;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.lane.KeyedLanes;
import dev.thoughtstream.common.logging.LogContext;
import dev.thoughtstream.common.retry.Backoff;
import dev.thoughtstream.emitter.EmitterMetrics;
import dev.thoughtstream.emitter.lane.DeliverySteps.Event;
import dev.thoughtstream.emitter.lane.DeliverySteps.Step;
import dev.thoughtstream.emitter.pace.SendPacer;
import dev.thoughtstream.emitter.pace.TypingDelay;
import io.opentelemetry.context.Scope;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One lane per chat: a chat's parts go out one after another in the order they were submitted, each message after
 * "typing..." for its typing delay, within the rate limits, at most once; lanes of different chats are independent.
 * Each part at the head of its lane goes through the steps of {@link DeliverySteps}; this class does what each step
 * does and turns what happens into the table's events, on {@link LaneRuntime} (timers, the send pool, one lock), so
 * no thread ever waits for a chat. Outcomes go to {@link Outcomes} in each chat's order. See docs/emitter.md.
 *
 * @param <W> the caller's handle for a part's record
 */
public final class DeliveryLanes<W> {
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryLanes.class);
    static final long TYPING_REFRESH_SECONDS = 4;
    /** Telegram clears the typing indicator after 5 s; it is repeated a little before. */
    static final Duration TYPING_REFRESH = Duration.ofSeconds(TYPING_REFRESH_SECONDS);
    /** Waits after Telegram did not take a message (5xx, no connection) and gave no {@code retry_after}. */
    public static final Backoff RETRY_BACKOFF = Backoff.exponential(Duration.ofMillis(500), Duration.ofSeconds(30));
    /** Waits for Redis when it does not answer and the mode is fail-closed. */
    public static final Backoff REDIS_BACKOFF = Backoff.exponential(Duration.ofMillis(200), Duration.ofSeconds(5));

    /** Where finished parts go. Called on one publishing thread, in each chat's order. */
    @FunctionalInterface
    public interface Outcomes<W> {
        /** Returns once the outcome is handed over; the future completes when it is safely stored (or failed). */
        CompletableFuture<?> completed(W work, Delivery outcome);
    }

    /** A state change of a part planned earlier, applied under the lock if the part is still where it was. */
    @FunctionalInterface
    private interface Planned<W> {
        void apply(DeliveryJob<W> job, List<CompletableFuture<?>> acks);
    }

    private final PartSender sender;
    private final SendPacer pacer;
    private final TypingDelay typingDelay;
    private final Duration readingPause;
    private final int maxAttempts;
    private final Clock clock;
    private final EmitterMetrics metrics;
    private final Outcomes<W> outcomes;
    private final LaneRuntime runtime;

    // Guarded by runtime.lock().
    private final KeyedLanes<Long, DeliveryJob<W>> lanes = new KeyedLanes<>();
    private boolean closed;
    // Outcomes handed over and not yet stored, with their part's work: a stop waits for them too, or a part that
    // was sent and reported just before a clean stop would stay uncommitted and be reported again by the next owner.
    private final Map<CompletableFuture<?>, W> unstored = new ConcurrentHashMap<>();

    public DeliveryLanes(
            PartSender sender,
            SendPacer pacer,
            TypingDelay typing,
            Duration readingPause,
            int maxAttempts,
            ScheduledExecutorService scheduler,
            Executor workers,
            Executor publisher,
            Clock clock,
            EmitterMetrics metrics,
            Outcomes<W> outcomes) {
        this.sender = Objects.requireNonNull(sender, "sender");
        this.pacer = Objects.requireNonNull(pacer, "pacer");
        this.typingDelay = Objects.requireNonNull(typing, "typing");
        this.readingPause = Objects.requireNonNull(readingPause, "readingPause");
        this.maxAttempts = maxAttempts;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.outcomes = Objects.requireNonNull(outcomes, "outcomes");
        this.runtime = new LaneRuntime(scheduler, workers, publisher);
    }

    // ---- entry points ------------------------------------------------------------------------------------------

    /** Queues {@code part} behind its chat's earlier parts. Ignored once closed (the part is then not reported). */
    public void submit(W work, ReplyPart part) {
        synchronized (runtime.lock()) {
            if (closed) {
                return;
            }
            DeliveryJob<W> job = new DeliveryJob<>(work, part, RETRY_BACKOFF, REDIS_BACKOFF);
            if (lanes.add(part.chatId(), job)) {
                try (LogContext ignored = context(part)) {
                    fire(job, Event.START, new ArrayList<>());
                }
            }
        }
    }

    /**
     * The staleness signal: chat {@code chatId} has a user message {@code messageId}. Every part of the chat that
     * answers an older message is dropped: at once when it is queued or waiting (its next step is cancelled), when
     * its blocking call returns when one is running.
     */
    public void newerMessage(long chatId, long messageId) {
        synchronized (runtime.lock()) {
            DeliveryJob<W> head = lanes.head(chatId);
            if (closed || head == null) {
                return;
            }
            try (LogContext ignored = context(head.part)) {
                for (DeliveryJob<W> job : lanes.queued(chatId)) {
                    markStale(job, messageId);
                }
                if (head.part.lastMessageId() < messageId) {
                    markStale(head, messageId);
                    if (!head.step().callRunning()) {
                        dropStale(head, head.staleReason, new ArrayList<>());
                    } else {
                        LOG.debug(
                                "chat {} reply {} part {} is stale; its running {} will drop it",
                                chatId,
                                head.part.replyId(),
                                head.part.seq(),
                                head.step());
                    }
                }
            }
        }
    }

    private static void markStale(DeliveryJob<?> job, long messageId) {
        if (job.part.lastMessageId() < messageId && job.staleReason == null) {
            job.staleReason = PartSender.staleReason(job.part, messageId);
        }
    }

    /**
     * Stops handling the parts {@code which} selects (their partitions were revoked, or the emitter stops): queued
     * and waiting ones are let go at once (no claim is held while waiting, so there is nothing to release, and they
     * are not reported: the partition's next owner sends them). Returns the futures of their running checks and
     * attempts, and of their outcomes not yet stored; an attempt that finishes its part still reports it, so the
     * caller can wait and commit it.
     */
    public List<CompletableFuture<Void>> abandon(Predicate<W> which) {
        List<CompletableFuture<Void>> running = new ArrayList<>();
        synchronized (runtime.lock()) {
            for (DeliveryJob<W> job : lanes.removeQueued(queued -> which.test(queued.work))) {
                job.move(Event.ABANDONED);
            }
            List<CompletableFuture<?>> acks = new ArrayList<>();
            for (DeliveryJob<W> head : lanes.heads()) {
                if (!which.test(head.work)) {
                    continue;
                }
                if (head.step().callRunning()) {
                    head.abandoned = true;
                    running.add(head.busy);
                } else {
                    leave(head, acks);
                }
            }
        }
        unstored.forEach((stored, work) -> {
            if (which.test(work)) {
                running.add(stored.thenRun(() -> {}));
            }
        });
        return running;
    }

    /** Accepts nothing more (after {@link #abandon}ing everything, on a clean stop). */
    public void close() {
        synchronized (runtime.lock()) {
            closed = true;
        }
    }

    /**
     * Stops dead, the way a crash would: nothing more is typed, sent, recorded or reported, timers are cancelled,
     * running calls are left to themselves and their results ignored. For tests of what a restart finds.
     */
    public void halt() {
        synchronized (runtime.lock()) {
            runtime.halt();
            closed = true;
            lanes.heads().forEach(DeliveryJob::cancelWaits);
            lanes.clear();
        }
    }

    /** Chats with parts queued, waiting or being sent. */
    public int lanes() {
        synchronized (runtime.lock()) {
            return lanes.keys();
        }
    }

    /** Parts held and not finished. */
    public int pending() {
        synchronized (runtime.lock()) {
            return lanes.size();
        }
    }

    // ---- the steps: what each one does ---------------------------------------------------------------------------

    /** Under the lock: moves {@code job} on by {@code event} and starts what its new step does. */
    private void fire(DeliveryJob<W> job, Event event, List<CompletableFuture<?>> acks) {
        Step next = job.move(event);
        switch (next) {
            case CHECKING -> check(job);
            case READING -> read(job, acks);
            case TYPING -> type(job, acks);
            case PACING -> pace(job, acks);
            default -> throw new IllegalStateException("step " + next + " needs more than event " + event);
        }
    }

    private void check(DeliveryJob<W> job) {
        int turn = job.turn();
        CompletableFuture<Void> busy = new CompletableFuture<>();
        job.busy = busy;
        String key = job.messages.key();
        runtime.blocking(busy, () -> {
            try (LogContext ignored = context(job.part)) {
                PartSender.Check result;
                try {
                    result = sender.check(job.part, key);
                } catch (RuntimeException e) {
                    failed(job, turn, busy, e);
                    return;
                }
                later(job, turn, busy, (j, acks) -> checked(j, result, acks));
            }
        });
    }

    private void read(DeliveryJob<W> job, List<CompletableFuture<?>> acks) {
        if (job.messages.opensReply() && !readingPause.isZero()) {
            job.timer = timer(job, readingPause, Event.ELAPSED);
        } else {
            fire(job, Event.ELAPSED, acks);
        }
    }

    private void type(DeliveryJob<W> job, List<CompletableFuture<?>> acks) {
        Duration delay = typingDelay.forText(job.messages.text());
        if (delay.isZero() || delay.isNegative()) {
            fire(job, Event.ELAPSED, acks);
            return;
        }
        int turn = job.turn();
        job.typing.endsAtMs = clock.millis() + delay.toMillis();
        job.typing.call = typingCall(job);
        job.timer = runtime.after(job.part.chatId(), delay, () -> later(job, turn, null, this::typingDone));
        if (delay.compareTo(TYPING_REFRESH) > 0) {
            job.typing.refresh =
                    runtime.after(job.part.chatId(), TYPING_REFRESH, () -> later(job, turn, null, this::refreshTyping));
        }
    }

    private void refreshTyping(DeliveryJob<W> job, List<CompletableFuture<?>> acks) {
        job.typing.call = typingCall(job);
        long left = job.typing.endsAtMs - clock.millis();
        int turn = job.turn();
        job.typing.refresh = left > TYPING_REFRESH.toMillis()
                ? runtime.after(job.part.chatId(), TYPING_REFRESH, () -> later(job, turn, null, this::refreshTyping))
                : null;
    }

    /** Shows "typing..." from a send thread; the message waits for it, so the indicator never follows it. */
    private CompletableFuture<Void> typingCall(DeliveryJob<W> job) {
        CompletableFuture<Void> call = new CompletableFuture<>();
        runtime.blocking(call, () -> {
            boolean live;
            synchronized (runtime.lock()) {
                live = job.step() == Step.TYPING;
            }
            if (live) {
                sender.typing(job.part.chatId());
            }
            call.complete(null);
        });
        return call;
    }

    private void typingDone(DeliveryJob<W> job, List<CompletableFuture<?>> acks) {
        job.typing.stopRefreshing();
        CompletableFuture<Void> call = job.typing.call;
        if (call == null || call.isDone()) {
            fire(job, Event.ELAPSED, acks);
            return;
        }
        int turn = job.replan();
        call.whenComplete((v, e) ->
                runtime.soon(job.part.chatId(), () -> later(job, turn, null, (j, a) -> fire(j, Event.ELAPSED, a))));
    }

    private void pace(DeliveryJob<W> job, List<CompletableFuture<?>> acks) {
        int turn = job.turn();
        SendPacer.Request request = pacer.acquire(job.part.chatId(), permit -> granted(job, turn, permit));
        SendPacer.Permit now = request.grantedNow();
        if (now != null) {
            send(job, now);
        } else {
            job.pacing = request;
        }
    }

    private void granted(DeliveryJob<W> job, int turn, SendPacer.Permit permit) {
        boolean[] used = {false};
        later(job, turn, null, (j, acks) -> {
            used[0] = true;
            j.pacing = null;
            send(j, permit);
        });
        if (!used[0]) {
            permit.release(false);
        }
    }

    /** Under the lock: GRANTED, so the attempt (claim, send, record) starts on a send thread with {@code permit}. */
    private void send(DeliveryJob<W> job, SendPacer.Permit permit) {
        job.move(Event.GRANTED);
        int turn = job.turn();
        CompletableFuture<Void> busy = new CompletableFuture<>();
        job.busy = busy;
        String key = job.messages.key();
        String text = job.messages.text();
        boolean started = runtime.blocking(busy, () -> {
            try (LogContext ignored = context(job.part)) {
                PartSender.Attempt attempt;
                try (Scope traced = job.trace.makeCurrent()) {
                    attempt = sender.attempt(job.part, key, text, permit, job.staleReason);
                } catch (RuntimeException e) {
                    permit.release(true);
                    failed(job, turn, busy, e);
                    return;
                }
                later(job, turn, busy, (j, acks) -> attempted(j, attempt, acks));
            }
        });
        if (!started) {
            permit.release(false);
        }
    }

    /** Under the lock: {@code event} leads to a wait; after {@code wait} the part goes on. */
    private void waitThen(DeliveryJob<W> job, Event event, Duration wait) {
        job.move(event);
        job.timer = timer(job, wait, Event.ELAPSED);
    }

    private ScheduledFuture<?> timer(DeliveryJob<W> job, Duration delay, Event then) {
        int turn = job.turn();
        return runtime.after(job.part.chatId(), delay, () -> later(job, turn, null, (j, acks) -> fire(j, then, acks)));
    }

    // ---- what happened: results turned into events ---------------------------------------------------------------

    private void checked(DeliveryJob<W> job, PartSender.Check result, List<CompletableFuture<?>> acks) {
        if (job.abandoned) {
            leave(job, acks);
        } else if (job.staleReason != null) {
            dropStale(job, job.staleReason, acks);
        } else if (result instanceof PartSender.Check.Stale s) {
            dropStale(job, s.reason(), acks);
        } else if (result instanceof PartSender.Check.Recorded r) {
            earlier(job, r.earlier(), acks);
        } else if (result instanceof PartSender.Check.RedisDown d) {
            redisDown(job, d.error());
        } else {
            fire(job, Event.CLEAR, acks);
        }
    }

    private void attempted(DeliveryJob<W> job, PartSender.Attempt attempt, List<CompletableFuture<?>> acks) {
        if (attempt instanceof PartSender.Attempt.Sent s) {
            messageSent(job, s.messageId(), true, acks);
        } else if (attempt instanceof PartSender.Attempt.Recorded r) {
            earlier(job, r.earlier(), acks);
        } else if (attempt instanceof PartSender.Attempt.Failed f) {
            if (!f.reason().startsWith(Delivery.MAYBE_SENT)) {
                // A message that may have been sent is logged with its outcome (report).
                LOG.warn(
                        "chat {} reply {} part {} not sent: {}",
                        job.part.chatId(),
                        job.part.replyId(),
                        job.part.seq(),
                        f.reason());
            }
            finish(job, Event.FINISHED, Delivery.Outcome.FAILED, f.reason(), acks);
        } else if (attempt instanceof PartSender.Attempt.Stale s) {
            dropStale(job, s.reason(), acks);
        } else if (job.abandoned) {
            // Nothing went out and nothing is held: the partition's next owner sends it.
            leave(job, acks);
        } else if (job.staleReason != null) {
            dropStale(job, job.staleReason, acks);
        } else if (attempt instanceof PartSender.Attempt.RedisDown d) {
            redisDown(job, d.error());
        } else if (attempt instanceof PartSender.Attempt.Again again) {
            notTaken(job, again, acks);
        }
    }

    private void notTaken(DeliveryJob<W> job, PartSender.Attempt.Again again, List<CompletableFuture<?>> acks) {
        job.attempts++;
        if (again.retryAfter() != null) {
            metrics.rateLimited("telegram");
        }
        if (job.attempts >= maxAttempts) {
            String reason = "gave up after " + job.attempts + " attempts: " + again.reason();
            LOG.warn(
                    "chat {} reply {} part {} not sent: {}",
                    job.part.chatId(),
                    job.part.replyId(),
                    job.part.seq(),
                    reason);
            finish(job, Event.FINISHED, Delivery.Outcome.FAILED, reason, acks);
            return;
        }
        Duration wait = again.retryAfter() != null ? again.retryAfter() : job.retryWaits.next();
        LOG.warn(
                "chat {} reply {} part {} attempt {} of {} not taken ({}); trying again in {} ms (this chat only)",
                job.part.chatId(),
                job.part.replyId(),
                job.part.seq(),
                job.attempts,
                maxAttempts,
                again.reason(),
                wait.toMillis());
        waitThen(job, Event.NOT_TAKEN, wait);
    }

    private void redisDown(DeliveryJob<W> job, String error) {
        Duration wait = job.redisWaits.next();
        LOG.info(
                "chat {} reply {} part {} waits {} ms for Redis (fail-closed): {}",
                job.part.chatId(),
                job.part.replyId(),
                job.part.seq(),
                wait.toMillis(),
                error);
        waitThen(job, Event.REDIS_DOWN, wait);
    }

    /** What an earlier attempt left: a sent message counts as sent; any other outcome ends the part with it. */
    private void earlier(DeliveryJob<W> job, PartSender.Earlier earlier, List<CompletableFuture<?>> acks) {
        if (earlier.outcome() == Delivery.Outcome.SENT) {
            messageSent(job, earlier.messageId(), false, acks);
        } else {
            finish(job, Event.FINISHED, earlier.outcome(), earlier.reason(), acks);
        }
    }

    private void messageSent(DeliveryJob<W> job, long messageId, boolean here, List<CompletableFuture<?>> acks) {
        if (here && job.messages.opensReply()) {
            metrics.firstPartDelay(Duration.ofMillis(clock.millis() - job.part.createdAtMs()));
            Long lastWritten = job.part.lastMessageAtMs();
            if (lastWritten != null) {
                metrics.firstBubbleWait(Duration.ofMillis(clock.millis() - lastWritten));
            }
        }
        job.messages.sent(messageId);
        if (job.messages.last()) {
            finish(job, Event.FINISHED, Delivery.Outcome.SENT, null, acks);
        } else if (job.staleReason != null) {
            dropStale(job, job.staleReason, acks);
        } else if (job.abandoned) {
            // Its sent messages are recorded; the partition's next owner finds them and sends the rest.
            leave(job, acks);
        } else {
            job.nextMessage();
            fire(job, Event.NEXT_MESSAGE, acks);
        }
    }

    // ---- leaving the lane ----------------------------------------------------------------------------------------

    private void dropStale(DeliveryJob<W> job, String reason, List<CompletableFuture<?>> acks) {
        logStale(job, reason);
        finish(job, Event.STALE, Delivery.Outcome.DROPPED_STALE, reason, acks);
    }

    private void logStale(DeliveryJob<W> job, String reason) {
        metrics.staleDrop();
        LOG.info("chat {} reply {} part {} dropped: {}", job.part.chatId(), job.part.replyId(), job.part.seq(), reason);
    }

    /** Under the lock: the head's outcome is known; it is reported and the lane goes on. */
    private void finish(
            DeliveryJob<W> job, Event event, Delivery.Outcome outcome, String reason, List<CompletableFuture<?>> acks) {
        report(job, event, outcome, reason, acks);
        goOn(job.part.chatId(), acks);
    }

    /** Under the lock: {@code job} is DONE and its outcome handed over. */
    private void report(
            DeliveryJob<W> job, Event event, Delivery.Outcome outcome, String reason, List<CompletableFuture<?>> acks) {
        job.move(event);
        job.cancelWaits();
        Delivery delivery = job.messages.outcome(outcome, reason, clock.millis());
        metrics.part(delivery.outcome());
        if (delivery.mayHaveBeenSent()) {
            // Never a silent loss: the person may or may not have the message, and nobody will find out later.
            metrics.maybeSent();
            LOG.warn(
                    "chat {} thought {} reply {} part {} may have reached the person; not resent, reported {}: {}",
                    delivery.chatId(),
                    delivery.thoughtId(),
                    delivery.replyId(),
                    delivery.seq(),
                    delivery.outcome(),
                    delivery.reason());
        }
        CompletableFuture<?> stored = runtime.publish(job.part, () -> outcomes.completed(job.work, delivery));
        unstored.put(stored, job.work);
        stored.whenComplete((v, e) -> unstored.remove(stored));
        acks.add(stored);
    }

    /** Under the lock: the head leaves without an outcome (abandoned), and the lane goes on. */
    private void leave(DeliveryJob<W> job, List<CompletableFuture<?>> acks) {
        job.move(Event.ABANDONED);
        job.cancelWaits();
        goOn(job.part.chatId(), acks);
    }

    /**
     * Under the lock: the lane's head has left; the next part starts, or the lane goes away. Parts already known to
     * be stale are reported on the way, in the loop rather than by recursion, however many there are.
     */
    private void goOn(long chatId, List<CompletableFuture<?>> acks) {
        for (DeliveryJob<W> next = lanes.advance(chatId); next != null; next = lanes.advance(chatId)) {
            try (LogContext ignored = context(next.part)) {
                if (next.staleReason == null) {
                    fire(next, Event.START, acks);
                    return;
                }
                logStale(next, next.staleReason);
                report(next, Event.STALE, Delivery.Outcome.DROPPED_STALE, next.staleReason, acks);
            }
        }
    }

    // ---- plumbing ------------------------------------------------------------------------------------------------

    /**
     * Applies {@code change} to {@code job} if it is still at {@code turn} and its lane's head; a change that throws
     * reports the part FAILED. Then {@code busy} (if any) completes once the outcomes it produced are stored.
     */
    private void later(DeliveryJob<W> job, int turn, CompletableFuture<Void> busy, Planned<W> change) {
        try (LogContext ignored = context(job.part)) {
            apply(job, turn, busy, change);
        }
    }

    private void apply(DeliveryJob<W> job, int turn, CompletableFuture<Void> busy, Planned<W> change) {
        long chatId = job.part.chatId();
        runtime.apply(
                busy,
                acks -> {
                    if (job.at(turn) && lanes.head(chatId) == job) {
                        change.apply(job, acks);
                    }
                },
                (e, acks) -> {
                    LOG.error(
                            "chat {} reply {} part {}: a lane step failed; the part is reported FAILED and the lane goes on",
                            chatId,
                            job.part.replyId(),
                            job.part.seq(),
                            e);
                    if (lanes.head(chatId) == job && !job.step().terminal()) {
                        finish(job, Event.ERROR, Delivery.Outcome.FAILED, "emitter error: " + e, acks);
                    }
                });
    }

    /** The ids of the part a lane step works on, for every line it logs (timers and send threads included). */
    private static LogContext context(ReplyPart part) {
        return LogContext.of(part.chatId(), part.thoughtId(), part.replyId());
    }

    /** A blocking step threw (a bug): the part is reported FAILED rather than left to hold its lane forever. */
    private void failed(DeliveryJob<W> job, int turn, CompletableFuture<Void> busy, RuntimeException e) {
        LOG.error(
                "chat {} reply {} part {}: a blocking step failed",
                job.part.chatId(),
                job.part.replyId(),
                job.part.seq(),
                e);
        later(
                job,
                turn,
                busy,
                (j, acks) -> finish(j, Event.ERROR, Delivery.Outcome.FAILED, "emitter error: " + e, acks));
    }
}
