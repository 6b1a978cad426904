package dev.thoughtstream.ingest.poll;

import static dev.thoughtstream.ingest.IngestHarness.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ingest.IngestHarness;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.Fault;
import dev.thoughtstream.testkit.telegram.UserMessage;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Long polling through Telegram's front end answering with nginx's HTML error pages instead of the Bot API's JSON:
 * a transient failure like any 5xx, polled through with backoff, and nothing lost.
 */
class IngestGatewayPagesTest {
    private final IngestHarness harness = new IngestHarness();

    @AfterEach
    void closeEverything() {
        harness.close();
    }

    @Test
    void givenGetUpdatesAnsweredByNginxErrorPages_whenPolling_thenItRecoversAndTheUpdateLandsOnce() {
        // given Telegram's front end answers the first getUpdates calls with nginx's 502 and 504 pages
        String prefix = TestKafka.uniquePrefix("gateway-pages");
        Topics topics = IngestHarness.createTopics(prefix);
        KafkaSettings kafka = TestKafka.settings(prefix);
        harness.telegram.addFault(Fault.nginx("getUpdates", 502, 2));
        harness.telegram.addFault(Fault.nginx("getUpdates", 504, 1));
        IngestService ingest = harness.startIngest(kafka, harness.redis(TestRedis.uniqueKeyPrefix(prefix)));

        // when a person writes
        UserMessage m = harness.telegram.injectMessage(61, "through the gateway");

        // then the pages were polled through, polling goes on, and the update was written exactly once
        Await.until("the update written", TIMEOUT, () -> ingest.lastWrittenUpdateId() == m.updateId());
        assertEquals(2, harness.getUpdatesAnswered(502));
        assertEquals(1, harness.getUpdatesAnswered(504));
        assertTrue(ingest.isPolling(), "still polling after the pages");
        assertEquals(Optional.empty(), ingest.failure());
        Map<Long, Long> written = TopicReader.readAll(TestKafka.bootstrapServers(), topics.updates(), TIMEOUT).stream()
                .collect(Collectors.groupingBy(r -> r.value().updateId(), Collectors.counting()));
        assertEquals(Map.of(m.updateId(), 1L), written);
    }
}
