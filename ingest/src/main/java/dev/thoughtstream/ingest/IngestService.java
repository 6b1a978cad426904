package dev.thoughtstream.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.kafka.TopicAdmin;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ChatActivity;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.common.topic.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Properties;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.OkHttpClient;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.client.okhttp.OkHttpTelegramClient;
import org.telegram.telegrambots.longpolling.BotSession;
import org.telegram.telegrambots.longpolling.TelegramBotsLongPollingApplication;
import org.telegram.telegrambots.meta.TelegramUrl;
import org.telegram.telegrambots.meta.api.methods.updates.GetUpdates;
import org.telegram.telegrambots.meta.api.objects.Update;
import org.telegram.telegrambots.meta.exceptions.TelegramApiException;

/**
 * Long-polls Telegram with TelegramBots and writes every update to the updates topic, keyed by chat id.
 *
 * <p>The consumer is synchronous on purpose: TelegramBots confirms a batch (the next getUpdates offset) as
 * soon as {@code consume} returns, so {@code consume} returns only after Kafka acknowledged the whole batch
 * (see {@link UpdateWriter}). If the batch cannot be written before shutdown, {@code consume} throws, which
 * ends TelegramBots' polling task without sending the confirming getUpdates.
 *
 * <p>Polling never dies silently: if the consumer fails for any other reason (a bug), the batch stays
 * unconfirmed, the failure is logged at ERROR and kept in {@link #failure()}, {@link #isPolling()} turns false
 * and {@link #awaitTermination()} returns, so the process can exit and be restarted (Telegram then redelivers
 * the batch, deduplicated).
 *
 * <p>One poller at a time: given a {@link PollerLease}, the service polls only while it holds the lease (role
 * ACTIVE) and stands by otherwise ({@link StandbyController}). Each stretch of polling is a term under one fencing
 * token, in the headers of everything it writes. The fence: {@code consume} asks Redis whether the token still holds
 * the lease before writing a batch and again after the batch is in Kafka, before returning (returning is what sends
 * the confirming getUpdates), and the getUpdates generator refuses to build a request once the lease is over by our own clock. A lost lease
 * stops the term at once, without confirming anything further. See docs/ingest.md.
 */
public final class IngestService implements Service {
    static final String NAME = "ingest";
    private static final Logger LOG = LoggerFactory.getLogger(IngestService.class);
    /** How long close() lets a batch in progress finish: a written batch can still be confirmed. */
    static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);
    /** The fencing token of a term polled without a lease. */
    static final long NO_LEASE = -1;

    /** Whether this instance is the one polling Telegram. */
    public enum Role { ACTIVE, STANDBY }

    private final IngestConfig config;
    private final KafkaSettings kafka;
    private final Topics topics;
    private final ClaimStore claims;
    /** The staleness signal, told of every new user message once Kafka has it; null: not recorded. */
    private final ChatActivity activity;
    /** One poller at a time; null: this instance always polls (a single instance, or devstack without Redis). */
    private final PollerLease lease;
    private final Metrics metrics;
    private final Clock clock;
    /** What may be written and who is told what (access and abuse rules; see docs/ingest.md). */
    private final IntakeRules rules;
    private final AtomicLong fenceRejections = new AtomicLong();
    private final ObjectMapper mapper = Json.mapper();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** Guards starting and stopping polling terms (taken after the controller's lock, never before it). */
    private final Object termLock = new Object();
    /** Every polling term so far, for the counters (there are few: one per takeover). */
    private final List<Term> terms = new CopyOnWriteArrayList<>();

    private StandbyController standby;
    /** The polling term in progress; null while standing by. */
    private volatile Term term;
    private boolean started;
    private volatile boolean closing;

    /** An ingest that does not feed the staleness signal (the llm-processor and emitter then never see a chat move on). */
    public IngestService(IngestConfig config, KafkaSettings kafka, ClaimStore claims, Clock clock) {
        this(config, kafka, claims, null, clock);
    }

    /**
     * An ingest without a lease that writes every update: it polls as soon as it starts (only one such instance may
     * run per bot).
     */
    public IngestService(IngestConfig config, KafkaSettings kafka, ClaimStore claims, ChatActivity activity,
            Clock clock) {
        this(config, kafka, claims, activity, IntakeRules.openToAll(new Metrics()), null, new Metrics(), clock);
    }

    /** An ingest without a lease, judging updates by {@code rules}. */
    public IngestService(IngestConfig config, KafkaSettings kafka, ClaimStore claims, ChatActivity activity,
            IntakeRules rules, Clock clock) {
        this(config, kafka, claims, activity, rules, null, new Metrics(), clock);
    }

    /** An ingest under {@code lease} that writes every update. */
    public IngestService(IngestConfig config, KafkaSettings kafka, ClaimStore claims, ChatActivity activity,
            PollerLease lease, Metrics metrics, Clock clock) {
        this(config, kafka, claims, activity, IntakeRules.openToAll(metrics), lease, metrics, clock);
    }

    /**
     * @param activity told of each new user message ({@code message.message_id} of its chat) after Kafka
     *                 acknowledged its batch, so stale replies can be skipped and cancelled downstream
     * @param rules    judges every new update before it is written ({@link IntakeRules#openToAll} writes everything)
     * @param lease    when given, this instance polls only while it holds the lease and stands by otherwise (see
     *                 {@link StandbyController}); null: it always polls
     * @param metrics  receives the lease's metrics ({@code ingest_lease_*})
     */
    public IngestService(IngestConfig config, KafkaSettings kafka, ClaimStore claims, ChatActivity activity,
            IntakeRules rules, PollerLease lease, Metrics metrics, Clock clock) {
        this.rules = rules;
        this.config = config;
        this.kafka = kafka;
        this.topics = Topics.withPrefix(kafka.topicPrefix());
        this.claims = claims;
        this.activity = activity;
        this.lease = lease;
        this.metrics = metrics;
        this.clock = clock;
    }

    /**
     * Creates missing topics and starts long polling, or (with a lease held by another instance, or Redis
     * unreachable) starts standing by.
     *
     * @throws IllegalStateException when Kafka or Telegram cannot be reached (the message never holds the bot
     *                               token); everything started so far is released again, the lease included
     */
    @Override
    public String name() {
        return NAME;
    }

    @Override
    public synchronized void start() {
        if (started || closing) {
            throw new IllegalStateException("an IngestService can be started once");
        }
        started = true;
        try {
            TopicAdmin.ensureTopics(kafka, topics, Duration.ofSeconds(30));
            if (lease == null) {
                startTerm(NO_LEASE);
            } else {
                standby = new StandbyController(lease, config.lease(), clock, metrics, new StandbyController.Listener() {
                    @Override
                    public void activate(long token) {
                        startTerm(token);
                    }

                    @Override
                    public void deactivate(long token, String why) {
                        Term t = term;
                        if (t != null && t.token == token) {
                            stopTerm(t, false);
                        }
                    }
                });
                standby.start();
                if (!standby.isActive()) {
                    LOG.info("ingest standing by: the poller lease {} is held by another instance or Redis is "
                            + "unreachable; trying every {} ms", lease.key(), config.lease().retry().toMillis());
                }
            }
        } catch (RuntimeException e) {
            // Nothing was written, so there is nothing to confirm; just release what was created.
            shutdown(false);
            throw e;
        }
    }

    private void startTerm(long token) {
        synchronized (termLock) {
            if (closing) {
                throw new IllegalStateException("ingest is closing; not starting to poll");
            }
            Term t = new Term(token);
            terms.add(t);
            term = t;
            try {
                t.start();
            } catch (RuntimeException e) {
                term = null;
                t.ended = true;
                t.stop(false);
                throw e;
            }
        }
    }

    private void stopTerm(Term t, boolean graceful) {
        synchronized (termLock) {
            if (t.stopped) {
                return;
            }
            t.ended = true;
            t.stop(graceful);
            if (term == t) {
                term = null;
            }
        }
    }

    private static String idRange(List<Update> updates) {
        if (updates.isEmpty()) {
            return "[]";
        }
        return "[" + updates.get(0).getUpdateId() + ".." + updates.get(updates.size() - 1).getUpdateId() + "]";
    }

    /** Where update ids are remembered; shared by the poller and the webhook so a mode switch dedups too. */
    static String dedupPrefix(IngestConfig config) {
        return "tg:update:" + config.telegram().botId() + ":";
    }

    private TelegramUrl telegramUrl() {
        return new TelegramUrl(config.telegram().scheme(), config.telegram().host(), config.telegram().port(), false);
    }

    /**
     * A producer that only reports success once every in-sync replica has the record ({@code acks=all},
     * idempotent); these two are fixed. Timeouts and everything else can be tuned with {@code KAFKA_CLIENT_*}.
     */
    static <V> Producer<Long, V> createProducer(KafkaSettings kafka, Topic<Long, V> topic) {
        Properties p = kafka.clientProperties();
        Object acks = p.get(ProducerConfig.ACKS_CONFIG);
        if (acks != null && !"all".equals(acks) && !"-1".equals(acks)) {
            LOG.warn("ignoring acks={} from the configuration: ingest needs acks=all to never lose an update", acks);
        }
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        // UpdateWriter has each wave sent at once (SendNow), so the linger only batches a wave's records into one
        // request and bounds how long they wait should that thread be slow to run.
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
        p.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        p.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "thoughtstream-ingest");
        return new KafkaProducer<>(p, topic.keySerde().serializer(), topic.valueSerde().serializer());
    }

    /** True while this instance polls Telegram: TelegramBots' polling task of the current term is alive. */
    public boolean isPolling() {
        Term t = term;
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
     * Readiness: active and polling, or standing by while Redis is reachable (so it could take over). Not ready
     * after a failure or once closing.
     */
    public boolean isReady() {
        if (closing || failure.get() != null) {
            return false;
        }
        if (role() == Role.ACTIVE) {
            return isPolling();
        }
        return standby != null && standby.isConnected();
    }

    /** The fencing token this instance polls under; empty while standing by, or without a lease. */
    public OptionalLong leaseToken() {
        Term t = term;
        return t == null || t.token == NO_LEASE ? OptionalLong.empty() : OptionalLong.of(t.token);
    }

    /** Batches not confirmed because the fence found the lease lost (before the write, or after it). */
    public long fenceRejections() {
        return fenceRejections.get();
    }

    /** The highest update id written to Kafka so far (-1 before the first). */
    public long lastWrittenUpdateId() {
        return terms.stream().mapToLong(Term::lastWrittenUpdateId).max().orElse(-1);
    }

    /** Updates this instance wrote to Kafka (redeliveries it skipped are not counted). */
    public long updatesWritten() {
        return sum(UpdateWriter::written);
    }

    /** Redelivered updates skipped because Redis remembered them as written. */
    public long duplicatesSkipped() {
        return sum(UpdateWriter::duplicatesSkipped);
    }

    /** Redis operations that failed; each means an update written without (or not recorded for) the dedup check. */
    public long dedupUnavailable() {
        return sum(UpdateWriter::dedupUnavailable);
    }

    /** User messages recorded in the staleness signal. */
    public long activityRecorded() {
        return sum(UpdateWriter::activityRecorded);
    }

    /** User messages the staleness signal could not record (Redis errors; each was still written to Kafka). */
    public long activityUnavailable() {
        return sum(UpdateWriter::activityUnavailable);
    }

    /** Failed attempts to write a batch to Kafka (each is retried; the batch stays unconfirmed meanwhile). */
    public long writeRetries() {
        return sum(UpdateWriter::writeRetries);
    }

    private long sum(java.util.function.ToLongFunction<UpdateWriter> counter) {
        long total = 0;
        for (Term t : terms) {
            UpdateWriter w = t.writer;
            if (w != null) {
                total += counter.applyAsLong(w);
            }
        }
        return total;
    }

    /** Why polling stopped on its own, if it did (empty while running and after a normal close). */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    /** Blocks until the service is closed or polling failed ({@link #failure()}). A lost lease is not an end. */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    /** {@link #awaitTermination()} with a timeout; true when terminated. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Stops polling, lets a batch in progress finish for up to {@link #SHUTDOWN_GRACE}, confirms to Telegram
     * exactly what was written, then releases the lease so a standby takes over at once. Idempotent.
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
        Term t;
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

    /** Why a batch is left unconfirmed: the lease is no longer ours. Not a failure of the service. */
    private static final class LeaseLost extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        LeaseLost(String message) {
            super(message);
        }
    }

    /**
     * One stretch of polling under one fencing token: its own producer, HTTP client, poller thread and TelegramBots
     * session, all released when the term ends (closing, or the lease lost).
     */
    private final class Term {
        final long token;
        /** Set first thing when the term ends, so what the poller thread does from then on is not a failure. */
        volatile boolean ended;
        boolean stopped;
        private Producer<Long, StoredUpdate> producer;
        private Producer<Long, ReplyPart> noticeProducer;
        volatile UpdateWriter writer;
        private OkHttpClient http;
        private ScheduledExecutorService pollExecutor;
        private TelegramBotsLongPollingApplication app;
        private volatile BotSession session;

        Term(long token) {
            this.token = token;
        }

        void start() {
            producer = createProducer(kafka, topics.updates());
            noticeProducer = createProducer(kafka, topics.replies());
            writer = new UpdateWriter(producer, topics.updates(), noticeProducer, topics.replies(), rules, activity,
                    claims, dedupPrefix(config), config.dedupTtl(), config.retryBackoffMax(), clock, token);

            // The read timeout must outlast the long poll, or every quiet poll ends in an error.
            http = new OkHttpClient.Builder()
                    .readTimeout(Duration.ofSeconds(config.pollTimeout() + 15L))
                    .callTimeout(Duration.ZERO)
                    .build();
            pollExecutor = Executors.newSingleThreadScheduledExecutor(NamedThreads.daemon("ingest-telegram-poller"));
            app = new TelegramBotsLongPollingApplication(ObjectMapper::new, () -> http, () -> pollExecutor,
                    () -> new PollBackOff(config.retryBackoffMax()));
            TelegramUrl url = telegramUrl();
            try {
                session = app.registerBot(config.telegram().token().reveal(), () -> url, this::nextPoll,
                        this::consume);
            } catch (TelegramApiException e) {
                // The cause is left out on purpose: TelegramBots' exceptions may quote request URLs, which hold the
                // token. Its description, redacted, is kept.
                throw new IllegalStateException("cannot start long polling at " + config.telegram().apiUrl() + ": "
                        + config.telegram().token().describe(e), null);
            }
            LOG.info("ingest polling {} (timeout {} s) into {}{}", config.telegram().apiUrl(), config.pollTimeout(),
                    topics.updates().name(), token == NO_LEASE ? "" : " under lease token " + token);
        }

        /**
         * TelegramBots calls this right before every getUpdates it sends, so it is the last gate before a request
         * that would confirm the previous batch and start a long poll: a term whose lease is gone by our own clock
         * sends none (no I/O here; {@link #consume} does the Redis check).
         */
        private GetUpdates nextPoll(Integer lastUpdateId) {
            if (!mayPoll()) {
                if (standby != null && token != NO_LEASE) {
                    standby.reportLost(token, "the lease expired by our clock before the next getUpdates");
                }
                // TelegramBots logs this and backs off; the term is being stopped meanwhile.
                throw new LeaseLost("lease token " + token + " is no longer valid; not polling");
            }
            return GetUpdates.builder()
                    .offset(lastUpdateId + 1)
                    .timeout(config.pollTimeout())
                    .limit(100)
                    .build();
        }

        private boolean mayPoll() {
            return !ended && (token == NO_LEASE || standby.mayPoll(token));
        }

        /**
         * TelegramBots' consumer: returns only once the batch is in Kafka, and, under a lease, only once Redis
         * confirmed that the lease is still ours (see the class comment and docs/ingest.md).
         */
        private void consume(List<Update> updates) {
            try {
                // Before the write too: a batch fetched under a lease that is gone by now would only be a duplicate
                // of the new poller's copy (dedup cannot help while both write at once).
                if (ended || (token != NO_LEASE && !standby.confirmStillHeld(token))) {
                    fenceRejections.incrementAndGet();
                    throw new LeaseLost("lease token " + token + " lost before writing update(s) " + idRange(updates)
                            + "; left unwritten and unconfirmed for the next poller");
                }
                List<JsonNode> raw = new ArrayList<>(updates.size());
                for (Update u : updates) {
                    raw.add(mapper.valueToTree(u));
                }
                if (!writer.writeAll(raw)) {
                    // Throwing ends TelegramBots' polling task before it can confirm this batch.
                    throw new IllegalStateException((ended ? "polling stopped; " : "interrupted; ") + updates.size()
                            + " update(s) " + idRange(updates) + " not written and left unconfirmed for the next "
                            + "poller");
                }
                // The fence. Returning is what makes TelegramBots send the confirming getUpdates, so this is the last
                // moment to find out that another instance polls by now; throwing ends the polling task unconfirmed.
                if (token != NO_LEASE && !standby.confirmStillHeld(token)) {
                    fenceRejections.incrementAndGet();
                    throw new LeaseLost("lease token " + token + " lost after writing update(s) " + idRange(updates)
                            + "; they are in Kafka but left unconfirmed (the next poller's copy is deduplicated)");
                }
            } catch (LeaseLost e) {
                LOG.warn("{}", e.getMessage());
                throw e;
            } catch (RuntimeException | Error e) {
                if (!ended && !closing) {
                    failure.compareAndSet(null, e);
                    LOG.error("ingest stopped polling: writing update(s) {} failed; they stay unconfirmed and "
                            + "Telegram will redeliver them to the next poller", idRange(updates), e);
                    terminated.countDown();
                }
                throw e;
            }
        }

        boolean isPolling() {
            BotSession s = session;
            if (ended || s == null || !s.isRunning()) {
                return false;
            }
            var polling = s.getRunningPolling();
            return polling != null && !polling.isDone();
        }

        long lastWrittenUpdateId() {
            UpdateWriter w = writer;
            return w == null ? -1 : w.lastWrittenUpdateId();
        }

        /** Releases everything; {@code graceful}: lets a batch in progress finish and confirms what was written. */
        void stop(boolean graceful) {
            stopped = true;
            if (writer != null) {
                writer.close();
            }
            if (app != null) {
                try {
                    app.close();
                } catch (Exception e) {
                    LOG.warn("closing the long-polling application: {}",
                            config.telegram().token().redact(e.toString()));
                }
            }
            if (http != null) {
                // app.close() leaves the in-flight long poll running; cancel it so shutdown does not wait for it.
                http.dispatcher().cancelAll();
            }
            if (graceful && writer != null) {
                awaitBatchInProgress();
            }
            if (pollExecutor != null) {
                pollExecutor.shutdownNow();
                try {
                    if (!pollExecutor.awaitTermination(10, TimeUnit.SECONDS)) {
                        LOG.warn("the Telegram poller did not stop within 10 s");
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (graceful) {
                confirmWritten();
            }
            if (producer != null) {
                // Writes are synchronous, so only an abandoned batch can be pending; it must not reach Kafka after
                // we stopped (it is unconfirmed and not remembered for deduplication).
                producer.close(Duration.ZERO);
            }
            if (noticeProducer != null) {
                noticeProducer.close(Duration.ZERO);
            }
            if (http != null) {
                http.dispatcher().executorService().shutdown();
                http.connectionPool().evictAll();
            }
            if (token != NO_LEASE) {
                LOG.info("stopped polling under lease token {}{}", token, graceful ? "" : " (nothing more confirmed)");
            }
        }

        private void awaitBatchInProgress() {
            if (writer.isFailing()) {
                LOG.warn("closing while Kafka refuses the batch in progress; it stays unconfirmed for the next poller");
                return;
            }
            try {
                if (!writer.awaitIdle(SHUTDOWN_GRACE)) {
                    LOG.warn("a batch was still being written after {} ms; abandoning it unconfirmed",
                            SHUTDOWN_GRACE.toMillis());
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        /**
         * TelegramBots does not confirm the last batch on close, so Telegram would redeliver it to the next
         * poller; confirm exactly what Kafka has (redelivery would be deduplicated anyway; this saves the work).
         * Fenced like every confirmation: once the lease is someone else's, our getUpdates would end theirs.
         */
        private void confirmWritten() {
            long last = lastWrittenUpdateId();
            if (last < 0 || http == null) {
                return;
            }
            if (token != NO_LEASE && !standby.confirmStillHeld(token)) {
                LOG.warn("not confirming updates up to {} on shutdown: the lease is no longer ours; the next poller "
                        + "gets them again (deduplicated)", last);
                return;
            }
            OkHttpClient confirmHttp = http.newBuilder().readTimeout(Duration.ofSeconds(5)).build();
            try {
                new OkHttpTelegramClient(confirmHttp, config.telegram().token().reveal(), telegramUrl())
                        .execute(GetUpdates.builder().offset((int) (last + 1)).timeout(0).limit(1).build());
                LOG.info("confirmed updates up to {} to Telegram", last);
            } catch (TelegramApiException | RuntimeException e) {
                LOG.warn("could not confirm updates up to {} on shutdown; Telegram will redeliver them "
                        + "(deduplicated): {}", last, config.telegram().token().redact(e.toString()));
            }
        }
    }
}
