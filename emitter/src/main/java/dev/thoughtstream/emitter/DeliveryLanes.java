package dev.thoughtstream.emitter;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One lane per chat: a chat's parts go out one after another in the order they were submitted, each message after
 * "typing..." for its typing delay, within the rate limits, at most once; lanes of different chats are independent.
 *
 * <p>No thread ever waits for a chat. Every wait (reading pause, typing delay, typing refresh, a rate limit, a 429's
 * {@code retry_after}, a backoff, fail-closed Redis) is a timer on the injected scheduler; every blocking call
 * (Redis, Telegram) is a task on the bounded send pool ({@link PartSender}); the lane's state changes under this
 * object's lock, between them. So a chat that waits holds nothing but its own lane.
 *
 * <p>A part's way: check (stale? an earlier outcome under its key?) → reading pause (first part of a reply) → typing
 * (sendChatAction, repeated every {@value #TYPING_REFRESH_SECONDS} s) → a send permit ({@link SendPacer}) → attempt
 * (last staleness check, claim, sendMessage, record) → the outcome, or a retry after Telegram's {@code retry_after}
 * or a backoff. A part over Telegram's 4096 characters is sent as several messages
 * ({@code TelegramText.split}), in order, each with its own typing, permit and claim; it still has one outcome.
 *
 * <p>Stale drop: {@link #newerMessage} (the staleness signal's pub/sub) drops at once every part of the chat that
 * answers an older message and is queued or waiting; the timer of its next step is cancelled, so nothing of it is
 * sent. A part whose attempt is already running is checked by the attempt itself right before the claim; only a
 * message already on the wire cannot be recalled.
 *
 * <p>Outcomes go to {@link Outcomes} in each chat's order (one publishing thread), together with the caller's
 * handle for the part's record. Parts {@link #abandon abandoned} (rebalance, shutdown) are not reported unless their
 * attempt was running and finished the part.
 */
final class DeliveryLanes<W> {
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryLanes.class);
    static final long TYPING_REFRESH_SECONDS = 4;
    /** Telegram clears the typing indicator after 5 s; it is repeated a little before. */
    static final Duration TYPING_REFRESH = Duration.ofSeconds(TYPING_REFRESH_SECONDS);
    static final Duration FIRST_BACKOFF = Duration.ofMillis(500);
    static final Duration MAX_BACKOFF = Duration.ofSeconds(30);
    static final Duration FIRST_REDIS_BACKOFF = Duration.ofMillis(200);
    static final Duration MAX_REDIS_BACKOFF = Duration.ofSeconds(5);
    static final int TELEGRAM_MAX_CHARS = 4096;

    /** Where finished parts go. Called on one publishing thread, in each chat's order. */
    @FunctionalInterface
    interface Outcomes<W> {
        /** Returns once the outcome is handed over; the future completes when it is safely stored (or failed). */
        CompletableFuture<?> completed(W work, Delivery outcome);
    }

    private enum Step { QUEUED, CHECKING, READING, TYPING, PACING, SENDING, RETRY_WAIT, REDIS_WAIT, DONE }

    /** A state change of a job, applied under the lock if the job is still where it was when it was planned. */
    @FunctionalInterface
    private interface Transition<W> {
        void apply(DeliveryLanes<W>.Lane lane, DeliveryLanes<W>.Job job, List<CompletableFuture<?>> acks);
    }

    final class Lane {
        final long chatId;
        final ArrayDeque<Job> queue = new ArrayDeque<>();
        Job head;

        Lane(long chatId) {
            this.chatId = chatId;
        }
    }

    final class Job {
        final W work;
        final ReplyPart part;
        final List<String> messages;
        // Guarded by the lanes' lock unless said otherwise.
        Step step = Step.QUEUED;
        /** Bumped by every step change; a timer or task of an earlier turn finds it moved on and does nothing. */
        int turn;
        int index;
        int attempts;
        Duration backoff = FIRST_BACKOFF;
        Duration redisBackoff = FIRST_REDIS_BACKOFF;
        Long firstMessageId;
        int sent;
        boolean sentHere;
        boolean abandoned;
        /** Set when a newer message of the chat arrived; read by the attempt on a send thread. */
        volatile String staleReason;
        long typingEndsAtMs;
        ScheduledFuture<?> timer;
        ScheduledFuture<?> refresh;
        SendPacer.Request pacing;
        CompletableFuture<Void> typingCall;
        /** Completes when a running check or attempt has been applied (and its outcomes stored). */
        CompletableFuture<Void> busy = CompletableFuture.completedFuture(null);

        Job(W work, ReplyPart part) {
            this.work = work;
            this.part = part;
            this.messages = messagesOf(part.text());
        }

        String key() {
            return PartSender.claimKey(part, index, messages.size());
        }

        String text() {
            return messages.get(index);
        }
    }

    private final PartSender sender;
    private final SendPacer pacer;
    private final TypingDelay typing;
    private final Duration readingPause;
    private final int maxAttempts;
    private final ScheduledExecutorService scheduler;
    private final Executor workers;
    private final Executor publisher;
    private final Clock clock;
    private final EmitterMetrics metrics;
    private final Outcomes<W> outcomes;

    private final Map<Long, Lane> lanes = new HashMap<>();
    private int pending;
    private boolean closed;
    private volatile boolean halted;

    DeliveryLanes(PartSender sender, SendPacer pacer, TypingDelay typing, Duration readingPause, int maxAttempts,
            ScheduledExecutorService scheduler, Executor workers, Executor publisher, Clock clock,
            EmitterMetrics metrics, Outcomes<W> outcomes) {
        this.sender = Objects.requireNonNull(sender, "sender");
        this.pacer = Objects.requireNonNull(pacer, "pacer");
        this.typing = Objects.requireNonNull(typing, "typing");
        this.readingPause = Objects.requireNonNull(readingPause, "readingPause");
        this.maxAttempts = maxAttempts;
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.workers = Objects.requireNonNull(workers, "workers");
        this.publisher = Objects.requireNonNull(publisher, "publisher");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.outcomes = Objects.requireNonNull(outcomes, "outcomes");
    }

    static List<String> messagesOf(String text) {
        if (text.length() <= TELEGRAM_MAX_CHARS) {
            return List.of(text);
        }
        List<String> pieces = TelegramText.split(text, TELEGRAM_MAX_CHARS);
        return pieces.isEmpty() ? List.of(text) : List.copyOf(pieces);
    }

    // ---- entry points ------------------------------------------------------------------------------------------

    /** Queues {@code part} behind its chat's earlier parts. Ignored once closed (the part is then not reported). */
    void submit(W work, ReplyPart part) {
        List<CompletableFuture<?>> acks = new ArrayList<>();
        synchronized (this) {
            if (closed) {
                return;
            }
            Lane lane = lanes.computeIfAbsent(part.chatId(), Lane::new);
            lane.queue.addLast(new Job(work, part));
            pending++;
            if (lane.head == null) {
                startNext(lane, acks);
            }
        }
    }

    /**
     * The staleness signal: chat {@code chatId} has a user message {@code messageId}. Every part of the chat that
     * answers an older message is dropped: at once when it is queued or waiting (its next step is cancelled), at
     * the end of its attempt's check when one is running.
     */
    void newerMessage(long chatId, long messageId) {
        List<CompletableFuture<?>> acks = new ArrayList<>();
        synchronized (this) {
            Lane lane = lanes.get(chatId);
            if (closed || lane == null) {
                return;
            }
            for (Job job : lane.queue) {
                if (job.part.lastMessageId() < messageId && job.staleReason == null) {
                    job.staleReason = PartSender.staleReason(job.part, messageId);
                }
            }
            Job head = lane.head;
            if (head != null && head.part.lastMessageId() < messageId) {
                if (head.staleReason == null) {
                    head.staleReason = PartSender.staleReason(head.part, messageId);
                }
                if (head.step != Step.CHECKING && head.step != Step.SENDING) {
                    stale(lane, head, head.staleReason, acks);
                } else {
                    LOG.debug("chat {} reply {} part {} is stale; its running {} will drop it", chatId,
                            head.part.replyId(), head.part.seq(), head.step);
                }
            }
        }
    }

    /**
     * Stops handling the parts {@code which} selects (their partitions were revoked, or the emitter stops): queued
     * and waiting ones are forgotten at once (no claim is held while waiting, so there is nothing to release, and
     * they are not reported: the partition's next owner sends them). Returns the futures of their running checks
     * and attempts; an attempt that finishes its part still reports it, so the caller can wait and commit it.
     */
    List<CompletableFuture<Void>> abandon(Predicate<W> which) {
        List<CompletableFuture<Void>> running = new ArrayList<>();
        List<CompletableFuture<?>> acks = new ArrayList<>();
        synchronized (this) {
            for (Lane lane : new ArrayList<>(lanes.values())) {
                for (Iterator<Job> it = lane.queue.iterator(); it.hasNext(); ) {
                    Job job = it.next();
                    if (which.test(job.work)) {
                        it.remove();
                        job.abandoned = true;
                        job.step = Step.DONE;
                        pending--;
                    }
                }
                Job head = lane.head;
                if (head != null && which.test(head.work)) {
                    head.abandoned = true;
                    if (head.step == Step.CHECKING || head.step == Step.SENDING) {
                        running.add(head.busy);
                    } else {
                        forget(lane, head);
                    }
                }
                if (lane.head == null) {
                    startNext(lane, acks);
                }
            }
        }
        return running;
    }

    /** Accepts nothing more (after {@link #abandon}ing everything, on a clean stop). */
    synchronized void close() {
        closed = true;
    }

    /**
     * Stops dead, the way a crash would: nothing more is typed, sent, recorded or reported, timers are cancelled,
     * running calls are left to themselves and their results ignored. For tests of what a restart finds.
     */
    void halt() {
        synchronized (this) {
            halted = true;
            closed = true;
            for (Lane lane : lanes.values()) {
                if (lane.head != null) {
                    cancelWaits(lane.head);
                }
            }
            lanes.clear();
            pending = 0;
        }
    }

    /** Chats with parts queued, waiting or being sent. */
    synchronized int lanes() {
        return lanes.size();
    }

    /** Parts held and not finished. */
    synchronized int pending() {
        return pending;
    }

    // ---- the steps ---------------------------------------------------------------------------------------------

    /** Under the lock: the lane's head is done (or there is none); the next part starts, or the lane goes away. */
    private void startNext(Lane lane, List<CompletableFuture<?>> acks) {
        while (lane.head == null) {
            Job next = lane.queue.pollFirst();
            if (next == null) {
                lanes.remove(lane.chatId);
                return;
            }
            lane.head = next;
            if (next.staleReason != null) {
                // In the loop rather than through finishAndGoOn: a long queue of stale parts must not recurse.
                logStale(next, next.staleReason);
                finish(lane, next, Delivery.Outcome.DROPPED_STALE, next.staleReason, acks);
                continue;
            }
            check(lane, next);
        }
    }

    private void check(Lane lane, Job job) {
        job.step = Step.CHECKING;
        int turn = ++job.turn;
        CompletableFuture<Void> busy = new CompletableFuture<>();
        job.busy = busy;
        String key = job.key();
        blocking(busy, () -> {
            PartSender.Check result;
            try {
                result = sender.check(job.part, key);
            } catch (RuntimeException e) {
                failed(job, turn, busy, e);
                return;
            }
            apply(job, turn, busy, (l, j, acks) -> checked(l, j, result, acks));
        });
    }

    private void checked(Lane lane, Job job, PartSender.Check result, List<CompletableFuture<?>> acks) {
        if (job.abandoned) {
            forget(lane, job);
            startNext(lane, acks);
        } else if (job.staleReason != null) {
            stale(lane, job, job.staleReason, acks);
        } else if (result instanceof PartSender.Check.Stale s) {
            stale(lane, job, s.reason(), acks);
        } else if (result instanceof PartSender.Check.Recorded r) {
            earlier(lane, job, r.earlier(), acks);
        } else if (result instanceof PartSender.Check.RedisDown d) {
            redisWait(job, d.error(), this::check2);
        } else {
            beginTyping(lane, job);
        }
    }

    private void check2(Lane lane, Job job, List<CompletableFuture<?>> acks) {
        check(lane, job);
    }

    private void beginTyping(Lane lane, Job job) {
        if (job.index == 0 && job.part.seq() == 0 && !readingPause.isZero()) {
            job.step = Step.READING;
            job.timer = schedule(job, ++job.turn, readingPause, (l, j, acks) -> startTyping(l, j));
            return;
        }
        startTyping(lane, job);
    }

    private void startTyping(Lane lane, Job job) {
        Duration delay = typing.forText(job.text());
        if (delay.isZero() || delay.isNegative()) {
            pace(lane, job, null);
            return;
        }
        job.step = Step.TYPING;
        int turn = ++job.turn;
        job.typingEndsAtMs = clock.millis() + delay.toMillis();
        job.typingCall = typingCall(job);
        job.timer = schedule(job, turn, delay, this::typingDone);
        if (delay.compareTo(TYPING_REFRESH) > 0) {
            job.refresh = schedule(job, turn, TYPING_REFRESH, this::refreshTyping);
        }
    }

    private void refreshTyping(Lane lane, Job job, List<CompletableFuture<?>> acks) {
        job.typingCall = typingCall(job);
        long left = job.typingEndsAtMs - clock.millis();
        job.refresh = left > TYPING_REFRESH.toMillis() ? schedule(job, job.turn, TYPING_REFRESH, this::refreshTyping)
                : null;
    }

    /** Shows "typing..." from a send thread; the message waits for it, so the indicator never follows it. */
    private CompletableFuture<Void> typingCall(Job job) {
        CompletableFuture<Void> call = new CompletableFuture<>();
        blocking(call, () -> {
            boolean live;
            synchronized (this) {
                live = job.step == Step.TYPING;
            }
            if (live) {
                sender.typing(job.part.chatId());
            }
            call.complete(null);
        });
        return call;
    }

    private void typingDone(Lane lane, Job job, List<CompletableFuture<?>> acks) {
        cancel(job.refresh);
        job.refresh = null;
        CompletableFuture<Void> call = job.typingCall;
        if (call == null || call.isDone()) {
            pace(lane, job, acks);
            return;
        }
        int turn = ++job.turn;
        call.whenComplete((v, e) -> {
            try {
                scheduler.execute(() -> apply(job, turn, null, this::pace));
            } catch (RejectedExecutionException rejected) {
                LOG.debug("chat {}: not sending, stopping", job.part.chatId());
            }
        });
    }

    private void pace(Lane lane, Job job, List<CompletableFuture<?>> acks) {
        job.step = Step.PACING;
        int turn = ++job.turn;
        SendPacer.Request request = pacer.acquire(job.part.chatId(), permit -> granted(job, turn, permit));
        SendPacer.Permit now = request.grantedNow();
        if (now != null) {
            send(job, now);
        } else {
            job.pacing = request;
        }
    }

    private void granted(Job job, int turn, SendPacer.Permit permit) {
        boolean use;
        synchronized (this) {
            use = !halted && job.turn == turn && job.step == Step.PACING;
            if (use) {
                job.pacing = null;
                send(job, permit);
            }
        }
        if (!use) {
            permit.release(false);
        }
    }

    private void send(Job job, SendPacer.Permit permit) {
        job.step = Step.SENDING;
        int turn = ++job.turn;
        CompletableFuture<Void> busy = new CompletableFuture<>();
        job.busy = busy;
        String key = job.key();
        String text = job.text();
        boolean started = blocking(busy, () -> {
            PartSender.Attempt attempt;
            try {
                attempt = sender.attempt(job.part, key, text, permit, job.staleReason);
            } catch (RuntimeException e) {
                permit.release(true);
                failed(job, turn, busy, e);
                return;
            }
            apply(job, turn, busy, (l, j, acks) -> attempted(l, j, attempt, acks));
        });
        if (!started) {
            permit.release(false);
        }
    }

    private void attempted(Lane lane, Job job, PartSender.Attempt attempt, List<CompletableFuture<?>> acks) {
        if (attempt instanceof PartSender.Attempt.Sent s) {
            messageSent(lane, job, s.messageId(), true, acks);
        } else if (attempt instanceof PartSender.Attempt.Recorded r) {
            earlier(lane, job, r.earlier(), acks);
        } else if (attempt instanceof PartSender.Attempt.Failed f) {
            LOG.warn("chat {} reply {} part {} not sent: {}", job.part.chatId(), job.part.replyId(), job.part.seq(),
                    f.reason());
            finishAndGoOn(lane, job, Delivery.Outcome.FAILED, f.reason(), acks);
        } else if (attempt instanceof PartSender.Attempt.Stale s) {
            stale(lane, job, s.reason(), acks);
        } else if (job.abandoned) {
            // Nothing went out and nothing is held: the partition's next owner sends it.
            forget(lane, job);
            startNext(lane, acks);
        } else if (job.staleReason != null) {
            stale(lane, job, job.staleReason, acks);
        } else if (attempt instanceof PartSender.Attempt.RedisDown d) {
            redisWait(job, d.error(), this::pace);
        } else if (attempt instanceof PartSender.Attempt.Again again) {
            retry(lane, job, again, acks);
        }
    }

    private void retry(Lane lane, Job job, PartSender.Attempt.Again again, List<CompletableFuture<?>> acks) {
        job.attempts++;
        if (again.retryAfter() != null) {
            metrics.rateLimited("telegram");
        }
        if (job.attempts >= maxAttempts) {
            String reason = "gave up after " + job.attempts + " attempts: " + again.reason();
            LOG.warn("chat {} reply {} part {} not sent: {}", job.part.chatId(), job.part.replyId(), job.part.seq(),
                    reason);
            finishAndGoOn(lane, job, Delivery.Outcome.FAILED, reason, acks);
            return;
        }
        Duration wait;
        if (again.retryAfter() != null) {
            wait = again.retryAfter();
        } else {
            wait = job.backoff;
            job.backoff = job.backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF
                    : job.backoff.multipliedBy(2);
        }
        LOG.warn("chat {} reply {} part {} attempt {} of {} not taken ({}); trying again in {} ms (this chat only)",
                job.part.chatId(), job.part.replyId(), job.part.seq(), job.attempts, maxAttempts, again.reason(),
                wait.toMillis());
        job.step = Step.RETRY_WAIT;
        job.timer = schedule(job, ++job.turn, wait, this::pace);
    }

    private void redisWait(Job job, String error, Transition<W> then) {
        Duration wait = job.redisBackoff;
        Duration doubled = wait.multipliedBy(2);
        job.redisBackoff = doubled.compareTo(MAX_REDIS_BACKOFF) > 0 ? MAX_REDIS_BACKOFF : doubled;
        LOG.info("chat {} reply {} part {} waits {} ms for Redis (fail-closed): {}", job.part.chatId(),
                job.part.replyId(), job.part.seq(), wait.toMillis(), error);
        job.step = Step.REDIS_WAIT;
        job.timer = schedule(job, ++job.turn, wait, then);
    }

    /** What an earlier attempt left: a sent message counts as sent; any other outcome ends the part with it. */
    private void earlier(Lane lane, Job job, PartSender.Earlier earlier, List<CompletableFuture<?>> acks) {
        if (earlier.outcome() == Delivery.Outcome.SENT) {
            messageSent(lane, job, earlier.messageId(), false, acks);
        } else {
            finishAndGoOn(lane, job, earlier.outcome(), earlier.reason(), acks);
        }
    }

    private void messageSent(Lane lane, Job job, long messageId, boolean here, List<CompletableFuture<?>> acks) {
        if (job.firstMessageId == null) {
            job.firstMessageId = messageId;
        }
        job.sent = job.index + 1;
        if (here) {
            job.sentHere = true;
            if (job.index == 0 && job.part.seq() == 0) {
                metrics.firstPartDelay(Duration.ofMillis(clock.millis() - job.part.createdAtMs()));
            }
        }
        if (job.index + 1 >= job.messages.size()) {
            finishAndGoOn(lane, job, Delivery.Outcome.SENT, null, acks);
        } else if (job.staleReason != null) {
            stale(lane, job, job.staleReason, acks);
        } else if (job.abandoned) {
            // Its sent messages are recorded; the partition's next owner finds them and sends the rest.
            forget(lane, job);
            startNext(lane, acks);
        } else {
            job.index++;
            job.attempts = 0;
            job.backoff = FIRST_BACKOFF;
            job.redisBackoff = FIRST_REDIS_BACKOFF;
            check(lane, job);
        }
    }

    private void stale(Lane lane, Job job, String reason, List<CompletableFuture<?>> acks) {
        logStale(job, reason);
        finishAndGoOn(lane, job, Delivery.Outcome.DROPPED_STALE, reason, acks);
    }

    private void logStale(Job job, String reason) {
        metrics.staleDrop();
        LOG.info("chat {} reply {} part {} dropped: {}", job.part.chatId(), job.part.replyId(), job.part.seq(),
                reason);
    }

    /** Under the lock: the head's outcome is known; it is reported and the lane goes on. */
    private void finishAndGoOn(Lane lane, Job job, Delivery.Outcome outcome, String reason,
            List<CompletableFuture<?>> acks) {
        finish(lane, job, outcome, reason, acks);
        startNext(lane, acks);
    }

    /** Under the lock: the head's outcome is known and reported; the lane's head is free. */
    private void finish(Lane lane, Job job, Delivery.Outcome outcome, String reason, List<CompletableFuture<?>> acks) {
        cancelWaits(job);
        long now = clock.millis();
        Delivery delivery = delivery(job, outcome, reason, now);
        job.step = Step.DONE;
        lane.head = null;
        pending--;
        metrics.part(delivery.outcome());
        acks.add(publish(job, delivery));
    }

    /**
     * The part's one outcome. All its messages sent: SENT with the first message's id. Some sent, then the rest
     * dropped or failed: still SENT (the person saw it), with the text that went out and the reason in
     * {@code reason}. None sent: DROPPED_STALE or FAILED with the reason.
     */
    private static Delivery delivery(DeliveryLanes<?>.Job job, Delivery.Outcome outcome, String reason, long now) {
        ReplyPart part = job.part;
        if (outcome == Delivery.Outcome.SENT) {
            return Delivery.sent(part, job.firstMessageId, now);
        }
        if (job.sent > 0) {
            String seen = String.join("\n\n", job.messages.subList(0, job.sent));
            String why = "only " + job.sent + " of " + job.messages.size() + " messages sent; the rest "
                    + (outcome == Delivery.Outcome.DROPPED_STALE ? "dropped, " : "failed: ") + reason;
            return new Delivery(Delivery.SCHEMA_VERSION, part.replyId(), part.thoughtId(), part.chatId(), part.seq(),
                    Delivery.Outcome.SENT, job.firstMessageId, seen, why, now);
        }
        return outcome == Delivery.Outcome.DROPPED_STALE ? Delivery.dropped(part, reason, now)
                : Delivery.failed(part, reason, now);
    }

    /** Under the lock: hands the outcome to the publishing thread, which keeps the order of these calls. */
    private CompletableFuture<?> publish(Job job, Delivery delivery) {
        CompletableFuture<Void> stored = new CompletableFuture<>();
        try {
            publisher.execute(() -> {
                try {
                    outcomes.completed(job.work, delivery).whenComplete((v, e) -> stored.complete(null));
                } catch (RuntimeException e) {
                    LOG.error("chat {} reply {} part {}: the outcome could not be handed over", job.part.chatId(),
                            job.part.replyId(), job.part.seq(), e);
                    stored.complete(null);
                }
            });
        } catch (RejectedExecutionException e) {
            LOG.debug("not reporting chat {} reply {} part {}: stopping", job.part.chatId(), job.part.replyId(),
                    job.part.seq());
            stored.complete(null);
        }
        return stored;
    }

    /** Under the lock: the job leaves without an outcome (abandoned). */
    private void forget(Lane lane, Job job) {
        cancelWaits(job);
        job.step = Step.DONE;
        if (lane.head == job) {
            lane.head = null;
        }
        pending--;
    }

    private void cancelWaits(Job job) {
        cancel(job.timer);
        cancel(job.refresh);
        job.timer = null;
        job.refresh = null;
        if (job.pacing != null) {
            job.pacing.cancel();
            job.pacing = null;
        }
    }

    private static void cancel(ScheduledFuture<?> timer) {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    // ---- plumbing ----------------------------------------------------------------------------------------------

    /**
     * Applies {@code transition} to {@code job} if it is still at {@code turn}; then completes {@code busy} once the
     * outcomes it produced are stored.
     */
    private void apply(Job job, int turn, CompletableFuture<Void> busy, Transition<W> transition) {
        List<CompletableFuture<?>> acks = new ArrayList<>();
        try {
            synchronized (this) {
                if (!halted && job.turn == turn && job.step != Step.DONE) {
                    Lane lane = lanes.get(job.part.chatId());
                    if (lane != null && lane.head == job) {
                        transition.apply(lane, job, acks);
                    }
                }
            }
        } catch (RuntimeException e) {
            LOG.error("chat {} reply {} part {}: a lane step failed; the part is reported FAILED and the lane goes on",
                    job.part.chatId(), job.part.replyId(), job.part.seq(), e);
            synchronized (this) {
                Lane lane = lanes.get(job.part.chatId());
                if (lane != null && lane.head == job && job.step != Step.DONE) {
                    finishAndGoOn(lane, job, Delivery.Outcome.FAILED, "emitter error: " + e, acks);
                }
            }
        } finally {
            if (busy != null) {
                CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new))
                        .whenComplete((v, e) -> busy.complete(null));
            }
        }
    }

    /** A blocking step threw (a bug): the part is reported FAILED rather than left to hold its lane forever. */
    private void failed(Job job, int turn, CompletableFuture<Void> busy, RuntimeException e) {
        LOG.error("chat {} reply {} part {}: a blocking step failed", job.part.chatId(), job.part.replyId(),
                job.part.seq(), e);
        apply(job, turn, busy, (l, j, acks) -> finishAndGoOn(l, j, Delivery.Outcome.FAILED, "emitter error: " + e,
                acks));
    }

    /** A timer for {@code job}'s step at {@code turn}; null when the scheduler is shut down. */
    private ScheduledFuture<?> schedule(Job job, int turn, Duration delay, Transition<W> then) {
        try {
            return scheduler.schedule(() -> apply(job, turn, null, then), delay.toMillis(), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("chat {}: not scheduling the next step, stopping", job.part.chatId());
            return null;
        }
    }

    /** Runs a blocking call on a send thread; false (and {@code done} completed) when the pool is shut down. */
    private boolean blocking(CompletableFuture<Void> done, Runnable call) {
        try {
            workers.execute(() -> {
                if (halted) {
                    done.complete(null);
                    return;
                }
                try {
                    call.run();
                } catch (RuntimeException e) {
                    // apply() and failed() catch what a step throws; this is the last line of defence.
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
}
