package dev.thoughtstream.bench.micro;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.topic.Topics;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.serialization.Serde;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * {@code JsonSerde} on every event the pipeline moves, through the serdes the topics declare (so exactly what the
 * services run): each record is serialized once by its producer and deserialized once by each consumer, and the
 * chunker's thought carries a context of 100 messages, which makes it the heaviest record of a normal chat.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SerdeBenchmark {
    private static final String TOPIC = "bench";

    private Serde<StoredUpdate> updateSerde;
    private Serde<Thought> thoughtSerde;
    private Serde<ReplyPart> replySerde;
    private Serde<Delivery> deliverySerde;

    StoredUpdate update;
    Thought thought;
    ReplyPart replyPart;
    Delivery delivery;
    byte[] updateBytes;
    byte[] thoughtBytes;
    byte[] replyPartBytes;
    byte[] deliveryBytes;

    @Setup
    public void setUp() {
        Topics topics = Topics.withPrefix("");
        updateSerde = topics.updates().valueSerde();
        thoughtSerde = topics.thoughts().valueSerde();
        replySerde = topics.replies().valueSerde();
        deliverySerde = topics.delivered().valueSerde();
        SplittableRandom random = new SplittableRandom(7);
        long now = 1_760_000_000_000L;
        long chatId = 123_456_789L;
        update = Fixtures.textUpdate(900_001, chatId, 1003, Fixtures.userText(random), now);
        thought = Fixtures.thought(random, chatId, 100, now);
        replyPart = Fixtures.replyPart(random, chatId, now);
        delivery = Fixtures.delivery(random, chatId, now);
        updateBytes = updateSerde.serializer().serialize(TOPIC, update);
        thoughtBytes = thoughtSerde.serializer().serialize(TOPIC, thought);
        replyPartBytes = replySerde.serializer().serialize(TOPIC, replyPart);
        deliveryBytes = deliverySerde.serializer().serialize(TOPIC, delivery);
    }

    @Benchmark
    public byte[] serializeStoredUpdate() {
        return updateSerde.serializer().serialize(TOPIC, update);
    }

    @Benchmark
    public StoredUpdate deserializeStoredUpdate() {
        return updateSerde.deserializer().deserialize(TOPIC, updateBytes);
    }

    @Benchmark
    public byte[] serializeThoughtWith100ContextMessages() {
        return thoughtSerde.serializer().serialize(TOPIC, thought);
    }

    @Benchmark
    public Thought deserializeThoughtWith100ContextMessages() {
        return thoughtSerde.deserializer().deserialize(TOPIC, thoughtBytes);
    }

    @Benchmark
    public byte[] serializeReplyPart() {
        return replySerde.serializer().serialize(TOPIC, replyPart);
    }

    @Benchmark
    public ReplyPart deserializeReplyPart() {
        return replySerde.deserializer().deserialize(TOPIC, replyPartBytes);
    }

    @Benchmark
    public byte[] serializeDelivery() {
        return deliverySerde.serializer().serialize(TOPIC, delivery);
    }

    @Benchmark
    public Delivery deserializeDelivery() {
        return deliverySerde.deserializer().deserialize(TOPIC, deliveryBytes);
    }
}
