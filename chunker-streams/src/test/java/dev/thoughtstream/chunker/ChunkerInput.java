package dev.thoughtstream.chunker;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.testkit.kafka.TestKafka;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.utils.Utils;

/**
 * What ingest and the emitter write to the chunker's input topics, written to the real test broker. Records sent
 * together share one batch (a little linger), so messages meant to form one thought reach the chunker in one fetch,
 * well within the gap however busy the machine is.
 */
final class ChunkerInput implements AutoCloseable {
    private final Topics topics;
    private final int partitions;
    private final KafkaProducer<byte[], byte[]> producer;

    ChunkerInput(Topics topics, int partitions) {
        this.topics = topics;
        this.partitions = partitions;
        Properties p = TestKafka.producerProps();
        p.put(ProducerConfig.LINGER_MS_CONFIG, "20");
        this.producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** Sends the records without waiting in between (so they share a batch), then waits for every ack. */
    List<RecordMetadata> sendTogether(List<ProducerRecord<byte[], byte[]>> records) {
        List<Future<RecordMetadata>> acks = records.stream().map(producer::send).toList();
        producer.flush();
        List<RecordMetadata> metadata = new ArrayList<>();
        for (Future<RecordMetadata> ack : acks) {
            try {
                metadata.add(ack.get(30, TimeUnit.SECONDS));
            } catch (ExecutionException | TimeoutException e) {
                throw new AssertionError("cannot produce to the test broker", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError("interrupted while producing", e);
            }
        }
        return metadata;
    }

    /** A text message as ingest stores it: the raw Telegram update, sent now. */
    ProducerRecord<byte[], byte[]> text(long chat, long messageId, String text) {
        long sentAtMs = System.currentTimeMillis() / 1000 * 1000;
        return record(topics.updates(), chat, ChunkerHarness.textUpdate(messageId, chat, messageId, text, sentAtMs));
    }

    ProducerRecord<byte[], byte[]> delivery(Delivery delivery) {
        return record(topics.delivered(), delivery.chatId(), delivery);
    }

    static <V> ProducerRecord<byte[], byte[]> record(Topic<Long, V> topic, long key, V value) {
        return new ProducerRecord<>(
                topic.name(),
                topic.keySerde().serializer().serialize(topic.name(), key),
                topic.valueSerde().serializer().serialize(topic.name(), value));
    }

    /** The partition the default partitioner gives a chat id key, on every chat-keyed topic of the test. */
    int partitionOf(long chat) {
        return Utils.toPositive(Utils.murmur2(new LongSerializer().serialize("", chat))) % partitions;
    }

    /** The next chat id after {@code chat} that lands on the same partition (a sentinel in the same task). */
    long chatOnSamePartitionAs(long chat) {
        long candidate = chat + 1;
        while (partitionOf(candidate) != partitionOf(chat)) {
            candidate++;
        }
        return candidate;
    }

    @Override
    public void close() {
        producer.close();
    }
}
