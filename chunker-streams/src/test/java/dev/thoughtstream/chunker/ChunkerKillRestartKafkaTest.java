package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.ContextMessage.Role;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.process.ServiceProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code kill -9} of the chunker's JVM in the middle of a thought, on the real broker: the chunker runs as its own
 * process ({@link ServiceProcess}: {@link Main}, configured by environment variables), is killed with SIGKILL
 * while a thought is open, and a new process with the same application id and the same {@code INSTANCE_ID} takes
 * over, once on the same state directory and once on an empty one (state restored from the changelog topics).
 * Nothing is produced to the chunker's input after the kill: what the new process emits can only come from
 * committed state.
 *
 * <p>The killed member stays in the consumer group until its session times out, and the children ask for a session
 * of {@value #SESSION_TIMEOUT_MS} ms: a restarted process that had to wait for it could not emit the thought within
 * {@link #RECOVERY_BOUND}. Static membership ({@code group.instance.id} from {@code INSTANCE_ID}) lets it take its
 * dead predecessor's place at once.
 */
class ChunkerKillRestartKafkaTest {
    private static final int PARTITIONS = 3;
    /**
     * Long enough that a message is processed and committed, and the JVM killed, well before its thought is due;
     * short enough to keep the test quick.
     */
    private static final long GAP_MS = 2000;

    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final int SESSION_TIMEOUT_MS = 60_000;
    /**
     * From starting the new JVM to its emitting the open thought: the JVM's start-up, restoring state (an empty state
     * directory also waits for the dead process's open transaction to time out, 10 s in Kafka Streams), and slack
     * for a loaded machine; far below the session timeout all the same.
     */
    private static final Duration RECOVERY_BOUND = Duration.ofSeconds(30);

    private static final String INSTANCE_ID = "chunker-a";
    private static final Map<String, String> LONG_SESSION = Map.of(
            "KAFKA_CLIENT_SESSION_TIMEOUT_MS",
            Integer.toString(SESSION_TIMEOUT_MS),
            "KAFKA_CLIENT_HEARTBEAT_INTERVAL_MS",
            "1000");
    private static final Logger LOG = LoggerFactory.getLogger(ChunkerKillRestartKafkaTest.class);

    @TempDir
    Path workDir;

    @TempDir
    Path stateDir;

    private String testName;
    private String prefix;
    private String applicationId;
    private Topics topics;
    private Admin admin;
    private ChunkerInput input;
    private TopicReader<Long, Thought> thoughts;
    private final List<AutoCloseable> resources = new ArrayList<>();

    @BeforeEach
    void createTopicsAndClients(TestInfo test) {
        testName = test.getTestMethod().orElseThrow().getName();
        prefix = TestKafka.uniquePrefix("chunker-kill");
        applicationId = prefix.substring(0, prefix.length() - 1) + "-chunker";
        topics = TestKafka.createTopics(prefix, PARTITIONS);
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()));
        resources.add(admin);
        input = new ChunkerInput(topics, PARTITIONS);
        resources.add(input);
        thoughts = new TopicReader<>(topics.thoughts(), TIMEOUT);
        resources.add(thoughts);
    }

    @AfterEach
    void closeEverything() throws Exception {
        // Child processes first (added last): they hold the state directories, which @TempDir deletes afterwards.
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    @Test
    void theSessionTimeoutPassedThroughTheEnvironmentReachesTheStreamsMainConsumer() {
        // given the session timeout in KAFKA_CLIENT_*
        // when the streams settings are built
        // then each stream thread's main consumer gets it
        Config config = TestKafka.config(prefix, PARTITIONS).with(LONG_SESSION);

        Map<String, Object> consumer = new StreamsConfig(
                        ChunkerTopology.streamsProperties(ChunkerConfig.from(config), KafkaSettings.from(config)))
                .getMainConsumerConfigs("g", "c", 0);

        assertEquals("60000", String.valueOf(consumer.get(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG)));
        assertEquals("1000", String.valueOf(consumer.get(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG)));
    }

    @Test
    void aThoughtOpenWhenTheJvmIsKilledIsEmittedOnceWithItsContextByTheNextJvmOnTheSameStateDirectory()
            throws Exception {
        killMidThoughtAndRestart(stateDir);
    }

    @Test
    void aThoughtOpenWhenTheJvmIsKilledIsEmittedOnceWithItsContextByTheNextJvmRestoringFromTheChangelog(
            @TempDir Path emptyStateDir) throws Exception {
        killMidThoughtAndRestart(emptyStateDir);
    }

    private void killMidThoughtAndRestart(Path secondStateDir) throws Exception {
        long chat = 7007;
        // given a chunker JVM that is running: its first thought for the chat is out
        ServiceProcess first = startChunker(stateDir, "first");
        input.sendTogether(List.of(input.text(chat, 11, "remember the blue house")));
        Thought earlier = awaitThought(chat, 11, first);
        assertEquals(List.of(), earlier.context());

        // and the emitter has reported the reply to it as sent, and the chunker has committed that
        long sentAt = System.currentTimeMillis();
        RecordMetadata delivered = single(input.sendTogether(List.of(input.delivery(new Delivery(
                Delivery.SCHEMA_VERSION,
                "r:" + earlier.thoughtId(),
                earlier.thoughtId(),
                chat,
                0,
                Delivery.Outcome.SENT,
                9001L,
                "noted: the blue house",
                null,
                sentAt)))));
        awaitCommittedPast(delivered, first);

        // and a message that opens the next thought has been processed and committed, the thought still open
        RecordMetadata opening = single(input.sendTogether(List.of(input.text(chat, 12, "so, about that house"))));
        awaitCommittedPast(opening, first);

        // when the JVM is killed with SIGKILL before the gap has passed
        int status = first.kill(TIMEOUT);

        // (it really was kill -9: no shutdown hook ran, so nothing was closed, flushed or committed on the way out)
        assertEquals(ServiceProcess.EXIT_KILLED, status, first.describe());
        assertFalse(first.output().contains("closing chunker"), first.describe());
        assertTrue(
                thoughts.readToEnd(TIMEOUT).stream().noneMatch(isThought(chat, 12)),
                "precondition: the thought must still be open when the JVM dies (a very slow machine?)");

        // and a new JVM with the same application id and instance id starts, while nothing more reaches its input
        long restartedAt = System.nanoTime();
        ServiceProcess second = startChunker(secondStateDir, "second");

        // then the open thought is emitted, with its message, long before the dead member's session would expire
        Thought thought = awaitThought(chat, 12, second, RECOVERY_BOUND);
        LOG.info(
                "{}: the restarted chunker emitted the open thought {} ms after its JVM was started",
                testName,
                (System.nanoTime() - restartedAt) / 1_000_000);
        assertEquals(
                List.of("so, about that house"),
                thought.messages().stream().map(ThoughtMessage::text).toList());
        // and with the context from before the kill: the earlier thought's message and the sent reply
        assertEquals(
                List.of(
                        new ContextMessage(
                                Role.USER,
                                "remember the blue house",
                                earlier.messages().get(0).sentAtMs()),
                        new ContextMessage(Role.ASSISTANT, "noted: the blue house", sentAt)),
                thought.context());
        // and each thought of the chat exists exactly once
        assertNoMoreThoughtsFor(chat, 2, second);
    }

    // --- helpers ---------------------------------------------------------------------------------------------

    private ServiceProcess startChunker(Path dir, String name) {
        Map<String, String> env = new HashMap<>(LONG_SESSION);
        env.put(KafkaSettings.BOOTSTRAP, TestKafka.bootstrapServers());
        env.put("TOPIC_PREFIX", prefix);
        env.put("TOPIC_PARTITIONS", Integer.toString(PARTITIONS));
        env.put(ChunkerConfig.CHUNKER_APPLICATION_ID, applicationId);
        env.put(ChunkerConfig.STREAMS_STATE_DIR, dir.toString());
        env.put(ChunkerConfig.CHUNK_GAP_MS, Long.toString(GAP_MS));
        env.put(KafkaSettings.INSTANCE_ID, INSTANCE_ID);
        ServiceProcess process = ServiceProcess.start(
                Main.class, env, workDir, getClass().getSimpleName() + "-" + testName + "-" + name + ".log");
        resources.add(process);
        return process;
    }

    private Thought awaitThought(long chat, long firstMessageId, ServiceProcess process) {
        return awaitThought(chat, firstMessageId, process, TIMEOUT);
    }

    private Thought awaitThought(long chat, long firstMessageId, ServiceProcess process, Duration timeout) {
        try {
            return single(thoughts.awaitMatching(
                            "thought " + Thought.idFor(chat, firstMessageId),
                            1,
                            isThought(chat, firstMessageId),
                            timeout))
                    .value();
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + process.describe(), e);
        }
    }

    /**
     * Proves that {@code chat} has exactly {@code expected} thoughts without waiting an arbitrary time: a sentinel
     * chat on the same partition sends a message, and its thought is awaited. It is closed by the same task, by a
     * later punctuation, and lands after the chat's thoughts in the same partition, which the reader reads in
     * offset order; so any repeat written before it has been read by then.
     */
    private void assertNoMoreThoughtsFor(long chat, int expected, ServiceProcess process) {
        long sentinel = input.chatOnSamePartitionAs(chat);
        RecordMetadata sent = single(input.sendTogether(List.of(input.text(sentinel, 1, "sentinel"))));
        assertEquals(input.partitionOf(chat), sent.partition(), "the sentinel shares the chat's partition");
        awaitThought(sentinel, 1, process);
        List<ConsumerRecord<Long, Thought>> ofChat = thoughts.seen(r -> Objects.equals(r.key(), chat));
        assertEquals(expected, ofChat.size(), "thoughts of chat " + chat + ": " + ofChat);
        assertEquals(
                expected,
                ofChat.stream().map(r -> r.value().thoughtId()).distinct().count(),
                "a thought was emitted twice: " + ofChat);
    }

    /** Waits until the chunker's committed input offset is past {@code record}: processed, state committed. */
    private void awaitCommittedPast(RecordMetadata record, ServiceProcess process) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        try {
            Await.until("the chunker to commit past " + partition + "@" + record.offset(), TIMEOUT, () -> {
                OffsetAndMetadata committed = committedOffsets().get(partition);
                return committed != null && committed.offset() > record.offset();
            });
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + process.describe(), e);
        }
    }

    private Map<TopicPartition, OffsetAndMetadata> committedOffsets() {
        try {
            return admin.listConsumerGroupOffsets(applicationId)
                    .partitionsToOffsetAndMetadata()
                    .get(10, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("cannot read the committed offsets of " + applicationId, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while reading committed offsets", e);
        }
    }

    private static Predicate<ConsumerRecord<Long, Thought>> isThought(long chat, long firstMessageId) {
        return r -> Objects.equals(r.key(), chat) && r.value().thoughtId().equals(Thought.idFor(chat, firstMessageId));
    }

    private static <T> T single(List<T> items) {
        assertEquals(1, items.size(), "expected exactly one but got " + items);
        return items.get(0);
    }
}
