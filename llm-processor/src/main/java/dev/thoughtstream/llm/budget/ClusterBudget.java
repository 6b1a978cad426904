package dev.thoughtstream.llm.budget;

import dev.thoughtstream.common.metrics.Metrics;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.exceptions.JedisException;

/**
 * A provider budget shared through Redis ({@link RedisLimits}), falling back to this instance's share
 * ({@link LocalLimits}) while Redis cannot be reached, or for good when no Redis is configured.
 *
 * <p>Requests wait in one FIFO queue per instance. Only its head works towards a permit, in three steps: it
 * reserves one request and its estimated tokens in the per-minute buckets (into debt if need be, so a big request
 * is not overtaken forever by small ones) and waits until the debt is paid; it waits out a 429 pause; it takes a
 * request-in-flight permit. Waiting is a timer on the scheduler, or the next release of this instance, or (for a
 * permit held by another instance, whose release is not announced) a look every {@code LLM_BUDGET_POLL_MS}.
 *
 * <p>All the work, Redis calls included, runs in a "pump" on the scheduler, one pump at a time: callers only queue
 * a request, a release or a 429, and ask for a pump. So no caller's thread ever waits, and the state below needs no
 * lock. A granted future completes on the pump: what depends on it should not block there (the model call only
 * sends its request there; anything heavier belongs on an executor of its own).
 */
final class ClusterBudget implements ProviderBudget {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterBudget.class);

    /** While Redis is unreachable, it is tried again this often (and the instance keeps to its share meanwhile). */
    static final Duration REDIS_RETRY = Duration.ofSeconds(1);

    private static final int MAX_REQUEST_ID_CHARS = 100;

    private final BudgetConfig config;
    /** Null without Redis: then the local share is the budget for good. */
    private final Limits shared;

    private final LocalLimits local;
    private final ScheduledExecutorService scheduler;
    private final Clock clock;
    /** Names this budget's permits in Redis, apart from every other instance's. */
    private final String instanceTag = Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);

    private final AtomicLong sequence = new AtomicLong();
    private final long renewEveryMillis;

    // Written by any thread, read by the pump.
    private final ConcurrentLinkedDeque<Waiter> waiting = new ConcurrentLinkedDeque<>();
    private final ConcurrentLinkedQueue<Held> ended = new ConcurrentLinkedQueue<>();
    private final AtomicLong pauseAsked = new AtomicLong(Long.MIN_VALUE);
    private final AtomicInteger pumpRequests = new AtomicInteger();
    private volatile boolean closed;

    // The pump's own state: one pump at a time, each handing over to the next through pumpRequests.
    private final Map<String, Held> held = new ConcurrentHashMap<>();
    private volatile boolean onShared;
    private long pausedUntil = Long.MIN_VALUE;
    private long headWakeAt = Long.MAX_VALUE;
    private long nextRenewal = Long.MAX_VALUE;
    private long nextRedisTry = Long.MAX_VALUE;
    private ScheduledFuture<?> timer;
    private long timerAt = Long.MAX_VALUE;

    private final Metrics.Timer waitTime;
    private final Metrics.Counter sharedGrants;
    private final Metrics.Counter localGrants;
    private final Metrics.Counter withdrawn;
    private final Metrics.Counter rateLimited;
    private final Metrics.Counter redisFallbacks;

    ClusterBudget(
            BudgetConfig config, Limits shared, ScheduledExecutorService scheduler, Clock clock, Metrics metrics) {
        this.config = Objects.requireNonNull(config, "config");
        this.shared = shared;
        this.local = new LocalLimits(config, clock);
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.onShared = shared != null;
        this.renewEveryMillis = Math.max(1, config.lease().toMillis() / 3);

        metrics.gauge(
                "llm_budget_waiting", "model requests of this instance waiting for the provider budget", waiting::size);
        metrics.gauge(
                "llm_budget_in_flight", "model requests of this instance holding a provider budget permit", held::size);
        metrics.gauge(
                "llm_budget_local_share",
                "1 while this instance keeps to its local share of the provider "
                        + "budget (Redis unreachable or not configured), 0 on the shared budget",
                () -> onShared ? 0 : 1);
        this.waitTime = metrics.timer(
                "llm_budget_wait_seconds",
                "how long a model request waited for the provider budget before it was granted");
        String grantsHelp = "model requests granted by the provider budget, by where the budget was kept";
        this.sharedGrants = metrics.counter("llm_budget_grants_total", grantsHelp, "budget", "shared");
        this.localGrants = metrics.counter("llm_budget_grants_total", grantsHelp, "budget", "local");
        this.withdrawn = metrics.counter(
                "llm_budget_withdrawn_total",
                "model requests withdrawn while waiting for the provider budget (stale thoughts, shutdown)");
        this.rateLimited = metrics.counter(
                "llm_budget_rate_limited_total", "429 answers that paused the provider budget for every instance");
        this.redisFallbacks = metrics.counter(
                "llm_budget_redis_fallbacks_total",
                "times this instance lost Redis and fell back to its local share of the provider budget");
    }

    @Override
    public CompletableFuture<Permit> acquire(String requestId, int estimatedTokens) {
        Objects.requireNonNull(requestId, "requestId");
        if (estimatedTokens < 0) {
            throw new IllegalArgumentException("estimatedTokens must not be negative but was " + estimatedTokens);
        }
        CompletableFuture<Permit> future = new CompletableFuture<>();
        if (closed) {
            future.completeExceptionally(closedException());
            return future;
        }
        String name =
                requestId.length() > MAX_REQUEST_ID_CHARS ? requestId.substring(0, MAX_REQUEST_ID_CHARS) : requestId;
        Waiter waiter = new Waiter(
                instanceTag + "/" + sequence.incrementAndGet() + "/" + name, estimatedTokens, future, clock.millis());
        waiting.addLast(waiter);
        // A withdrawn request leaves the queue at the next pump, and gives back what it reserved.
        future.whenComplete((permit, failure) -> {
            if (future.isCancelled()) {
                requestPump();
            }
        });
        requestPump();
        return future;
    }

    @Override
    public void rateLimited(Duration retryAfter) {
        long until = clock.millis() + Math.max(0, retryAfter.toMillis());
        pauseAsked.accumulateAndGet(until, Math::max);
        rateLimited.increment();
        LOG.info(
                "provider budget: the provider answered 429; every instance holds its requests back for {} ms",
                retryAfter.toMillis());
        requestPump();
    }

    /**
     * Fails the requests still waiting, and stops the timers. Permits still held stay held until released: their
     * requests may still be running at the provider (if this process stops first, their leases, no longer renewed,
     * expire within {@code LLM_BUDGET_LEASE_MS}).
     */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            requestPump();
        }
    }

    // ---- the pump ---------------------------------------------------------------------------------------------

    private void requestPump() {
        if (pumpRequests.getAndIncrement() == 0) {
            try {
                scheduler.execute(this::drain);
            } catch (RejectedExecutionException e) {
                // The scheduler is shut down (the service is stopping): pump here, so nothing waits forever.
                closed = true;
                drain();
            }
        }
    }

    private void drain() {
        int missed = 1;
        do {
            pumpOnce();
            missed = pumpRequests.addAndGet(-missed);
        } while (missed != 0);
    }

    private void pumpOnce() {
        try {
            long now = clock.millis();
            endReleased();
            applyPause(now);
            keepShared(now);
            if (closed) {
                failWaiting(closedException());
                cancelTimer();
                return;
            }
            admitWaiting();
            armTimer();
        } catch (RuntimeException e) {
            // Redis being away is handled where Redis is called; this is a bug. Waiting requests fail rather than
            // wait for a pump that would fail the same way.
            LOG.error("provider budget: failing {} waiting model requests", waiting.size(), e);
            failWaiting(e);
        }
    }

    private void endReleased() {
        for (Held permit = ended.poll(); permit != null; permit = ended.poll()) {
            end(permit);
        }
    }

    private void end(Held permit) {
        held.remove(permit.id);
        if (permit.leaseShared) {
            // While Redis is away the lease cannot be removed; it expires on its own.
            runShared(limits -> limits.finish(permit.id));
        }
        Consumer<Limits> settle = permit.unused
                ? limits -> limits.refund(permit.estimatedTokens)
                : limits -> limits.settle(permit.actualTokens - permit.estimatedTokens);
        if (!permit.reservedShared) {
            settle.accept(local);
        } else if (!runShared(settle)) {
            LOG.debug("provider budget: Redis unreachable; the tokens of {} are not settled", permit.id);
        }
    }

    private void applyPause(long now) {
        long until = pauseAsked.getAndSet(Long.MIN_VALUE);
        if (until == Long.MIN_VALUE) {
            return;
        }
        pausedUntil = Math.max(pausedUntil, until);
        if (!runShared(limits -> limits.pause(until, now))) {
            local.pause(until, now);
        }
    }

    /** Renews this instance's leases in time; while Redis is away, tries it again every {@link #REDIS_RETRY}. */
    private void keepShared(long now) {
        if (shared == null) {
            return;
        }
        if (!onShared) {
            if (now < nextRedisTry) {
                return;
            }
            List<String> ids = new ArrayList<>(held.keySet());
            try {
                // Records the requests this instance started meanwhile, so the cluster counts them from now on.
                shared.renew(ids, now);
            } catch (JedisException e) {
                nextRedisTry = now + REDIS_RETRY.toMillis();
                LOG.debug("provider budget: Redis still unreachable: {}", e.toString());
                return;
            }
            onShared = true;
            held.values().forEach(permit -> permit.leaseShared = true);
            nextRenewal = now + renewEveryMillis;
            LOG.info(
                    "provider budget: Redis answers again; back on the shared budget ({} requests in flight here)",
                    ids.size());
            return;
        }
        if (renewing() && now >= nextRenewal) {
            List<String> ids = new ArrayList<>(held.keySet());
            if (runShared(limits -> limits.renew(ids, now))) {
                nextRenewal = now + renewEveryMillis;
            }
        }
    }

    private boolean renewing() {
        return onShared && config.maxConcurrentRequests() > 0 && !held.isEmpty();
    }

    private void admitWaiting() {
        headWakeAt = Long.MAX_VALUE;
        // Requests withdrawn behind the head hold nothing: drop them now, so the gauge counts only real waiters.
        for (Iterator<Waiter> it = waiting.iterator(); it.hasNext(); ) {
            Waiter waiter = it.next();
            if (waiter.future.isDone() && !waiter.reserved) {
                it.remove();
                withdrawn.increment();
            }
        }
        while (true) {
            Waiter head = waiting.peekFirst();
            if (head == null) {
                return;
            }
            if (head.future.isDone()) {
                waiting.remove(head);
                withdraw(head);
                continue;
            }
            long now = clock.millis();
            if (pausedUntil > now) {
                headWakeAt = pausedUntil;
                return;
            }
            if (!head.reserved) {
                reserve(head, now);
            }
            if (head.readyAt > now) {
                headWakeAt = head.readyAt;
                return;
            }
            Limits.Admission admission = admit(head, now);
            switch (admission.outcome()) {
                case PAUSED -> {
                    pausedUntil = Math.max(pausedUntil, Math.max(now + 1, admission.retryAtMillis()));
                    headWakeAt = pausedUntil;
                    return;
                }
                case FULL -> {
                    headWakeAt = admission.retryAtMillis();
                    return;
                }
                case GRANTED -> grant(head, now);
                default -> throw new IllegalStateException("unknown admission " + admission);
            }
        }
    }

    private void reserve(Waiter waiter, long now) {
        Long waitNanos = askShared(limits -> limits.reserve(waiter.estimatedTokens));
        waiter.reservedShared = waitNanos != null;
        if (waitNanos == null) {
            waitNanos = local.reserve(waiter.estimatedTokens);
        }
        waiter.reserved = true;
        waiter.readyAt = now + (waitNanos + 999_999) / 1_000_000;
    }

    private Limits.Admission admit(Waiter waiter, long now) {
        Limits.Admission admission = askShared(limits -> limits.admit(waiter.permitId, now, held.size()));
        waiter.leaseShared = admission != null;
        return admission != null ? admission : local.admit(waiter.permitId, now, held.size());
    }

    private void grant(Waiter waiter, long now) {
        waiting.remove(waiter);
        Held permit = new Held(waiter);
        if (!renewing()) {
            nextRenewal = now + renewEveryMillis;
        }
        held.put(permit.id, permit);
        if (waiter.future.complete(permit)) {
            (permit.leaseShared ? sharedGrants : localGrants).increment();
            waitTime.recordMillis(Math.max(0, now - waiter.since));
        } else {
            // Withdrawn between the check and the grant: the permit goes back at once, unused.
            permit.released.set(true);
            permit.unused = true;
            withdrawn.increment();
            end(permit);
        }
    }

    /** A request that left the queue without a permit gives back what it reserved. */
    private void withdraw(Waiter waiter) {
        withdrawn.increment();
        if (!waiter.reserved) {
            return;
        }
        if (!waiter.reservedShared) {
            local.refund(waiter.estimatedTokens);
        } else if (!runShared(limits -> limits.refund(waiter.estimatedTokens))) {
            LOG.debug("provider budget: Redis unreachable; the reservation of {} is not given back", waiter.permitId);
        }
    }

    private void failWaiting(Throwable failure) {
        for (Waiter waiter = waiting.pollFirst(); waiter != null; waiter = waiting.pollFirst()) {
            waiter.future.completeExceptionally(failure);
            try {
                withdraw(waiter);
            } catch (RuntimeException e) {
                failure.addSuppressed(e);
            }
        }
    }

    private void armTimer() {
        long next = headWakeAt;
        if (renewing()) {
            next = Math.min(next, nextRenewal);
        }
        if (shared != null && !onShared) {
            next = Math.min(next, nextRedisTry);
        }
        if (next == Long.MAX_VALUE) {
            cancelTimer();
            return;
        }
        if (timer != null && !timer.isDone() && timerAt <= next) {
            return; // an earlier pump is due anyway, and arms the timer again
        }
        cancelTimer();
        timerAt = next;
        try {
            timer = scheduler.schedule(this::requestPump, Math.max(0, next - clock.millis()), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            closed = true;
            failWaiting(closedException());
        }
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel(false);
            timer = null;
            timerAt = Long.MAX_VALUE;
        }
    }

    // ---- Redis, or the local share when it fails ---------------------------------------------------------------

    /** Runs {@code call} on the shared budget: false when not on it, or when Redis failed (then falls back). */
    private boolean runShared(Consumer<Limits> call) {
        return askShared(limits -> {
                    call.accept(limits);
                    return Boolean.TRUE;
                })
                != null;
    }

    /** {@code call}'s answer on the shared budget; null when not on it, or when Redis failed (then falls back). */
    private <T> T askShared(Function<Limits, T> call) {
        if (!onShared) {
            return null;
        }
        try {
            return call.apply(shared);
        } catch (JedisException e) {
            fallBack(e);
            return null;
        }
    }

    private void fallBack(JedisException e) {
        onShared = false;
        redisFallbacks.increment();
        nextRedisTry = clock.millis() + REDIS_RETRY.toMillis();
        LOG.warn(
                "provider budget: Redis unreachable ({}); this instance keeps to 1/{} of each limit until Redis "
                        + "answers again",
                e.toString(),
                config.instances());
    }

    private static IllegalStateException closedException() {
        return new IllegalStateException("the provider budget is closed");
    }

    // ---- requests and permits ----------------------------------------------------------------------------------

    /** A request in the queue. Fields other than the final ones belong to the pump. */
    private static final class Waiter {
        final String permitId;
        final long estimatedTokens;
        final CompletableFuture<Permit> future;
        final long since;
        boolean reserved;
        boolean reservedShared;
        boolean leaseShared;
        long readyAt;

        Waiter(String permitId, long estimatedTokens, CompletableFuture<Permit> future, long since) {
            this.permitId = permitId;
            this.estimatedTokens = estimatedTokens;
            this.future = future;
            this.since = since;
        }
    }

    /** A granted request. */
    private final class Held implements Permit {
        final String id;
        final long estimatedTokens;
        /** Where the request and its tokens were taken: that is where they are settled. */
        final boolean reservedShared;
        /** Whether Redis has a lease for it (the pump's). */
        boolean leaseShared;

        final AtomicBoolean released = new AtomicBoolean();
        /** Set before the permit is queued in {@link #ended}, which publishes it to the pump. */
        long actualTokens;
        /** Granted to a request already withdrawn: the request never started, so everything goes back. */
        boolean unused;

        Held(Waiter waiter) {
            this.id = waiter.permitId;
            this.estimatedTokens = waiter.estimatedTokens;
            this.reservedShared = waiter.reservedShared;
            this.leaseShared = waiter.leaseShared;
        }

        @Override
        public void release(long actualTokens) {
            if (actualTokens < 0) {
                throw new IllegalArgumentException("actualTokens must not be negative but was " + actualTokens);
            }
            if (released.compareAndSet(false, true)) {
                this.actualTokens = actualTokens;
                ended.add(this);
                requestPump();
            }
        }

        @Override
        public String toString() {
            return "Permit[" + id + "]";
        }
    }

    /** For tests: whether this instance is on the shared budget now. */
    boolean isOnSharedBudget() {
        return onShared;
    }
}
