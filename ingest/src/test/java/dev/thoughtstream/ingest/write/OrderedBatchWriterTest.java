package dev.thoughtstream.ingest.write;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thoughtstream.common.retry.Backoff;
import dev.thoughtstream.testkit.Await;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A chat's order when Kafka refuses part of a batch, on Kafka's {@link MockProducer}: the test acknowledges or fails
 * each record itself, in the order the writer sent them, and sees what landed on the topic and in which order.
 */
class OrderedBatchWriterTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String TOPIC = "tg.updates";
    private static final long ADA = 1;
    private static final long BOB = 2;

    private final HeldProducer producer = new HeldProducer();
    private final OrderedBatchWriter<String> writer = new OrderedBatchWriter<>(
            producer,
            new SendNow(producer, "test"),
            TOPIC,
            Backoff.exponential(Duration.ofMillis(1), Duration.ofMillis(1)));
    /** The records Kafka acknowledged, in the order it did. */
    private final List<String> landed = new ArrayList<>();
    /** How many of the records sent so far the test has answered. */
    private int answered;

    /** A producer whose acknowledgements come from the test alone. */
    private static final class HeldProducer extends MockProducer<Long, String> {
        HeldProducer() {
            super(false, null, new LongSerializer(), new StringSerializer());
        }

        /** The writer asks for a flush after every wave; MockProducer's would acknowledge everything at once. */
        @Override
        public synchronized void flush() {
            // Acknowledgements come from the test.
        }
    }

    @AfterEach
    void close() {
        writer.close();
        producer.close();
    }

    private static ProducerRecord<Long, String> record(long chat, String value) {
        return new ProducerRecord<>(TOPIC, chat, value);
    }

    private CompletableFuture<WriteOutcome> writeInBackground(List<ProducerRecord<Long, String>> batch) {
        return CompletableFuture.supplyAsync(() -> writer.write(batch, OrderedBatchWriter.NO_DEADLINE, null));
    }

    /** Waits for the writer to send its next record, and acknowledges it. */
    private String acknowledgeNext() {
        String record = awaitNextSent();
        producer.completeNext();
        landed.add(record);
        return record;
    }

    /** Waits for the writer to send its next record, and fails it as a broker that timed out would. */
    private String failNext() {
        String record = awaitNextSent();
        producer.errorNext(new TimeoutException("the broker did not answer in time"));
        return record;
    }

    private String awaitNextSent() {
        int index = answered++;
        Await.until(
                "the writer to send record " + (index + 1),
                TIMEOUT,
                () -> producer.history().size() > index);
        return producer.history().get(index).value();
    }

    @Test
    void givenAChatsFirstRecordFailsWhileAnotherChatsIsAcknowledged_whenRetried_thenEachChatKeepsItsOrder()
            throws Exception {
        // given: two chats' records interleaved in one batch
        CompletableFuture<WriteOutcome> write = writeInBackground(List.of(
                record(ADA, "ada-1"),
                record(BOB, "bob-1"),
                record(ADA, "ada-2"),
                record(BOB, "bob-2"),
                record(ADA, "ada-3")));

        // when: Kafka refuses Ada's first record and takes Bob's, then takes everything sent after that
        assertEquals("ada-1", failNext());
        assertEquals("bob-1", acknowledgeNext());
        List<String> sentAfter = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            sentAfter.add(acknowledgeNext());
        }

        // then: Ada's later records waited for her first one, so each chat landed in its order, and nothing that
        // was acknowledged was sent again
        assertEquals(WriteOutcome.WRITTEN, write.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(List.of("bob-2", "ada-1", "ada-2", "ada-3"), sentAfter);
        assertEquals(
                List.of("ada-1", "ada-2", "ada-3"),
                landed.stream().filter(r -> r.startsWith("ada")).toList());
        assertEquals(
                List.of("bob-1", "bob-2"),
                landed.stream().filter(r -> r.startsWith("bob")).toList());
        assertEquals(6, producer.history().size(), "five records, one of them sent twice");
        assertEquals(1, writer.retries());
    }

    @Test
    void givenAChatsMiddleRecordFails_whenRetried_thenTheRecordsBeforeItAreNotSentAgainAndTheRestFollowInOrder()
            throws Exception {
        // given: one chat's three records
        CompletableFuture<WriteOutcome> write =
                writeInBackground(List.of(record(ADA, "ada-1"), record(ADA, "ada-2"), record(ADA, "ada-3")));

        // when: Kafka takes the first, refuses the second, then takes the rest
        assertEquals("ada-1", acknowledgeNext());
        assertEquals("ada-2", failNext());
        assertEquals("ada-2", acknowledgeNext());
        assertEquals("ada-3", acknowledgeNext());

        // then: the third was not sent before the second was in, and the first only once
        assertEquals(WriteOutcome.WRITTEN, write.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        assertEquals(List.of("ada-1", "ada-2", "ada-3"), landed);
        assertEquals(
                List.of("ada-1", "ada-2", "ada-2", "ada-3"),
                producer.history().stream().map(ProducerRecord::value).toList());
    }
}
