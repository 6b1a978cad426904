package dev.thoughtstream.ingest.poll;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.kafka.TopicAdmin;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.ingest.IngestConfig;
import dev.thoughtstream.ingest.intake.UpdateJudge;
import dev.thoughtstream.ingest.write.ActivityRecorder;
import dev.thoughtstream.ingest.write.IngestCounters;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.ToLongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ingest in polling mode: long-polls Telegram (getUpdates, {@link TelegramPolling}) and writes every update to the updates topic, one
 * {@link PollingTerm} at a time. Given a {@link PollerLease}, it polls only while it holds the lease and stands by
 * otherwise ({@link StandbyController}); each term polls under one fencing token.
 *
 * <p>Polling never dies silently: if a batch fails for any reason but the term ending (a bug), it stays
 * unconfirmed, the failure is kept in {@link #failure()}, {@link #isPolling()} turns false and
 * {@link #awaitTermination()} returns, so the process can exit and be restarted. See docs/ingest.md.
 */
public final class IngestService implements Service {
    private static final Logger LOG = LoggerFactory.getLogger(IngestService.class);

    /** Whether this instance is the one polling Telegram. */
    public enum Role {
        ACTIVE,
        STANDBY
    }

    /**
     * What a polling ingest works with; what is optional has an explicit "none" value instead of null.
     *
     * @param judge    dedup and the intake rules ({@code IntakeRules.openToAll} writes everything)
     * @param activity the staleness signal, told of each new user message once Kafka has it; or
     *                 {@link ActivityRecorder#none()}
     * @param lease    one poller at a time: this instance polls only while it holds the lease; or
     *                 {@link PollerLease#none()}: it always polls (only one such instance may run per bot)
     * @param metrics  receives the lease's metrics ({@code ingest_lease_*}) and
     *                 {@code ingest_update_id_restarts_total}
     * @param tracer   starts each update's trace; or {@link StageTracer#noop()}
     */
    public record Dependencies(
            KafkaSettings kafka,
            UpdateJudge judge,
            ActivityRecorder activity,
            PollerLease lease,
            Metrics metrics,
            Clock clock,
            StageTracer tracer) {
        public Dependencies {
            // The two that used to be null for "off" say what to pass instead.
            Objects.requireNonNull(activity, "activity: ActivityRecorder.none() records nothing");
            Objects.requireNonNull(lease, "lease: PollerLease.none() polls without one");
            Objects.requireNonNull(tracer, "tracer: StageTracer.noop() traces nothing");
        }

        /** Without tracing. */
        public Dependencies(
                KafkaSettings kafka,
                UpdateJudge judge,
                ActivityRecorder activity,
                PollerLease lease,
                Metrics metrics,
                Clock clock) {
            this(kafka, judge, activity, lease, metrics, clock, StageTracer.noop());
        }
    }

    private final IngestConfig config;
    private final KafkaSettings kafka;
    private final Topics topics;
    private final UpdateJudge judge;
    private final ActivityRecorder activity;
    private final PollerLease lease;
    private final Metrics metrics;
    private final Clock clock;
    private final StageTracer tracer;
    private final AtomicLong fenceRejections = new AtomicLong();
    private final Metrics.Counter updateIdRestarts;
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** Guards starting and stopping polling terms (taken after the controller's lock, never before it). */
    private final Object termLock = new Object();
    /** Every polling term so far, for the counters (there are few: one per takeover). */
    private final List<PollingTerm> terms = new CopyOnWriteArrayList<>();
    /** Hears of each term's fence rejections and failures. */
    private final PollingTerm.Listener termListener = new PollingTerm.Listener() {
        @Override
        public void fenceRejected() {
            fenceRejections.incrementAndGet();
        }

        @Override
        public void updateIdsRestarted() {
            updateIdRestarts.increment();
        }

        @Override
        public void failed(Throwable e, String what) {
            if (closing) {
                return;
            }
            failure.compareAndSet(null, e);
            LOG.error(
                    "ingest stopped polling: {} failed; what was not written stays unconfirmed and Telegram will "
                            + "redeliver it to the next poller",
                    what,
                    e);
            terminated.countDown();
        }
    };

    /** Polls while this instance holds the lease, and stops the moment it loses it. */
    private final StandbyController.Listener leaseListener = new StandbyController.Listener() {
        @Override
        public void activate(long token) {
            startTerm(token, standby);
        }

        @Override
        public void deactivate(long token, String why) {
            PollingTerm t = term;
            if (t != null && t.token() == token) {
                stopTerm(t, false);
            }
        }
    };

    /** Null without a lease. */
    private StandbyController standby;
    /** The polling term in progress; null while standing by. */
    private volatile PollingTerm term;

    private boolean started;
    private volatile boolean closing;

    public IngestService(IngestConfig config, Dependencies dependencies) {
        this.config = config;
        this.kafka = dependencies.kafka();
        this.topics = Topics.withPrefix(kafka.topicPrefix());
        this.judge = dependencies.judge();
        this.activity = dependencies.activity();
        this.lease = dependencies.lease();
        this.metrics = dependencies.metrics();
        this.clock = dependencies.clock();
        this.tracer = dependencies.tracer();
        this.updateIdRestarts = metrics.counter(
                "ingest_update_id_restarts_total",
                "times Telegram restarted its update ids (lower) and polling went on from the new ids");
        IngestCounters.register(metrics, judge, activity, this::writeRetries);
        metrics.counter(
                "ingest_fence_rejections_total",
                "batches left unconfirmed because the fence found the poller lease lost (before or after the write)",
                fenceRejections::get);
    }

    @Override
    public String name() {
        return IngestConfig.SERVICE_NAME;
    }

    /**
     * Creates missing topics and starts long polling, or (with a lease held by another instance, or Redis
     * unreachable) starts standing by.
     *
     * @throws IllegalStateException when Kafka or Telegram cannot be reached (the message never holds the bot
     *                               token); everything started so far is released again, the lease included
     */
    @Override
    public synchronized void start() {
        if (started || closing) {
            throw new IllegalStateException("an IngestService can be started once");
        }
        started = true;
        try {
            TopicAdmin.ensureTopics(kafka, topics, Duration.ofSeconds(30));
            if (lease.isNone()) {
                startTerm(PollingTerm.NO_LEASE, LeaseFence.none());
            } else {
                standby = new StandbyController(lease, config.lease(), clock, metrics, leaseListener);
                standby.start();
                if (!standby.isActive()) {
                    LOG.info(
                            "ingest standing by: the poller lease {} is held by another instance or Redis is "
                                    + "unreachable; trying every {} ms",
                            lease.key(),
                            config.lease().retry().toMillis());
                }
            }
        } catch (RuntimeException e) {
            // Nothing was written, so there is nothing to confirm; just release what was created.
            shutdown(false);
            throw e;
        }
    }

    private void startTerm(long token, LeaseFence fence) {
        synchronized (termLock) {
            if (closing) {
                throw new IllegalStateException("ingest is closing; not starting to poll");
            }
            PollingTerm t = new PollingTerm(
                    token,
                    new PollingTerm.Setup(
                            config, kafka, topics, judge, activity, clock, fence, termListener, metrics, tracer));
            terms.add(t);
            term = t;
            try {
                t.start();
            } catch (RuntimeException e) {
                term = null;
                t.stop(false);
                throw e;
            }
        }
    }

    private void stopTerm(PollingTerm t, boolean graceful) {
        synchronized (termLock) {
            if (t.isStopped()) {
                return;
            }
            t.stop(graceful);
            if (term == t) {
                term = null;
            }
        }
    }

    /** True while this instance polls Telegram: the poller thread of the current term is alive. */
    public boolean isPolling() {
        PollingTerm t = term;
        return t != null && t.isPolling();
    }

    /** ACTIVE while this instance holds the lease (always, without a lease, once started), else STANDBY. */
    public Role role() {
        if (standby != null) {
            return standby.isActive() ? Role.ACTIVE : Role.STANDBY;
        }
        return term != null ? Role.ACTIVE : Role.STANDBY;
    }

    /**
     * Readiness: active and polling (its first getUpdates sent, its producers' metadata fetched before that), or
     * standing by while Redis is reachable (so it could take over). Not ready after a failure or once closing.
     */
    @Override
    public boolean isReady() {
        if (closing || failure.get() != null) {
            return false;
        }
        if (role() == Role.ACTIVE) {
            PollingTerm t = term;
            return t != null && t.hasPolled();
        }
        return standby != null && standby.isConnected();
    }

    /** The fencing token this instance polls under; empty while standing by, or without a lease. */
    public OptionalLong leaseToken() {
        PollingTerm t = term;
        return t == null || t.token() == PollingTerm.NO_LEASE ? OptionalLong.empty() : OptionalLong.of(t.token());
    }

    /** Batches not confirmed because the fence found the lease lost (before the write, or after it). */
    public long fenceRejections() {
        return fenceRejections.get();
    }

    /** Times Telegram restarted its update ids, noticed by a batch whose first id is not above the last one. */
    public long updateIdRestarts() {
        return updateIdRestarts.count();
    }

    /** The highest update id written to Kafka so far (-1 before the first). */
    public long lastWrittenUpdateId() {
        return terms.stream().mapToLong(PollingTerm::lastWrittenUpdateId).max().orElse(-1);
    }

    /** Updates this instance wrote to Kafka (redeliveries it skipped are not counted). */
    public long updatesWritten() {
        return sum(PollingTerm::written);
    }

    /** Redelivered updates skipped because Redis remembered them as written. */
    public long duplicatesSkipped() {
        return judge.duplicatesSkipped();
    }

    /** Redis operations that failed; each means an update written without (or not recorded for) the dedup check. */
    public long dedupUnavailable() {
        return judge.dedupUnavailable();
    }

    /** User messages recorded in the staleness signal. */
    public long activityRecorded() {
        return activity.recorded();
    }

    /** User messages the staleness signal could not record (Redis errors; each was still written to Kafka). */
    public long activityUnavailable() {
        return activity.unavailable();
    }

    /** Failed attempts to write a batch to Kafka (each is retried; the batch stays unconfirmed meanwhile). */
    public long writeRetries() {
        return sum(PollingTerm::writeRetries);
    }

    private long sum(ToLongFunction<PollingTerm> counter) {
        return terms.stream().mapToLong(counter).sum();
    }

    /** Why polling stopped on its own, if it did (empty while running and after a normal close). */
    @Override
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    /** Blocks until the service is closed or polling failed ({@link #failure()}). A lost lease is not an end. */
    @Override
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    /** {@link #awaitTermination()} with a timeout; true when terminated. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Stops polling, lets a batch in progress finish for up to {@link PollingTerm#SHUTDOWN_GRACE}, confirms to
     * Telegram exactly what was written, then releases the lease so a standby takes over at once. Idempotent.
     */
    @Override
    public void close() {
        shutdown(true);
    }

    /**
     * The tests' stand-in for {@code kill -9}: stops polling at once, abandoning a batch in progress, sends no
     * shutdown confirmation and neither renews nor releases the lease, so Telegram redelivers everything not yet
     * confirmed by a poll, and a standby takes over only once the lease expires.
     */
    void halt() {
        shutdown(false);
    }

    private void shutdown(boolean graceful) {
        synchronized (this) {
            if (closing) {
                return;
            }
            closing = true;
        }
        if (!graceful && standby != null) {
            standby.close(false);
        }
        PollingTerm t;
        synchronized (termLock) {
            // Under the lock: a term being started right now is either complete here or sees closing and stops.
            t = term;
        }
        if (t != null) {
            stopTerm(t, graceful);
        }
        if (standby != null) {
            // Only after polling stopped and the last batch was confirmed, or the standby's first poll and our
            // confirmation would end each other's requests with 409.
            standby.close(graceful);
        }
        terminated.countDown();
        LOG.info("ingest {}; last written update {}", graceful ? "stopped" : "halted", lastWrittenUpdateId());
    }
}
