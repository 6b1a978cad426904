package dev.thoughtstream.ingest.poll;

import dev.thoughtstream.common.config.RedisOutage;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.ingest.IngestConfig;
import java.time.Clock;
import java.util.OptionalLong;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides when this instance polls: a standby tries to acquire the {@link PollerLease} every retry interval; the
 * active instance renews it every ttl/3 and stops polling as soon as it loses it (a renewal or the fence finds it
 * gone). While Redis is unreachable the lease stays valid by our own clock for one ttl after the last renewal sent;
 * after that {@code INGEST_REDIS_OUTAGE} decides whether polling stops. See docs/ingest.md, "One poller at a time".
 *
 * <p>All transitions run on one named daemon thread ({@code ingest-lease}); {@link #start()} makes the first attempt
 * on the caller's thread so a service that gets the lease at once fails fast when it cannot start polling.
 */
final class StandbyController implements LeaseFence, AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StandbyController.class);

    /** What the service does when the role changes; both are called on the controller's thread (or in start()). */
    interface Listener {
        /** Start polling with this fencing token; throws when it cannot (the lease is then released again). */
        void activate(long token);

        /** Stop polling at once, without confirming anything further. */
        void deactivate(long token, String why);
    }

    private final PollerLease lease;
    private final IngestConfig.Lease settings;
    private final Clock clock;
    private final Listener listener;
    private final Metrics.Counter changes;
    private final Metrics.Counter renewFailures;
    private final ScheduledExecutorService thread;

    // Written on the controller's thread (and in start(), before it runs), read anywhere.
    private volatile long token = -1;
    /** Epoch millis until which the lease is ours by our own clock (ttl after the last renewal was sent). */
    private volatile long validUntilMs;
    /** The last Redis call of the lease succeeded. */
    private volatile boolean connected;

    private volatile boolean closed;
    private boolean warnedUnleased;
    private ScheduledFuture<?> next;

    StandbyController(PollerLease lease, IngestConfig.Lease settings, Clock clock, Metrics metrics, Listener listener) {
        this.lease = lease;
        this.settings = settings;
        this.clock = clock;
        this.listener = listener;
        this.changes = metrics.counter(
                "ingest_lease_changes_total", "times this ingest became the active poller or stopped being it");
        this.renewFailures = metrics.counter(
                "ingest_lease_renew_failures_total",
                "lease renewals that failed: Redis unreachable, or the lease lost");
        metrics.gauge(
                "ingest_lease_role",
                "1 while this ingest is the active poller, 0 while it is a standby",
                () -> isActive() ? 1 : 0);
        this.thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ingest-lease");
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Tries to acquire the lease once on the caller's thread, then keeps going on the controller's thread.
     *
     * @throws RuntimeException when the lease was acquired but polling could not start (the lease is released)
     */
    synchronized void start() {
        if (token < 0) {
            tryAcquire(true);
        }
        schedule(
                token >= 0
                        ? settings.renewInterval().toMillis()
                        : settings.retry().toMillis());
    }

    boolean isActive() {
        return token >= 0;
    }

    /** The fencing token while active, else empty. */
    OptionalLong token() {
        long t = token;
        return t >= 0 ? OptionalLong.of(t) : OptionalLong.empty();
    }

    /** True when the last Redis call for the lease succeeded (a standby is ready only while it could take over). */
    boolean isConnected() {
        return connected;
    }

    /**
     * Cheap, no I/O: may {@code token} poll now? True while it is the current token and the lease is valid by our
     * own clock (or Redis is down and {@code INGEST_REDIS_OUTAGE=fail-open}).
     */
    @Override
    public boolean mayPoll(long t) {
        if (closed || t != token) {
            return false;
        }
        return clock.millis() < validUntilMs || !settings.required();
    }

    /**
     * The fence before a confirmation: asks Redis whether {@code t} still holds the lease. Redis unreachable: falls
     * back to {@link #mayPoll}. When it is no longer ours, the loss is handled on the controller's thread (polling
     * stops) and false is returned.
     */
    @Override
    public boolean confirmStillHeld(long t) {
        boolean held;
        try {
            held = lease.isHeld(t);
            connected = true;
            if (held) {
                return mayPollOrUnreleased(t);
            }
        } catch (RuntimeException e) {
            connected = false;
            held = mayPoll(t);
            if (held) {
                LOG.warn("cannot check the poller lease ({}); token {} is still valid by our clock", e.toString(), t);
                return true;
            }
        }
        reportLost(t, "the fence check before confirming found the lease no longer ours");
        return false;
    }

    private boolean mayPollOrUnreleased(long t) {
        // Held in Redis: only our own closing can make this false.
        return !closed && t == token;
    }

    /** Hands a loss noticed elsewhere (the poller thread) to the controller's thread. */
    @Override
    public void reportLost(long t, String why) {
        try {
            thread.execute(() -> lose(t, why));
        } catch (RejectedExecutionException e) {
            LOG.debug("lease controller closed; ignoring the loss of token {} ({})", t, why);
        }
    }

    private synchronized void tick() {
        if (closed) {
            return;
        }
        try {
            if (token < 0) {
                tryAcquire(false);
                schedule(
                        token >= 0
                                ? settings.renewInterval().toMillis()
                                : settings.retry().toMillis());
            } else {
                renew();
            }
        } catch (RuntimeException | Error e) {
            // A bug must not end the lease loop silently: log it and keep going.
            LOG.error(
                    "the lease controller failed; trying again in {} ms",
                    settings.retry().toMillis(),
                    e);
            schedule(settings.retry().toMillis());
        }
    }

    private void tryAcquire(boolean propagate) {
        long sentAt = clock.millis();
        OptionalLong acquired;
        try {
            acquired = lease.tryAcquire();
            connected = true;
        } catch (RuntimeException e) {
            connected = false;
            LOG.warn("cannot reach Redis to acquire the poller lease {} ({}); standing by", lease.key(), e.toString());
            return;
        }
        if (acquired.isEmpty()) {
            LOG.debug("poller lease {} is held by another instance; standing by", lease.key());
            return;
        }
        long t = acquired.getAsLong();
        validUntilMs = sentAt + settings.ttl().toMillis();
        token = t;
        warnedUnleased = false;
        changes.increment();
        LOG.info("acquired the poller lease {} as {} with fencing token {}; polling", lease.key(), lease.owner(), t);
        try {
            listener.activate(t);
        } catch (RuntimeException e) {
            token = -1;
            changes.increment();
            releaseQuietly(t);
            if (propagate) {
                throw e;
            }
            LOG.error("could not start polling with token {}; released the lease and standing by", t, e);
        }
    }

    private void renew() {
        long t = token;
        long sentAt = clock.millis();
        boolean renewed;
        try {
            renewed = lease.renew(t);
            connected = true;
        } catch (RuntimeException e) {
            connected = false;
            renewFailures.increment();
            long now = clock.millis();
            if (now < validUntilMs) {
                LOG.warn(
                        "cannot renew the poller lease ({}); still valid for {} ms by our clock",
                        e.toString(),
                        validUntilMs - now);
                // Look again at the latest when the lease runs out, to stop right then.
                schedule(Math.min(settings.renewInterval().toMillis(), validUntilMs - now));
            } else if (settings.required()) {
                lose(
                        t,
                        "could not renew the lease within its ttl of "
                                + settings.ttl().toMillis() + " ms (" + e + ")");
            } else {
                if (!warnedUnleased) {
                    warnedUnleased = true;
                    LOG.warn(
                            "the poller lease expired by our clock and Redis is unreachable ({}); polling on WITHOUT "
                                    + "a lease because {}={}: a standby that still reaches Redis could poll as well",
                            e,
                            IngestConfig.REDIS_OUTAGE,
                            RedisOutage.FAIL_OPEN.label());
                }
                // Polling without a lease: look for Redis as often as a standby does, so that once it is back this
                // instance finds out about a standby's new lease about as soon as the standby got it.
                schedule(Math.min(
                        settings.renewInterval().toMillis(), settings.retry().toMillis()));
            }
            return;
        }
        if (renewed) {
            validUntilMs = sentAt + settings.ttl().toMillis();
            if (warnedUnleased) {
                warnedUnleased = false;
                LOG.info("renewed the poller lease again (token {})", t);
            }
            schedule(settings.renewInterval().toMillis());
        } else {
            renewFailures.increment();
            lose(t, "the lease expired or another instance took it (now " + holderForLog() + ")");
        }
    }

    private String holderForLog() {
        try {
            return lease.holder().map(Object::toString).orElse("free");
        } catch (RuntimeException e) {
            return "unknown: " + e;
        }
    }

    private synchronized void lose(long t, String why) {
        if (closed || t != token) {
            return;
        }
        token = -1;
        changes.increment();
        LOG.warn("lost the poller lease {} (token {}): {}; stopped polling, standing by", lease.key(), t, why);
        try {
            listener.deactivate(t, why);
        } finally {
            // Try again at once: when the lease is merely gone (Redis restarted) we take it back with a new token.
            schedule(0);
        }
    }

    private void schedule(long delayMs) {
        if (next != null) {
            next.cancel(false);
        }
        if (closed) {
            return;
        }
        try {
            next = thread.schedule(this::tick, Math.max(0, delayMs), TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException e) {
            LOG.debug("lease controller closed; not scheduling");
        }
    }

    private void releaseQuietly(long t) {
        try {
            if (lease.release(t)) {
                LOG.info("released the poller lease {} (token {})", lease.key(), t);
            }
        } catch (RuntimeException e) {
            LOG.warn(
                    "could not release the poller lease {} (token {}): {}; it expires within {} ms",
                    lease.key(),
                    t,
                    e.toString(),
                    settings.ttl().toMillis());
        }
    }

    /**
     * Stops the controller. With {@code release}, gives up the lease so a standby can take over at once (call it
     * after polling stopped); without (a crash), the lease simply expires.
     */
    void close(boolean release) {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (next != null) {
                next.cancel(false);
            }
        }
        thread.shutdownNow();
        try {
            if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("the lease controller did not stop within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        long t = token;
        token = -1;
        if (release && t >= 0) {
            releaseQuietly(t);
        }
    }

    @Override
    public void close() {
        close(true);
    }
}
