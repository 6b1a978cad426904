package dev.thoughtstream.ingest.poll;

import static dev.thoughtstream.ingest.IngestHarness.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ingest.IngestHarness;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.EmbeddedKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.UserMessage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kafka going away under a running ingest. Each test has its own broker in a temporary directory, stopped and
 * started again on the same data directory and port, so the shared test broker is never disturbed.
 */
class IngestKafkaOutageTest {
    private static final String PREFIX = "outage.";

    @TempDir
    Path kafkaDir;

    private final IngestHarness harness = new IngestHarness();
    private final Topics topics = Topics.withPrefix(PREFIX);
    private EmbeddedKafka broker;
    private KafkaSettings kafka;

    @BeforeEach
    void startBroker() {
        broker = EmbeddedKafka.start(kafkaDir, 0);
        kafka = KafkaSettings.from(Config.of(Map.of(
                KafkaSettings.BOOTSTRAP,
                broker.bootstrapServers(),
                "TOPIC_PREFIX",
                PREFIX,
                "TOPIC_PARTITIONS",
                "3",
                // An attempt fails within 2 s instead of the defaults' 10-30 s, so the test sees retries quickly.
                "KAFKA_CLIENT_DELIVERY_TIMEOUT_MS",
                "2000",
                "KAFKA_CLIENT_REQUEST_TIMEOUT_MS",
                "1000",
                "KAFKA_CLIENT_MAX_BLOCK_MS",
                "1000",
                "KAFKA_CLIENT_RECONNECT_BACKOFF_MAX_MS",
                "200")));
    }

    @AfterEach
    void stopEverything() {
        harness.close();
        broker.close();
    }

    @Test
    void givenKafkaIsDown_whenMessagesArrive_thenNothingIsConfirmedUntilKafkaIsBackAndEachIsWrittenExactlyOnce()
            throws Exception {
        // given: a running ingest that has written one update, then the broker stops
        IngestService ingest = harness.startIngest(kafka, harness.redis(TestRedis.uniqueKeyPrefix("outage")));
        UserMessage before = harness.telegram.injectMessage(71, "before the outage");
        Await.until("the first update written", TIMEOUT, () -> ingest.lastWrittenUpdateId() == before.updateId());
        int port = broker.brokerPort();
        broker.close();

        // when: people keep writing (their messages reach ingest as one batch, see holdBackUpdates)
        harness.holdBackUpdates();
        UserMessage a1 = harness.telegram.injectMessage(71, "during the outage 1");
        UserMessage b1 = harness.telegram.injectMessage(72, "during the outage 2");
        UserMessage a2 = harness.telegram.injectMessage(71, "during the outage 3");

        // then: ingest keeps trying, and Telegram keeps every update unconfirmed meanwhile
        Await.until("ingest to fail writing twice", TIMEOUT, () -> ingest.writeRetries() >= 2);
        assertEquals(a1.updateId(), harness.telegram.confirmedOffset(), "nothing after the last write is confirmed");
        assertEquals(3, harness.telegram.pendingUpdates());
        assertEquals(before.updateId(), ingest.lastWrittenUpdateId());
        assertTrue(ingest.isPolling(), "blocked on Kafka, not dead");

        // when: the broker is back on the same data and port
        broker = EmbeddedKafka.start(kafkaDir, port);

        // then: everything is written exactly once, in each chat's order, and only then confirmed
        Await.until("every update confirmed", TIMEOUT, () -> harness.telegram.confirmedOffset() == a2.updateId() + 1);
        List<ConsumerRecord<Long, StoredUpdate>> records =
                TopicReader.readAll(broker.bootstrapServers(), topics.updates(), TIMEOUT);
        Map<Long, Long> counts =
                records.stream().collect(Collectors.groupingBy(r -> r.value().updateId(), Collectors.counting()));
        assertEquals(Map.of(before.updateId(), 1L, a1.updateId(), 1L, b1.updateId(), 1L, a2.updateId(), 1L), counts);
        List<Long> chat71 = new ArrayList<>();
        records.stream()
                .filter(r -> r.key() == 71)
                .forEach(r -> chat71.add(r.value().updateId()));
        assertEquals(List.of(before.updateId(), a1.updateId(), a2.updateId()), chat71);
        assertEquals(4, ingest.updatesWritten());
        assertEquals(0, harness.telegram.pendingUpdates());
    }

    @Test
    void givenKafkaIsDown_whenClosedMidBatch_thenPollingStopsAndTheUnwrittenBatchStaysUnconfirmed() {
        // given: ingest stuck retrying a batch because the broker is gone
        IngestService ingest = harness.startIngest(kafka, harness.redis(TestRedis.uniqueKeyPrefix("outage")));
        broker.close();
        UserMessage m = harness.telegram.injectMessage(81, "never written");
        Await.until("ingest to fail writing", TIMEOUT, () -> ingest.writeRetries() >= 1);
        assertTrue(ingest.isPolling());

        // when
        ingest.close();

        // then: the consumer gave up without letting the poller confirm, and that is not reported as a failure
        assertFalse(ingest.isPolling());
        assertEquals(Optional.empty(), ingest.failure());
        assertEquals(-1, ingest.lastWrittenUpdateId());
        assertEquals(m.updateId(), harness.telegram.confirmedOffset(), "the unwritten update is not confirmed");
        assertEquals(1, harness.telegram.pendingUpdates());
    }
}
