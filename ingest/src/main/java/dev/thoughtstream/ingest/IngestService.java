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
import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.common.topic.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 */
public final class IngestService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IngestService.class);
    /** How long close() lets a batch in progress finish: a written batch can still be confirmed. */
    static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(5);

    private final IngestConfig config;
    private final KafkaSettings kafka;
    private final Topics topics;
    private final ClaimStore claims;
    /** The staleness signal, told of every new user message once Kafka has it; null: not recorded. */
    private final ChatActivity activity;
    private final Clock clock;
    /** What may be written and who is told what (issue 6's access and abuse rules). */
    private final IntakeRules rules;
    private final ObjectMapper mapper = Json.mapper();
    private final CountDownLatch terminated = new CountDownLatch(1);
    private final AtomicReference<Throwable> failure = new AtomicReference<>();

    private Producer<Long, StoredUpdate> producer;
    private Producer<Long, ReplyPart> noticeProducer;
    private UpdateWriter writer;
    private OkHttpClient http;
    private ScheduledExecutorService pollExecutor;
    private TelegramBotsLongPollingApplication app;
    private volatile BotSession session;
    private boolean started;
    private volatile boolean closing;

    /** An ingest that does not feed the staleness signal (the llm-processor and emitter then never see a chat move on). */
    public IngestService(IngestConfig config, KafkaSettings kafka, ClaimStore claims, Clock clock) {
        this(config, kafka, claims, null, clock);
    }

    /**
     * @param activity told of each new user message ({@code message.message_id} of its chat) after Kafka
     *                 acknowledged its batch, so stale replies can be skipped and cancelled downstream
     */
    public IngestService(IngestConfig config, KafkaSettings kafka, ClaimStore claims, ChatActivity activity,
            Clock clock) {
        this(config, kafka, claims, activity, IntakeRules.openToAll(new Metrics()), clock);
    }

    /**
     * @param rules judges every new update before it is written ({@link IntakeRules#openToAll} writes everything)
     */
    public IngestService(IngestConfig config, KafkaSettings kafka, ClaimStore claims, ChatActivity activity,
            IntakeRules rules, Clock clock) {
        this.rules = rules;
        this.config = config;
        this.kafka = kafka;
        this.topics = Topics.withPrefix(kafka.topicPrefix());
        this.claims = claims;
        this.activity = activity;
        this.clock = clock;
    }

    /**
     * Creates missing topics and starts long polling.
     *
     * @throws IllegalStateException when Kafka or Telegram cannot be reached (the message never holds the bot
     *                               token); everything started so far is released again
     */
    public synchronized void start() {
        if (started || closing) {
            throw new IllegalStateException("an IngestService can be started once");
        }
        started = true;
        try {
            startPolling();
        } catch (RuntimeException e) {
            // Nothing was written, so there is nothing to confirm; just release what was created.
            shutdown(false);
            throw e;
        }
    }

    private void startPolling() {
        TopicAdmin.ensureTopics(kafka, topics, Duration.ofSeconds(30));
        producer = createProducer(kafka, topics.updates());
        noticeProducer = createProducer(kafka, topics.replies());
        writer = new UpdateWriter(producer, topics.updates(), noticeProducer, topics.replies(), rules, activity, claims,
                dedupPrefix(config), config.dedupTtl(), config.retryBackoffMax(), clock);

        // The read timeout must outlast the long poll, or every quiet poll ends in an error.
        http = new OkHttpClient.Builder()
                .readTimeout(Duration.ofSeconds(config.pollTimeout() + 15L))
                .callTimeout(Duration.ZERO)
                .build();
        pollExecutor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "ingest-telegram-poller");
            t.setDaemon(true);
            return t;
        });
        app = new TelegramBotsLongPollingApplication(ObjectMapper::new, () -> http, () -> pollExecutor,
                () -> new PollBackOff(config.retryBackoffMax()));
        TelegramUrl url = telegramUrl();
        try {
            session = app.registerBot(config.telegram().token().reveal(), () -> url,
                    lastUpdateId -> GetUpdates.builder()
                            .offset(lastUpdateId + 1)
                            .timeout(config.pollTimeout())
                            .limit(100)
                            .build(),
                    this::consume);
        } catch (TelegramApiException e) {
            // The cause is left out on purpose: TelegramBots' exceptions may quote request URLs, which hold the
            // token. Its description, redacted, is kept.
            throw new IllegalStateException("cannot start long polling at " + config.telegram().apiUrl() + ": "
                    + config.telegram().token().redact(describe(e)), null);
        }
        LOG.info("ingest polling {} (timeout {} s) into {}", config.telegram().apiUrl(), config.pollTimeout(),
                topics.updates().name());
    }

    /** TelegramBots' consumer: returns only once the batch is in Kafka (see the class comment). */
    private void consume(List<Update> updates) {
        try {
            List<JsonNode> raw = new ArrayList<>(updates.size());
            for (Update u : updates) {
                raw.add(mapper.valueToTree(u));
            }
            if (!writer.writeAll(raw)) {
                // Throwing ends TelegramBots' polling task before it can confirm this batch.
                throw new IllegalStateException((closing ? "ingest is closing; " : "interrupted; ") + updates.size()
                        + " update(s) " + idRange(updates) + " not written and left unconfirmed for the next poller");
            }
        } catch (RuntimeException | Error e) {
            if (!closing) {
                failure.compareAndSet(null, e);
                LOG.error("ingest stopped polling: writing update(s) {} failed; they stay unconfirmed and Telegram "
                        + "will redeliver them to the next poller", idRange(updates), e);
                terminated.countDown();
            }
            throw e;
        }
    }

    private static String idRange(List<Update> updates) {
        if (updates.isEmpty()) {
            return "[]";
        }
        return "[" + updates.get(0).getUpdateId() + ".." + updates.get(updates.size() - 1).getUpdateId() + "]";
    }

    private static String describe(Throwable e) {
        StringBuilder sb = new StringBuilder(String.valueOf(e.getMessage()));
        Throwable c = e.getCause();
        for (int depth = 0; c != null && depth < 5; depth++, c = c.getCause()) {
            sb.append(" (caused by ").append(c).append(')');
        }
        return sb.toString();
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
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.putIfAbsent(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        p.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "thoughtstream-ingest");
        return new KafkaProducer<>(p, topic.keySerde().serializer(), topic.valueSerde().serializer());
    }

    /** True while TelegramBots' polling task is alive (it ends when the consumer throws, or on close). */
    public boolean isPolling() {
        BotSession s = session;
        if (s == null || !s.isRunning()) {
            return false;
        }
        var polling = s.getRunningPolling();
        return polling != null && !polling.isDone();
    }

    /** The highest update id written to Kafka so far (-1 before the first). */
    public long lastWrittenUpdateId() {
        return writer == null ? -1 : writer.lastWrittenUpdateId();
    }

    /** Updates this instance wrote to Kafka (redeliveries it skipped are not counted). */
    public long updatesWritten() {
        return writer == null ? 0 : writer.written();
    }

    /** Redelivered updates skipped because Redis remembered them as written. */
    public long duplicatesSkipped() {
        return writer == null ? 0 : writer.duplicatesSkipped();
    }

    /** Redis operations that failed; each means an update written without (or not recorded for) the dedup check. */
    public long dedupUnavailable() {
        return writer == null ? 0 : writer.dedupUnavailable();
    }

    /** User messages recorded in the staleness signal. */
    public long activityRecorded() {
        return writer == null ? 0 : writer.activityRecorded();
    }

    /** User messages the staleness signal could not record (Redis errors; each was still written to Kafka). */
    public long activityUnavailable() {
        return writer == null ? 0 : writer.activityUnavailable();
    }

    /** Failed attempts to write a batch to Kafka (each is retried; the batch stays unconfirmed meanwhile). */
    public long writeRetries() {
        return writer == null ? 0 : writer.writeRetries();
    }

    /** Why polling stopped on its own, if it did (empty while running and after a normal close). */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    /** Blocks until the service is closed or polling failed ({@link #failure()}). */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    /** {@link #awaitTermination()} with a timeout; true when terminated. */
    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Stops polling, lets a batch in progress finish for up to {@link #SHUTDOWN_GRACE}, then confirms to Telegram
     * exactly what was written. Idempotent.
     */
    @Override
    public void close() {
        shutdown(true);
    }

    /**
     * The tests' stand-in for {@code kill -9}: stops polling at once, abandoning a batch in progress, and sends
     * no shutdown confirmation, so Telegram redelivers everything not yet confirmed by a poll.
     */
    void abort() {
        shutdown(false);
    }

    private synchronized void shutdown(boolean graceful) {
        if (closing) {
            return;
        }
        closing = true;
        if (writer != null) {
            writer.close();
        }
        if (app != null) {
            try {
                app.close();
            } catch (Exception e) {
                LOG.warn("closing the long-polling application: {}", config.telegram().token().redact(e.toString()));
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
        terminated.countDown();
        LOG.info("ingest {}; last written update {}", graceful ? "stopped" : "aborted", lastWrittenUpdateId());
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
     * poller; confirm exactly what Kafka has. (Redelivery would be deduplicated anyway; this saves the work.)
     */
    private void confirmWritten() {
        long last = lastWrittenUpdateId();
        if (last < 0 || http == null) {
            return;
        }
        OkHttpClient confirmHttp = http.newBuilder().readTimeout(Duration.ofSeconds(5)).build();
        try {
            new OkHttpTelegramClient(confirmHttp, config.telegram().token().reveal(), telegramUrl())
                    .execute(GetUpdates.builder().offset((int) (last + 1)).timeout(0).limit(1).build());
            LOG.info("confirmed updates up to {} to Telegram", last);
        } catch (TelegramApiException | RuntimeException e) {
            LOG.warn("could not confirm updates up to {} on shutdown; Telegram will redeliver them (deduplicated): {}",
                    last, config.telegram().token().redact(e.toString()));
        }
    }
}
