package dev.thoughtstream.ingest.webhook;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.kafka.TopicAdmin;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.ingest.BotApiClient;
import dev.thoughtstream.ingest.IngestConfig;
import dev.thoughtstream.ingest.intake.UpdateJudge;
import dev.thoughtstream.ingest.write.ActivityRecorder;
import dev.thoughtstream.ingest.write.IngestCounters;
import dev.thoughtstream.ingest.write.IngestProducers;
import dev.thoughtstream.ingest.write.UpdateWriter;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ingest in webhook mode ({@code INGEST_MODE=webhook}): Telegram POSTs each update to {@link WebhookServer}, which
 * writes it through the same {@link UpdateWriter} as the poller, batched with the deliveries waiting at the same
 * moment ({@link WebhookBatches}), and answers 200 only once Kafka acknowledged it, else 503 so Telegram retries.
 *
 * <p>Start: topics, producers, the endpoint, then setWebhook (so the endpoint is up before Telegram calls it).
 * Stop: deleteWebhook (unless {@code INGEST_WEBHOOK_DELETE_ON_STOP=false}), then the endpoint, then Kafka. Any
 * number of instances may serve one URL: no lease. See docs/ingest.md.
 */
public final class WebhookIngest implements Service {
    private static final Logger LOG = LoggerFactory.getLogger(WebhookIngest.class);
    /**
     * Threads reading and checking requests. A request thread does not wait for Kafka (the batch writer answers), so
     * a few serve all of Telegram's connections; fewer threads hand work over without waking one another.
     */
    static final int REQUEST_THREADS = 4;

    /** The update kinds the pipeline reads; Telegram keeps this choice for getUpdates too. */
    static final List<String> ALLOWED_UPDATES = List.of("message", "edited_message");

    /**
     * What a webhook ingest works with.
     *
     * @param judge    dedup (under the bot's dedup prefix, shared with the poller) and the intake rules
     * @param activity the staleness signal, or {@link ActivityRecorder#none()}
     * @param botApi   for setWebhook / deleteWebhook
     * @param tracer   starts each update's trace; or {@link StageTracer#noop()}
     */
    public record Dependencies(
            KafkaSettings kafka,
            UpdateJudge judge,
            ActivityRecorder activity,
            Metrics metrics,
            BotApiClient botApi,
            Clock clock,
            StageTracer tracer) {
        /** Without tracing. */
        public Dependencies(
                KafkaSettings kafka,
                UpdateJudge judge,
                ActivityRecorder activity,
                Metrics metrics,
                BotApiClient botApi,
                Clock clock) {
            this(kafka, judge, activity, metrics, botApi, clock, StageTracer.noop());
        }
    }

    private final IngestConfig config;
    private final WebhookSettings webhook;
    private final KafkaSettings kafka;
    private final Topics topics;
    private final UpdateJudge judge;
    private final ActivityRecorder activity;
    private final Metrics metrics;
    private final BotApiClient botApi;
    private final Clock clock;
    private final StageTracer tracer;
    private final CountDownLatch terminated = new CountDownLatch(1);

    private IngestProducers producers;
    private UpdateWriter writer;
    private ScheduledThreadPoolExecutor deadlines;
    private WebhookBatches batches;
    private WebhookServer server;
    private boolean started;
    private boolean closed;
    private volatile boolean serving;

    public WebhookIngest(IngestConfig config, Dependencies dependencies) {
        if (config.webhook() == null) {
            throw new IllegalArgumentException("the configuration is not for webhook mode (" + IngestConfig.MODE + ")");
        }
        this.config = config;
        this.webhook = config.webhook();
        this.kafka = dependencies.kafka();
        this.topics = Topics.withPrefix(kafka.topicPrefix());
        this.judge = dependencies.judge();
        this.activity = dependencies.activity();
        this.metrics = dependencies.metrics();
        this.botApi = dependencies.botApi();
        this.clock = dependencies.clock();
        this.tracer = dependencies.tracer();
        IngestCounters.register(metrics, judge, activity, this::writeRetries);
    }

    /**
     * Creates missing topics, serves the endpoint and registers it with Telegram.
     *
     * @throws IllegalStateException when Kafka or Telegram cannot be reached, or setWebhook is refused (the message
     *                               never holds the token); everything started so far is released again
     */
    @Override
    public String name() {
        return IngestConfig.SERVICE_NAME;
    }

    @Override
    public boolean isReady() {
        return isServing();
    }

    /** The endpoint has no failure of its own: each request fails alone. */
    @Override
    public Optional<Throwable> failure() {
        return Optional.empty();
    }

    @Override
    public synchronized void start() {
        if (started || closed) {
            throw new IllegalStateException("a WebhookIngest can be started once");
        }
        started = true;
        if (!webhook.isHttps()) {
            LOG.warn(
                    "{} is not https: Telegram refuses such webhooks (fine for the emulator)",
                    IngestConfig.WEBHOOK_URL);
        }
        try {
            TopicAdmin.ensureTopics(kafka, topics, Duration.ofSeconds(30));
            KafkaSettings bounded = withMaxBlock(kafka, webhook.ackTimeout());
            producers = IngestProducers.open(bounded, topics, metrics);
            writer = new UpdateWriter(producers, topics, judge, activity, config.retryBackoffMax(), clock, -1, tracer);
            deadlines = deadlineTimer();
            batches = new WebhookBatches(writer::writeWithin, deadlines);
            server = new WebhookServer(
                            webhook.port(),
                            webhook.path(),
                            webhook.secret(),
                            update -> batches.submit(update, webhook.ackTimeout()),
                            metrics,
                            Math.min(REQUEST_THREADS, webhook.maxConnections()))
                    .start();
            botApi.setWebhook(webhook.webhookUrl(), webhook.secret(), ALLOWED_UPDATES, webhook.maxConnections());
        } catch (RuntimeException e) {
            release();
            throw e;
        }
        serving = true;
        LOG.info(
                "ingest webhook registered with {} (endpoint port {}), writing into {}",
                config.telegram().apiUrl(),
                server.port(),
                topics.updates().name());
    }

    /**
     * The producers' metadata wait must not outlast a delivery's deadline, or a webhook request would hang past
     * it while Kafka is unreachable; an explicit {@code KAFKA_CLIENT_MAX_BLOCK_MS} still wins.
     */
    private static KafkaSettings withMaxBlock(KafkaSettings kafka, Duration ackTimeout) {
        Map<String, String> overrides = new TreeMap<>(kafka.clientOverrides());
        overrides.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(ackTimeout.toMillis()));
        return new KafkaSettings(
                kafka.bootstrapServers(),
                kafka.topicPrefix(),
                kafka.partitions(),
                kafka.replicationFactor(),
                overrides,
                kafka.instanceId());
    }

    /** One thread answering deliveries whose deadline passes while they wait for a batch. */
    private static ScheduledThreadPoolExecutor deadlineTimer() {
        ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "ingest-webhook-deadlines");
            t.setDaemon(true);
            return t;
        });
        // Nearly every delivery is taken into a batch long before its deadline: its cancelled timer goes at once.
        timer.setRemoveOnCancelPolicy(true);
        return timer;
    }

    /** The endpoint's bound port (useful when {@code INGEST_WEBHOOK_PORT=0}). */
    public synchronized int port() {
        if (server == null) {
            throw new IllegalStateException("not serving");
        }
        return server.port();
    }

    /** True while the endpoint serves and the webhook is registered. */
    public boolean isServing() {
        return serving;
    }

    public long updatesWritten() {
        return writer == null ? 0 : writer.written();
    }

    public long lastWrittenUpdateId() {
        return writer == null ? -1 : writer.lastWrittenUpdateId();
    }

    public long duplicatesSkipped() {
        return judge.duplicatesSkipped();
    }

    public long writeRetries() {
        return writer == null ? 0 : writer.writeRetries();
    }

    /** Blocks until closed (the endpoint has no failure of its own: each request fails alone). */
    public void awaitTermination() throws InterruptedException {
        terminated.await();
    }

    public boolean awaitTermination(Duration timeout) throws InterruptedException {
        return terminated.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Deletes the webhook (see the class comment), stops the endpoint, then Kafka. Idempotent. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        serving = false;
        if (started && server != null && webhook.deleteOnStop()) {
            try {
                botApi.deleteWebhook();
                LOG.info("webhook deleted; Telegram keeps new updates for the next webhook or poller");
            } catch (RuntimeException e) {
                LOG.warn(
                        "could not delete the webhook ({}); Telegram keeps delivering to {} and retrying",
                        e.getMessage(),
                        IngestConfig.WEBHOOK_URL);
            }
        }
        release();
        LOG.info("ingest webhook stopped; last written update {}", lastWrittenUpdateId());
    }

    private void release() {
        if (server != null) {
            server.stopAccepting();
        }
        if (writer != null) {
            // Requests still waiting for Kafka end now and are answered 503 (Telegram retries them).
            writer.close();
        }
        if (batches != null) {
            batches.close();
        }
        if (deadlines != null) {
            deadlines.shutdownNow();
        }
        if (server != null) {
            server.close();
        }
        if (producers != null) {
            // An update still pending was answered 503 and stays with Telegram; it must not land after we stopped.
            producers.close(Duration.ZERO, Duration.ofSeconds(1));
        }
        terminated.countDown();
    }
}
