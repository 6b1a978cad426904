package dev.thoughtstream.ingest.poll;

import static dev.thoughtstream.ingest.IngestHarness.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ingest.IngestHarness;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.UserMessage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * Telegram restarting its update ids lower after a long idle (Bot API docs, getUpdates), against the emulator, which
 * answers the poller's old offset from the head of its queue as the Bot API server does: ingest notices, counts it and
 * polls on, losing and repeating nothing.
 */
class IngestUpdateIdRestartTest {
    private final IngestHarness harness = new IngestHarness();
    private Topics topics;
    private KafkaSettings kafka;
    private String prefix;

    @BeforeEach
    void createTopics(TestInfo test) {
        prefix = TestKafka.uniquePrefix(test.getTestMethod().orElseThrow().getName());
        topics = IngestHarness.createTopics(prefix);
        kafka = TestKafka.settings(prefix);
    }

    @AfterEach
    void closeEverything() {
        harness.close();
    }

    @Test
    void
            givenTelegramRestartsUpdateIdsLower_whenMessagesArriveBeforeAndAfter_thenEachIsWrittenOnceInOrderAndTheRestartIsCounted()
                    throws IOException {
        // given: a bot that has been running a while (ids in the 500s) and an ingest that wrote three messages
        harness.telegram.restartUpdateIds(500);
        IngestService ingest = harness.startIngest(kafka, harness.redis(TestRedis.uniqueKeyPrefix(prefix)));
        List<String> texts =
                List.of("before one", "before two", "before three", "after one", "after two", "after three");
        List<UserMessage> sent = new ArrayList<>();
        for (String text : texts.subList(0, 3)) {
            sent.add(harness.telegram.injectMessage(71, text));
        }
        long lastBefore = sent.get(2).updateId();
        Await.until("the first three confirmed", TIMEOUT, () -> harness.telegram.confirmedOffset() == lastBefore + 1);

        // when: after a (simulated) week without updates Telegram restarts its ids at 1, and three more arrive while
        // ingest still asks for the old offset
        harness.telegram.restartUpdateIds(1);
        for (String text : texts.subList(3, 6)) {
            sent.add(harness.telegram.injectMessage(71, text));
        }

        // then: the new updates are written and confirmed, and the restart is counted once and logged with both ids
        long lastAfter = sent.get(5).updateId();
        assertEquals(3, lastAfter);
        Await.until(
                "the three after the restart confirmed",
                TIMEOUT,
                () -> harness.telegram.confirmedOffset() == lastAfter + 1);
        assertEquals(1, ingest.updateIdRestarts());
        assertEquals(6, ingest.updatesWritten());
        assertEquals(0, ingest.duplicatesSkipped());
        assertTrue(IngestServiceTest.testLog()
                .contains("Telegram restarted its update ids: update 1 arrived after update " + lastBefore));

        // and the topic holds all six exactly once, in the order they were sent, each with Telegram's raw JSON
        List<ConsumerRecord<Long, StoredUpdate>> records =
                TopicReader.readAll(TestKafka.bootstrapServers(), topics.updates(), TIMEOUT);
        assertEquals(
                sent.stream().map(UserMessage::updateId).toList(),
                records.stream().map(r -> r.value().updateId()).toList());
        for (int i = 0; i < sent.size(); i++) {
            StoredUpdate stored = records.get(i).value();
            assertEquals(
                    sent.get(i).updateId(), stored.update().path("update_id").asLong());
            assertEquals(texts.get(i), stored.update().at("/message/text").asText(), "update " + i);
        }

        // and polling goes on: a later message is written too, without another restart
        UserMessage later = harness.telegram.injectMessage(71, "later");
        Await.until("the later one confirmed", TIMEOUT, () -> harness.telegram.confirmedOffset() == 5);
        assertEquals(4, later.updateId());
        assertEquals(1, ingest.updateIdRestarts());
        assertTrue(ingest.isPolling());
    }

    @Test
    void givenARestartWhileTheLastBatchAwaitsConfirmation_whenClosed_thenTheShutdownConfirmsTheNewIds() {
        // given: ingest wrote updates in the 500s, then Telegram restarted its ids and ingest wrote the new ones
        harness.telegram.restartUpdateIds(500);
        IngestService ingest = harness.startIngest(kafka, harness.redis(TestRedis.uniqueKeyPrefix(prefix)));
        UserMessage before = harness.telegram.injectMessage(72, "before");
        Await.until("before confirmed", TIMEOUT, () -> harness.telegram.confirmedOffset() == before.updateId() + 1);
        harness.awaitLongPoll();
        harness.telegram.restartUpdateIds(1);
        // and every later getUpdates fails, so only the shutdown can confirm the new update
        harness.telegram.addFault("getUpdates", 500, 1_000_000);
        UserMessage after = harness.telegram.injectMessage(72, "after");
        Await.until("after written", TIMEOUT, () -> ingest.updatesWritten() == 2);
        Await.until("its confirmation to fail", TIMEOUT, () -> harness.getUpdatesAnswered(500) >= 1);
        harness.telegram.clearFaults();

        // when
        ingest.close();

        // then: the shutdown confirmed the new id, not the highest id ever written
        assertEquals(after.updateId() + 1, harness.telegram.confirmedOffset());
        assertEquals(0, harness.telegram.pendingUpdates());
        assertFalse(ingest.isPolling());
        assertEquals(1, ingest.updateIdRestarts());
    }
}
