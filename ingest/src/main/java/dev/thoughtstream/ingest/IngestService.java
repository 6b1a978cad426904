package dev.thoughtstream.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.kafka.TopicAdmin;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.common.topic.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.telegram.telegrambots.client.okhttp.OkHttpTelegramClient;
import org.telegram.telegrambots.longpolling.BotSession;
import org.telegram.telegrambots.longpolling.TelegramBotsLongPollingApplication;
import org.telegram.telegrambots.longpolling.interfaces.LongPollingUpdateConsumer;
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
 */
public final class IngestService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IngestService.class);

    private final IngestConfig config;
    private final KafkaSettings kafka;
    private final Topics topics;
    private final ClaimStore claims;
    private final Clock clock;
    private final ObjectMapper mapper = Json.mapper();

    private Producer<Long, StoredUpdate> producer;
    private UpdateWriter writer;
    private OkHttpClient http;
    private ScheduledExecutorService pollExecutor;
    private TelegramBotsLongPollingApplication app;
    private BotSession session;
    private volatile boolean closing;

    public IngestService(IngestConfig config, KafkaSettings kafka, ClaimStore claims, Clock clock) {
        this.config = config;
        this.kafka = kafka;
        this.topics = Topics.withPrefix(kafka.topicPrefix());
        this.claims = claims;
        this.clock = clock;
    }

    public synchronized void start() {
        TopicAdmin.ensureTopics(kafka, topics, Duration.ofSeconds(30));
        producer = createProducer(kafka, topics.updates());
        writer = new UpdateWriter(producer, topics.updates(), claims,
                "tg:update:" + config.telegram().botId() + ":", config.dedupTtl(), config.retryBackoffMax(), clock, mapper);

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
        app = new TelegramBotsLongPollingApplication(ObjectMapper::new, () -> http, () -> pollExecutor);
        TelegramUrl url = telegramUrl();
        try {
            session = app.registerBot(config.telegram().token().reveal(), () -> url,
                    lastUpdateId -> GetUpdates.builder()
                            .offset(lastUpdateId + 1)
                            .timeout(config.pollTimeout())
                            .limit(100)
                            .build(),
                    consumer());
        } catch (TelegramApiException e) {
            throw new IllegalStateException("cannot start long polling: "
                    + config.telegram().token().redact(e.getMessage()), null);
        }
        LOG.info("ingest polling {} (timeout {} s) into {}", config.telegram().apiUrl(), config.pollTimeout(),
                topics.updates().name());
    }

    private LongPollingUpdateConsumer consumer() {
        return updates -> {
            List<JsonNode> raw = new ArrayList<>(updates.size());
            for (Update u : updates) {
                raw.add(mapper.valueToTree(u));
            }
            if (!writer.writeAll(raw)) {
                // Throwing ends TelegramBots' polling task before it can confirm this batch.
                throw new IllegalStateException("ingest is closing; " + updates.size()
                        + " update(s) not written and left unconfirmed for the next poller");
            }
        };
    }

    private TelegramUrl telegramUrl() {
        return new TelegramUrl(config.telegram().scheme(), config.telegram().host(), config.telegram().port(), false);
    }

    static Producer<Long, StoredUpdate> createProducer(KafkaSettings kafka, Topic<Long, StoredUpdate> topic) {
        Properties p = kafka.clientProperties();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "thoughtstream-ingest");
        return new KafkaProducer<>(p, topic.keySerde().serializer(), topic.valueSerde().serializer());
    }

    /** True while TelegramBots' polling task is alive (it dies silently if the consumer throws). */
    public boolean isPolling() {
        BotSession s = session;
        return s != null && s.isRunning() && s.getRunningPolling() != null && !s.getRunningPolling().isDone();
    }

    public long lastWrittenUpdateId() {
        return writer == null ? -1 : writer.lastWrittenUpdateId();
    }

    public long duplicatesSkipped() {
        return writer == null ? 0 : writer.duplicatesSkipped();
    }

    public long dedupUnavailable() {
        return writer == null ? 0 : writer.dedupUnavailable();
    }

    @Override
    public synchronized void close() {
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
        confirmWritten();
        if (producer != null) {
            producer.close(Duration.ofSeconds(10));
        }
        if (http != null) {
            http.dispatcher().executorService().shutdown();
            http.connectionPool().evictAll();
        }
        LOG.info("ingest stopped; last written update {}", lastWrittenUpdateId());
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
