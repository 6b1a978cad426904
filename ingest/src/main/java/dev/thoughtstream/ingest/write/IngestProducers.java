package dev.thoughtstream.ingest.write;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.serde.SerdeWarmUp;
import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.common.topic.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one way ingest makes producers, and the pair an {@link UpdateWriter} writes with. */
public final class IngestProducers {
    private static final Logger LOG = LoggerFactory.getLogger(IngestProducers.class);
    private static final String CLIENT_ID = "thoughtstream-ingest";
    /**
     * The notices' producer has an id of its own, so that its metrics are not taken for the updates producer's (the
     * Kafka metrics are told apart by {@code client_id}).
     */
    private static final String NOTICES_CLIENT_ID = CLIENT_ID + "-notices";

    private final Producer<Long, StoredUpdate> updates;
    private final Producer<Long, ReplyPart> notices;
    /** The producers' Micrometer binders ({@code kafka_producer_*}), closed with them. */
    private final List<Metrics.Binding> bindings = new ArrayList<>();

    public IngestProducers(Producer<Long, StoredUpdate> updates, Producer<Long, ReplyPart> notices) {
        this.updates = updates;
        this.notices = notices;
    }

    /**
     * A producer for the updates topic and one for the notices on the replies topic, their Kafka client metrics
     * bound to {@code metrics}.
     */
    public static IngestProducers open(KafkaSettings kafka, Topics topics, Metrics metrics) {
        Producer<Long, StoredUpdate> updates = create(kafka, topics.updates());
        IngestProducers producers;
        try {
            producers = new IngestProducers(updates, create(kafka, topics.replies(), NOTICES_CLIENT_ID));
        } catch (RuntimeException e) {
            updates.close(Duration.ZERO);
            throw e;
        }
        producers.bindings.add(metrics.bindKafka(producers.updates));
        producers.bindings.add(metrics.bindKafka(producers.notices));
        SerdeWarmUp.warmUp(topics.updates(), topics.replies());
        try {
            // Fetched now, so that the first batch after the start never waits for the topics' metadata.
            producers.updates.partitionsFor(topics.updates().name());
            producers.notices.partitionsFor(topics.replies().name());
        } catch (KafkaException e) {
            // A standby taking over while Kafka is away still polls, and its writes retry until Kafka is back.
            LOG.warn(
                    "could not fetch the metadata of {} and {} yet ({}); the first write fetches it",
                    topics.updates().name(),
                    topics.replies().name(),
                    e.toString());
        }
        return producers;
    }

    /**
     * A producer that only reports success once every in-sync replica has the record ({@code acks=all},
     * idempotent); these two are fixed. Timeouts and everything else can be tuned with {@code KAFKA_CLIENT_*}.
     */
    public static <V> Producer<Long, V> create(KafkaSettings kafka, Topic<Long, V> topic) {
        return create(kafka, topic, CLIENT_ID);
    }

    private static <V> Producer<Long, V> create(KafkaSettings kafka, Topic<Long, V> topic, String clientId) {
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
        p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        return new KafkaProducer<>(
                p, topic.keySerde().serializer(), topic.valueSerde().serializer());
    }

    public Producer<Long, StoredUpdate> updates() {
        return updates;
    }

    public Producer<Long, ReplyPart> notices() {
        return notices;
    }

    /**
     * Closes both; each may still send what it holds for its grace. An update still pending must not land after we
     * stopped (it is unconfirmed and not remembered for deduplication), so callers give the updates no grace.
     */
    public void close(Duration updatesGrace, Duration noticesGrace) {
        bindings.forEach(Metrics.Binding::close);
        notices.close(noticesGrace);
        updates.close(updatesGrace);
    }
}
