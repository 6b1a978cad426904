package dev.thoughtstream.emitter.pace;

import dev.thoughtstream.emitter.EmitterConfig;
import dev.thoughtstream.emitter.EmitterMetrics;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Telegram's flood limits, kept before Telegram has to enforce them: every {@code sendMessage} needs a
 * {@link Permit}: a token from its chat's {@link TokenBucket}, a slot in its group's {@link SendWindow} and one in the
 * global window, and, when the bot's limits are shared by several instances ({@link SharedSendLimits}), a turn in the
 * bot's group and global windows there. Nobody sleeps for a permit: it is granted at once or called back later on the
 * injected scheduler (never inside a caller's lock, so the lanes may call in while holding theirs), and requests
 * waiting for the global window are served in arrival order so that no chat starves. The shared windows are asked on
 * a thread of their own (a Redis call may block), so with them every permit comes through the callback. The limits:
 * docs/emitter.md ("Telegram's limits").
 */
public final class SendPacer {
    private static final Logger LOG = LoggerFactory.getLogger(SendPacer.class);
    static final long GLOBAL_PERIOD_MS = 1_000;
    static final long GROUP_PERIOD_MS = 60_000;
    /** Above this many remembered chats, those whose limits are at rest are forgotten. */
    private static final int SWEEP_ABOVE = 10_000;

    /** A request for a permit. */
    public interface Request {
        /** The permit when it was granted at once, else null (the callback brings it). */
        Permit grantedNow();

        /** Withdraws the request; a permit granted meanwhile is given back unused. */
        void cancel();
    }

    /** The right to make one {@code sendMessage} call. Release it exactly once, when the call has ended. */
    public final class Permit {
        private final long chatId;
        private final boolean group;
        private final Waiter waiter;
        private boolean released;

        private Permit(long chatId, boolean group, Waiter waiter) {
            this.chatId = chatId;
            this.group = group;
            this.waiter = waiter;
        }

        /**
         * The call ended. {@code reachedTelegram}: a request went out (whatever the answer, or none); false when
         * nothing was sent after all (the part went stale, the claim was lost), which gives everything back.
         */
        public void release(boolean reachedTelegram) {
            List<Waiter> granted;
            synchronized (SendPacer.this) {
                if (released) {
                    return;
                }
                released = true;
                long now = clock.millis();
                if (!reachedTelegram) {
                    TokenBucket bucket = chats.get(chatId);
                    if (bucket != null) {
                        bucket.refund(now);
                    }
                }
                if (group) {
                    SendWindow window = groups.get(chatId);
                    if (window != null) {
                        window.release(now, reachedTelegram);
                    }
                }
                if (global != null) {
                    global.release(now, reachedTelegram);
                }
                granted = pump(now);
            }
            if (!reachedTelegram && shared != null) {
                onLimitsThread(waiter, () -> refundShared(waiter));
            }
            deliver(granted);
        }
    }

    private final class Waiter implements Request {
        final long chatId;
        final Consumer<Permit> onGranted;
        Permit permit;
        boolean cancelled;
        boolean countedChat;
        boolean countedGroup;
        boolean countedGlobal;
        ScheduledFuture<?> timer;
        /** Granted here, waiting for the shared windows (the limits thread's, published to it by the hand-over). */
        Permit held;

        SharedSendLimits.Reservation groupTurn;
        SharedSendLimits.Reservation globalTurn;

        Waiter(long chatId, Consumer<Permit> onGranted) {
            this.chatId = chatId;
            this.onGranted = onGranted;
        }

        @Override
        public synchronized Permit grantedNow() {
            return permit;
        }

        @Override
        public void cancel() {
            Permit unused;
            synchronized (SendPacer.this) {
                if (cancelled) {
                    return;
                }
                cancelled = true;
                if (timer != null) {
                    timer.cancel(false);
                }
                queue.remove(this);
                unused = permit != null ? permit : held;
            }
            if (unused != null) {
                unused.release(false);
            }
        }
    }

    private final Clock clock;
    private final ScheduledExecutorService scheduler;
    private final double chatRatePerSecond;
    private final int chatBurst;
    private final int groupPerMinute;
    private final int globalPerSecond;
    private final EmitterMetrics metrics;
    private final Map<Long, TokenBucket> chats = new HashMap<>();
    private final Map<Long, SendWindow> groups = new HashMap<>();
    /** Null when there is no global limit. */
    private final SendWindow global;
    /** Null when the group and global limits are this instance's alone. */
    private final SharedSendLimits shared;
    /** Where {@link #shared} is asked, one call at a time; null without it. */
    private final ScheduledExecutorService limitsThread;

    private final ArrayDeque<Waiter> queue = new ArrayDeque<>();
    private ScheduledFuture<?> pumpTimer;
    private long pumpAtMs = Long.MAX_VALUE;

    /** Limits of 0 switch that scope off; they are this instance's alone. */
    public SendPacer(
            Clock clock,
            ScheduledExecutorService scheduler,
            double chatRatePerSecond,
            int chatBurst,
            int groupPerMinute,
            int globalPerSecond,
            EmitterMetrics metrics) {
        this(clock, scheduler, chatRatePerSecond, chatBurst, groupPerMinute, globalPerSecond, metrics, null, null);
    }

    /**
     * Limits of 0 switch that scope off. {@code shared}: the bot's windows kept with the other instances (asked on
     * {@code limitsThread}, which the caller owns), or null.
     */
    public SendPacer(
            Clock clock,
            ScheduledExecutorService scheduler,
            double chatRatePerSecond,
            int chatBurst,
            int groupPerMinute,
            int globalPerSecond,
            EmitterMetrics metrics,
            SharedSendLimits shared,
            ScheduledExecutorService limitsThread) {
        if ((shared == null) != (limitsThread == null)) {
            throw new IllegalArgumentException("shared limits need a thread of their own, and only they do");
        }
        this.shared = shared != null && shared.limited() ? shared : null;
        this.limitsThread = this.shared != null ? limitsThread : null;
        this.clock = clock;
        this.scheduler = scheduler;
        this.chatRatePerSecond = chatRatePerSecond;
        this.chatBurst = chatBurst;
        this.groupPerMinute = groupPerMinute;
        this.globalPerSecond = globalPerSecond;
        this.metrics = metrics;
        this.global = globalPerSecond > 0 ? new SendWindow(globalPerSecond, GLOBAL_PERIOD_MS) : null;
    }

    public static SendPacer from(
            EmitterConfig.RateLimits limits, Clock clock, ScheduledExecutorService scheduler, EmitterMetrics metrics) {
        return new SendPacer(
                clock,
                scheduler,
                limits.chatPerSecond(),
                limits.chatBurst(),
                limits.groupPerMinute(),
                limits.globalPerSecond(),
                metrics);
    }

    /** Pacing with the bot's group and global windows shared through {@code shared}, asked on {@code limitsThread}. */
    public static SendPacer from(
            EmitterConfig.RateLimits limits,
            Clock clock,
            ScheduledExecutorService scheduler,
            EmitterMetrics metrics,
            SharedSendLimits shared,
            ScheduledExecutorService limitsThread) {
        return new SendPacer(
                clock,
                scheduler,
                limits.chatPerSecond(),
                limits.chatBurst(),
                limits.groupPerMinute(),
                limits.globalPerSecond(),
                metrics,
                shared,
                limitsThread);
    }

    /**
     * Asks for a permit to send one message to {@code chatId}. Granted at once ({@link Request#grantedNow()}), or
     * later through {@code onGranted}, which is then called on the scheduler, never inside a caller's lock.
     */
    public Request acquire(long chatId, Consumer<Permit> onGranted) {
        Waiter w = new Waiter(chatId, onGranted);
        synchronized (this) {
            if (chats.size() + groups.size() > SWEEP_ABOVE) {
                sweep(clock.millis());
            }
            attempt(w, clock.millis(), false);
        }
        return w;
    }

    /** Under the lock: grants {@code w} if every scope allows it now; otherwise arranges to try again. */
    private boolean attempt(Waiter w, long now, boolean fromQueue) {
        if (w.cancelled) {
            return false;
        }
        long chatWait = 0;
        if (chatRatePerSecond > 0) {
            chatWait = chats.computeIfAbsent(w.chatId, id -> new TokenBucket(chatRatePerSecond, chatBurst, now))
                    .millisUntilToken(now);
            if (chatWait > 0 && !w.countedChat) {
                w.countedChat = true;
                metrics.rateLimited("chat");
            }
        }
        long groupWait = 0;
        if (isGroup(w.chatId)) {
            SendWindow window = groups.computeIfAbsent(w.chatId, id -> new SendWindow(groupPerMinute, GROUP_PERIOD_MS));
            window.limit(limitNow(groupPerMinute));
            if (!window.hasSlot(now)) {
                long freeAt = window.nextFreeAt(now);
                // A lane has one send at a time, so its own window always has an answered entry to wait for.
                groupWait = freeAt < 0 ? GROUP_PERIOD_MS : Math.max(1, freeAt - now);
                if (!w.countedGroup) {
                    w.countedGroup = true;
                    metrics.rateLimited("group");
                }
            }
        }
        long localWait = Math.max(chatWait, groupWait);
        if (localWait > 0) {
            LOG.debug("chat {} waits {} ms for its own rate limit", w.chatId, localWait);
            schedule(w, localWait);
            return false;
        }
        if (global != null) {
            global.limit(limitNow(globalPerSecond));
        }
        if (global != null && ((!fromQueue && !queue.isEmpty()) || !global.hasSlot(now))) {
            if (!w.countedGlobal) {
                w.countedGlobal = true;
                metrics.rateLimited("global");
            }
            if (!fromQueue) {
                queue.addLast(w);
            }
            schedulePump(now);
            return false;
        }
        if (chatRatePerSecond > 0) {
            chats.get(w.chatId).take(now);
        }
        boolean group = isGroup(w.chatId);
        if (group) {
            groups.get(w.chatId).acquire();
        }
        if (global != null) {
            global.acquire();
        }
        Permit permit = new Permit(w.chatId, group, w);
        if (shared != null) {
            w.held = permit;
            onLimitsThread(w, () -> askShared(w));
            return false;
        }
        synchronized (w) {
            w.permit = permit;
        }
        return true;
    }

    // ---- the bot's windows shared with the other instances (on the limits thread) ------------------------------

    private void onLimitsThread(Waiter w, Runnable step) {
        try {
            limitsThread.execute(step);
        } catch (RejectedExecutionException e) {
            LOG.debug("chat {}: not asking the shared flood limits, shutting down", w.chatId);
        }
    }

    /**
     * On the limits thread: takes the request's turn in its group's shared window, then (once that turn has come) in
     * the bot's global one; then hands the permit over when its turn comes. The waits run on the scheduler, so a slow
     * Redis call holding up the limits thread never bunches turns that are already taken. A request cancelled
     * meanwhile stops here (its release gives its turns back).
     */
    private void askShared(Waiter w) {
        Permit permit;
        synchronized (this) {
            if (w.cancelled) {
                return;
            }
            permit = w.held;
        }
        long wait = 0;
        try {
            if (permit.group && w.groupTurn == null) {
                w.groupTurn = shared.reserveGroup(w.chatId);
                if (w.groupTurn.waitMillis() > 0) {
                    waitForShared(w, w.groupTurn.waitMillis(), "group", () -> onLimitsThread(w, () -> askShared(w)));
                    return;
                }
            }
            if (w.globalTurn == null) {
                w.globalTurn = shared.reserveGlobal();
                wait = w.globalTurn.waitMillis();
            }
        } catch (RuntimeException e) {
            // Redis being away is handled in SharedSendLimits; this is a bug. The instance's own windows still hold.
            LOG.error("chat {}: the shared flood limits failed; sending within this instance's own", w.chatId, e);
        }
        if (wait > 0) {
            waitForShared(w, wait, "global", () -> handOver(w));
        } else {
            handOver(w);
        }
    }

    private void waitForShared(Waiter w, long waitMillis, String scope, Runnable then) {
        metrics.rateLimited(scope);
        LOG.debug("chat {} waits {} ms for the bot's shared {} window", w.chatId, waitMillis, scope);
        try {
            scheduler.schedule(then, waitMillis, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("chat {}: not waiting for the shared flood limits, shutting down", w.chatId);
        }
    }

    /** The request's turns have come: its permit is handed over, unless it was cancelled meanwhile. */
    private void handOver(Waiter w) {
        synchronized (this) {
            if (w.cancelled) {
                return;
            }
            synchronized (w) {
                w.permit = w.held;
            }
        }
        deliver(List.of(w));
    }

    /** A permit that sent nothing gives its turns back. */
    private void refundShared(Waiter w) {
        if (w.groupTurn != null) {
            shared.refundGroup(w.chatId, w.groupTurn);
            w.groupTurn = SharedSendLimits.Reservation.NONE;
        }
        if (w.globalTurn != null) {
            shared.refundGlobal(w.globalTurn);
            w.globalTurn = SharedSendLimits.Reservation.NONE;
        }
    }

    /**
     * A bot-wide limit as this instance keeps it in its own windows: the whole of it while the instances share it
     * through Redis, only its share while Redis is unreachable (the windows, unlike the shared buckets, count a send
     * until it has been answered, so the share holds however requests bunch on the way).
     */
    private int limitNow(int limit) {
        return shared == null || shared.onShared() ? limit : shared.share(limit);
    }

    private boolean isGroup(long chatId) {
        return chatId < 0 && groupPerMinute > 0;
    }

    private void schedule(Waiter w, long delayMs) {
        try {
            w.timer = scheduler.schedule(() -> retry(w), delayMs, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("not waiting for chat {}'s rate limit: shutting down", w.chatId);
        }
    }

    private void retry(Waiter w) {
        boolean granted;
        synchronized (this) {
            w.timer = null;
            granted = attempt(w, clock.millis(), false);
        }
        if (granted) {
            deliver(List.of(w));
        }
    }

    /** Under the lock: grants queued requests, oldest first, while the global window has room. */
    private List<Waiter> pump(long now) {
        List<Waiter> granted = new ArrayList<>();
        while (!queue.isEmpty()) {
            Waiter head = queue.peekFirst();
            if (head.cancelled) {
                queue.pollFirst();
                continue;
            }
            if (!global.hasSlot(now)) {
                schedulePump(now);
                break;
            }
            queue.pollFirst();
            if (attempt(head, now, true)) {
                granted.add(head);
            }
        }
        return granted;
    }

    /** Under the lock: makes sure the queue is looked at again when the global window frees a slot by time. */
    private void schedulePump(long now) {
        // A slot that freed by time while nobody looked is taken at once.
        long freeAt = global.hasSlot(now) ? now : global.nextFreeAt(now);
        if (freeAt < 0 || (pumpTimer != null && pumpAtMs <= freeAt)) {
            // Every slot is on its way (a release pumps), or a timer comes early enough.
            return;
        }
        if (pumpTimer != null) {
            pumpTimer.cancel(false);
        }
        pumpAtMs = freeAt;
        try {
            pumpTimer = scheduler.schedule(this::timedPump, Math.max(1, freeAt - now), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            pumpTimer = null;
            LOG.debug("not pacing any more: shutting down");
        }
    }

    private void timedPump() {
        List<Waiter> granted;
        synchronized (this) {
            pumpTimer = null;
            pumpAtMs = Long.MAX_VALUE;
            granted = pump(clock.millis());
        }
        deliver(granted);
    }

    /**
     * Hands permits granted later to their requesters, on the scheduler: never on the caller's thread, which may hold
     * the lanes' lock (a permit released or a request cancelled under it frees a slot for someone else).
     */
    private void deliver(List<Waiter> granted) {
        for (Waiter w : granted) {
            Permit permit;
            synchronized (w) {
                permit = w.permit;
            }
            try {
                scheduler.execute(() -> {
                    try {
                        w.onGranted.accept(permit);
                    } catch (RuntimeException e) {
                        LOG.error("chat {}: handing over a send permit failed; giving it back", w.chatId, e);
                        permit.release(false);
                    }
                });
            } catch (RejectedExecutionException e) {
                LOG.debug("chat {}: not handing over a send permit, shutting down", w.chatId);
            }
        }
    }

    /** Under the lock: forgets the limits of chats that have been quiet long enough to start afresh. */
    private void sweep(long now) {
        chats.values().removeIf(b -> b.atRest(now));
        groups.values().removeIf(g -> g.atRest(now));
    }

    /** Requests waiting for the global window (for tests and diagnostics). */
    synchronized int queued() {
        return queue.size();
    }
}
