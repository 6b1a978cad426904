package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.chunker.thought.BotReplies;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.kafka.DeadLetters;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.serialization.LongSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chunker as production runs it ({@link ChunkerService} built from {@link ChunkerConfig#from}, exactly-once,
 * RocksDB stores) against the real test broker, on topics with {@value #PARTITIONS} partitions. Each test has its
 * own topic prefix, application id and state directory. What is read back is what llm-processor would read: the
 * thoughts topic through a read_committed consumer.
 *
 * <p>A thought is emitted roughly gap + punctuation interval + commit interval after its last message; the
 * timeouts are generous multiples of that, because the machines are shared and noisy.
 */
class ChunkerServiceKafkaTest {
    private static final int PARTITIONS = 3;
    /** Short, so the suite stays fast; every test sends the messages of one thought in one producer batch. */
    private static final long GAP_MS = 400;

    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path stateDir;

    private String prefix;
    private String applicationId;
    private Topics topics;
    private Admin admin;
    private ChunkerInput input;
    private TopicReader<Long, Thought> thoughts;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final List<ChunkerService> services = new ArrayList<>();

    @BeforeEach
    void createTopicsAndClients(TestInfo test) {
        String name = test.getTestMethod().orElseThrow().getName();
        prefix = TestKafka.uniquePrefix("chunker-" + name);
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
        // Services first: they hold the state directory, which @TempDir deletes after this method.
        for (ChunkerService service : services) {
            service.close();
        }
        for (AutoCloseable resource : resources) {
            resource.close();
        }
    }

    // --- wall-clock emission ---------------------------------------------------------------------------------

    @Test
    void aThoughtIsEmittedOnceByTheWallClockWhileNoPartitionReceivesAnythingMore() {
        // given a running chunker
        ChunkerService chunker = startChunker(stateDir, GAP_MS);
        long chat = 1001;

        // when a chat sends two messages within the gap, and then nothing arrives on any partition of any topic
        List<RecordMetadata> sent =
                input.sendTogether(List.of(input.text(chat, 11, "hello"), input.text(chat, 12, "are you there?")));

        // then a read_committed consumer receives one thought with both messages, although stream time on that
        // partition never moves past the second message: only wall-clock punctuation can have closed it
        Thought thought = awaitOnlyThought(chat, "thought of chat " + chat);
        assertEquals(chat + ":11", thought.thoughtId());
        assertEquals(List.of("hello", "are you there?"), texts(thought.messages()));
        assertEquals(11, thought.firstMessageId());
        assertEquals(12, thought.lastMessageId());
        assertEquals(List.of(), thought.context());
        assertTrue(
                thought.closedAtMs() - thought.openedAtMs() >= GAP_MS,
                "held open for at least the gap, but opened " + thought.openedAtMs() + " closed "
                        + thought.closedAtMs());
        assertEquals(
                sent.get(0).partition(),
                thoughts.seen(forChat(chat)).get(0).partition(),
                "a thought goes to its chat's partition");

        // and it is not emitted again
        assertStillExactlyOneThought(chat);
        assertEquals(0, chunker.deadLetters().total());
    }

    @Test
    void aThoughtWrittenWhileTheInputIsLightIsCommittedAtOnceRatherThanAtTheCommitInterval() {
        // given a chunker with early commits on, whose regular commit comes only every 10 s (the longest allowed)
        Config config = TestKafka.config(prefix, PARTITIONS)
                .with(Map.of(
                        ChunkerConfig.CHUNKER_APPLICATION_ID,
                        applicationId,
                        ChunkerConfig.STREAMS_STATE_DIR,
                        stateDir.toString(),
                        ChunkerConfig.CHUNK_GAP_MS,
                        Long.toString(GAP_MS),
                        ChunkerConfig.STREAMS_COMMIT_INTERVAL_MS,
                        "10000",
                        ChunkerConfig.CHUNK_EARLY_COMMIT_BELOW_PER_S,
                        "300"));
        Metrics metrics = new Metrics();
        ChunkerService chunker =
                new ChunkerService(ChunkerConfig.from(config), KafkaSettings.from(config), Clock.systemUTC(), metrics);
        services.add(chunker);
        chunker.start();
        long chat = 1002;

        // when a quiet chat sends one message
        input.sendTogether(List.of(input.text(chat, 11, "anyone?")));

        // then the chunker asked for a commit as soon as it wrote the thought, and a read_committed consumer had it
        // far sooner than the regular commit would have shown it (on average 5 s after the close, up to 10 s)
        Thought thought = awaitOnlyThought(chat, "thought of chat " + chat);
        long visibleAfterCloseMs = System.currentTimeMillis() - thought.closedAtMs();
        assertTrue(
                metrics.scrape().contains("thoughtstream_chunker_early_commits_total 1.0\n"),
                "one early commit: " + metrics.scrape());
        assertTrue(
                visibleAfterCloseMs < 5_000,
                "visible " + visibleAfterCloseMs + " ms after the close, as late as the regular commit");
    }

    // --- dead letters under exactly-once ---------------------------------------------------------------------

    @Test
    void unreadableBytesUnderExactlyOnceAreDeadLetteredInACommittedTransactionAndTheChatCarriesOn() {
        // given a running chunker (exactly_once_v2, as in production)
        ChunkerService chunker = startChunker(stateDir, GAP_MS);
        long chat = 2002;
        byte[] key = new LongSerializer().serialize(topics.updates().name(), chat);
        byte[] garbage = "{not json at all".getBytes(StandardCharsets.UTF_8);
        long sentFrom = System.currentTimeMillis();

        // when a valid message, bytes that are not JSON, and another valid message arrive for one chat
        List<RecordMetadata> sent = input.sendTogether(List.of(
                input.text(chat, 21, "before"),
                new ProducerRecord<>(topics.updates().name(), key, garbage),
                input.text(chat, 22, "after")));
        RecordMetadata bad = sent.get(1);

        // then a read_committed consumer of the dead-letter topic sees the unreadable record, bytes untouched
        try (TopicReader<byte[], byte[]> deadLetters = new TopicReader<>(topics.deadLetters(), TIMEOUT)) {
            ConsumerRecord<byte[], byte[]> dead =
                    single(deadLetters.awaitMatching("a dead letter", 1, r -> true, TIMEOUT));
            long readBy = System.currentTimeMillis();
            assertArrayEquals(key, dead.key());
            assertArrayEquals(garbage, dead.value());

            // with the project's headers naming its origin
            Headers headers = dead.headers();
            String updates = topics.updates().name();
            assertTrue(
                    header(headers, DeadLetters.REASON).contains("cannot read StoredUpdate"),
                    header(headers, DeadLetters.REASON));
            assertEquals(updates, header(headers, DeadLetters.SOURCE_TOPIC));
            assertEquals(Integer.toString(bad.partition()), header(headers, DeadLetters.SOURCE_PARTITION));
            assertEquals(Long.toString(bad.offset()), header(headers, DeadLetters.SOURCE_OFFSET));
            assertEquals("chunker-streams", header(headers, DeadLetters.SERVICE));
            long at = Long.parseLong(header(headers, DeadLetters.AT));
            assertTrue(at >= sentFrom && at <= readBy, "dlq.at " + at + " not in [" + sentFrom + ", " + readBy + "]");
            // and Kafka Streams' own
            assertEquals(
                    "org.apache.kafka.common.errors.SerializationException",
                    header(headers, "__streams.errors.exception"));
            assertEquals(updates, header(headers, "__streams.errors.topic"));
            assertEquals(Integer.toString(bad.partition()), header(headers, "__streams.errors.partition"));
            assertEquals(Long.toString(bad.offset()), header(headers, "__streams.errors.offset"));

            // and the messages around it still make their thought
            Thought thought = awaitOnlyThought(chat, "thought of chat " + chat);
            assertEquals(List.of("before", "after"), texts(thought.messages()));

            // and the dead letter was written once, inside a transaction that committed: a transaction's commit
            // marker takes the offset after its last record, so the stable end is two past the dead letter
            assertEquals(1, deadLetters.readToEnd(TIMEOUT).size(), "exactly one dead letter");
            TopicPartition deadPartition = new TopicPartition(dead.topic(), dead.partition());
            assertEquals(
                    dead.offset() + 2,
                    deadLetters.endOffsets().get(deadPartition),
                    "a commit marker follows the dead letter");
        }
        assertEquals(1, chunker.deadLetters().count(topics.updates().name()));
        assertEquals(1, chunker.deadLetters().total());
    }

    // --- context from the delivered topic --------------------------------------------------------------------

    @Test
    void aSentReplyIsInTheNextThoughtsContextAndAStaleOneIsNot() {
        // given a running chunker and a chat whose first thought has been emitted
        startChunker(stateDir, GAP_MS);
        long chat = 3003;
        input.sendTogether(List.of(input.text(chat, 31, "hello bot")));
        Thought first = awaitOnlyThought(chat, "first thought of chat " + chat);
        assertEquals(List.of(), first.context());

        // when the emitter reports one reply part sent and a later one dropped as stale
        long now = System.currentTimeMillis();
        String replyId = "r:" + first.thoughtId();
        List<RecordMetadata> reported = input.sendTogether(List.of(
                input.delivery(new Delivery(
                        Delivery.SCHEMA_VERSION,
                        replyId,
                        first.thoughtId(),
                        chat,
                        0,
                        Delivery.Outcome.SENT,
                        9001L,
                        "hello human",
                        null,
                        now)),
                input.delivery(new Delivery(
                        Delivery.SCHEMA_VERSION,
                        replyId,
                        first.thoughtId(),
                        chat,
                        1,
                        Delivery.Outcome.DROPPED_STALE,
                        null,
                        "words nobody read",
                        "a newer message",
                        now))));
        // (the deliveries and the next update are on different topics; wait until the chunker has consumed the
        // deliveries so that the next message is certainly processed after them)
        awaitConsumedByChunker(reported.get(reported.size() - 1));
        // and the person writes again
        input.sendTogether(List.of(input.text(chat, 32, "how are you?")));

        // then the next thought carries the conversation so far: the person's message and the sent reply only
        List<ConsumerRecord<Long, Thought>> both =
                thoughts.awaitMatching("second thought of chat " + chat, 2, forChat(chat), TIMEOUT);
        Thought second = both.get(1).value();
        assertEquals(chat + ":32", second.thoughtId());
        assertEquals(
                List.of(
                        new ContextMessage(
                                ContextMessage.Role.USER,
                                "hello bot",
                                first.messages().get(0).sentAtMs()),
                        new ContextMessage(ContextMessage.Role.ASSISTANT, "hello human", now)),
                second.context());
    }

    // --- answers without the model --------------------------------------------------------------------------

    @Test
    void aCommandIsAnsweredOnTheRepliesTopicInACommittedTransactionWhileTheOpenThoughtGoesOnToTheThoughtsTopic() {
        // given a running chunker
        startChunker(stateDir, GAP_MS);
        long chat = 5005;

        // when a chat sends a message and then /help, together
        input.sendTogether(List.of(input.text(chat, 51, "hi there"), input.text(chat, 52, "/help")));

        // then a read_committed consumer of the replies topic sees the help text as one final part
        try (TopicReader<Long, ReplyPart> replies = new TopicReader<>(topics.replies(), TIMEOUT)) {
            ReplyPart help = single(
                            replies.awaitMatching("the help reply", 1, r -> Objects.equals(r.key(), chat), TIMEOUT))
                    .value();
            assertEquals("r:" + chat + ":52:help", help.replyId());
            assertEquals(BotReplies.DEFAULT_HELP, help.text());
            assertEquals(52, help.lastMessageId());
            assertTrue(help.last());
        }
        // and the message before it is a thought of its own, without the command
        Thought thought = awaitOnlyThought(chat, "thought of chat " + chat);
        assertEquals(List.of("hi there"), texts(thought.messages()));
    }

    // --- restart mid-thought ---------------------------------------------------------------------------------

    @Test
    void aThoughtOpenAtACleanShutdownIsEmittedOnceAfterARestartOnTheSameStateDirectory() {
        restartMidThought(stateDir, stateDir);
    }

    @Test
    void aThoughtOpenAtACleanShutdownIsEmittedOnceAfterARestartOnAnEmptyStateDirectoryFromTheChangelog(
            @TempDir Path emptyStateDir) {
        restartMidThought(stateDir, emptyStateDir);
    }

    /**
     * The gap here is longer than elsewhere: the test needs the thought still open when the first instance has
     * stopped, i.e. the message processed and committed, and the instance closed, all within the gap. A restart
     * takes longer than the gap anyway, so the longer gap costs little time.
     */
    private void restartMidThought(Path firstStateDir, Path secondStateDir) {
        long gapMs = 2000;
        long chat = 4004;
        // given a chunker that has processed and committed a message whose thought is still open
        ChunkerService first = startChunker(firstStateDir, gapMs);
        RecordMetadata message = single(input.sendTogether(List.of(input.text(chat, 41, "wait for it"))));
        awaitConsumedByChunker(message);

        // when it is closed cleanly before the gap has passed
        first.close();
        // (it has left its consumer group, so the next instance need not wait for its session to expire)
        assertEquals(List.of(), groupMembers(), "members of " + applicationId + " after a clean close");
        assertTrue(
                thoughts.readToEnd(TIMEOUT).stream().noneMatch(forChat(chat)),
                "precondition: the thought must still be open when the chunker has stopped (a very slow machine?)");

        // and a new instance with the same application id starts, and nothing more is produced
        // (its committed input offset is past the message, so the message is not read again: the thought can
        // only come back from the state store, in the second case restored from its changelog topic)
        ChunkerService second = startChunker(secondStateDir, gapMs);

        // then the thought is emitted once, with the message
        Thought thought = awaitOnlyThought(chat, "thought of chat " + chat);
        assertEquals(chat + ":41", thought.thoughtId());
        assertEquals(List.of("wait for it"), texts(thought.messages()));
        assertStillExactlyOneThought(chat);
        assertEquals(0, second.deadLetters().total());
    }

    // --- group membership on close ----------------------------------------------------------------------------

    @Test
    void aStaticMemberStaysInItsConsumerGroupOnCloseSoThatItsRestartNeedsNoRebalance() {
        // given a chunker configured for static membership through the pass-through client properties
        String instanceId = applicationId + "-instance";
        ChunkerService chunker = startChunker(stateDir, GAP_MS, Map.of("KAFKA_CLIENT_GROUP_INSTANCE_ID", instanceId));

        // when it is closed
        chunker.close();

        // then its membership is kept for the instance that comes back under the same id
        List<MemberDescription> members = describeGroupMembers();
        assertEquals(1, members.size(), "members: " + members);
        assertTrue(members.get(0).groupInstanceId().orElse("").startsWith(instanceId), "member: " + members.get(0));
    }

    // --- metrics -------------------------------------------------------------------------------------------

    @Test
    void aRunningChunkerShowsKafkaStreamsAndItsClientsMetricsThroughMicrometer() throws Exception {
        // given a chunker counting into a registry of its own
        Config config = TestKafka.config(prefix, PARTITIONS)
                .with(Map.of(
                        ChunkerConfig.CHUNKER_APPLICATION_ID, applicationId,
                        ChunkerConfig.STREAMS_STATE_DIR, stateDir.toString(),
                        ChunkerConfig.CHUNK_GAP_MS, Long.toString(GAP_MS)));
        Metrics metrics = new Metrics();
        ChunkerService service =
                new ChunkerService(ChunkerConfig.from(config), KafkaSettings.from(config), Clock.systemUTC(), metrics);
        services.add(service);

        // when it runs
        service.start();
        assertTrue(service.awaitRunning(TIMEOUT), "the chunker did not reach RUNNING within " + TIMEOUT);

        // then the streams' own metrics and those of its consumer and producer are scraped with ours
        String text = metrics.scrape();
        for (String series : List.of("kafka_stream_", "kafka_consumer_", "kafka_producer_")) {
            assertTrue(text.contains(series), "missing " + series + " in:\n" + text);
        }
    }

    @Test
    void aStartingChunkerIsNotReadyUntilItsStreamsHaveRun() throws Exception {
        // given a chunker that was just started: Kafka Streams is REBALANCING, its tasks not yet assigned or restored
        Config config = TestKafka.config(prefix, PARTITIONS)
                .with(Map.of(
                        ChunkerConfig.CHUNKER_APPLICATION_ID, applicationId,
                        ChunkerConfig.STREAMS_STATE_DIR, stateDir.toString(),
                        ChunkerConfig.CHUNK_GAP_MS, Long.toString(GAP_MS)));
        ChunkerService service = new ChunkerService(ChunkerConfig.from(config), KafkaSettings.from(config));
        services.add(service);
        service.start();

        // then it is not ready yet (joining the group alone takes far longer than this check)
        assertFalse(service.isReady(), "ready before the streams ever ran");

        // and once the streams run, it is
        assertTrue(service.awaitRunning(TIMEOUT), "the chunker did not reach RUNNING within " + TIMEOUT);
        Await.until("ready", TIMEOUT, service::isReady);
    }

    // --- helpers ---------------------------------------------------------------------------------------------

    private ChunkerService startChunker(Path dir, long gapMs) {
        return startChunker(dir, gapMs, Map.of());
    }

    private ChunkerService startChunker(Path dir, long gapMs, Map<String, String> moreSettings) {
        Config config = TestKafka.config(prefix, PARTITIONS)
                .with(Map.of(
                        ChunkerConfig.CHUNKER_APPLICATION_ID, applicationId,
                        ChunkerConfig.STREAMS_STATE_DIR, dir.toString(),
                        ChunkerConfig.CHUNK_GAP_MS, Long.toString(gapMs)))
                .with(moreSettings);
        ChunkerService service = new ChunkerService(ChunkerConfig.from(config), KafkaSettings.from(config));
        services.add(service);
        service.start();
        try {
            assertTrue(service.awaitRunning(TIMEOUT), "the chunker did not reach RUNNING within " + TIMEOUT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for the chunker to run", e);
        }
        return service;
    }

    /**
     * Checks that {@code chat} still has exactly one thought, without waiting an arbitrary time: a sentinel chat
     * on the same partition sends a message and its thought is awaited. The sentinel's thought is closed by the
     * same task, by a later punctuation, and lands after the first thought in the same thoughts partition, which
     * the reader reads in offset order; so a repeat of the first thought written by then has been read.
     */
    private void assertStillExactlyOneThought(long chat) {
        long sentinel = input.chatOnSamePartitionAs(chat);
        RecordMetadata sent = single(input.sendTogether(List.of(input.text(sentinel, 1, "sentinel"))));
        assertEquals(input.partitionOf(chat), sent.partition(), "the sentinel shares the chat's partition");
        ConsumerRecord<Long, Thought> sentinelThought =
                single(thoughts.awaitMatching("the sentinel's thought", 1, forChat(sentinel), TIMEOUT));
        assertEquals(input.partitionOf(chat), sentinelThought.partition());
        assertEquals(
                1,
                thoughts.seen(forChat(chat)).size(),
                "thoughts of chat " + chat + ": " + thoughts.seen(forChat(chat)));
    }

    /** Waits for a thought of {@code chat} and returns it, failing if there is more than one already. */
    private Thought awaitOnlyThought(long chat, String what) {
        return single(thoughts.awaitMatching(what, 1, forChat(chat), TIMEOUT)).value();
    }

    /** Waits until the chunker's committed input offset is past {@code record}: processed, state committed. */
    private void awaitConsumedByChunker(RecordMetadata record) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        Await.until("the chunker to commit past " + partition + "@" + record.offset(), TIMEOUT, () -> {
            OffsetAndMetadata committed = committedOffsets().get(partition);
            return committed != null && committed.offset() > record.offset();
        });
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

    private List<String> groupMembers() {
        return describeGroupMembers().stream()
                .map(MemberDescription::consumerId)
                .toList();
    }

    private List<MemberDescription> describeGroupMembers() {
        try {
            return List.copyOf(admin.describeConsumerGroups(List.of(applicationId))
                    .describedGroups()
                    .get(applicationId)
                    .get(10, TimeUnit.SECONDS)
                    .members());
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("cannot describe the consumer group " + applicationId, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while describing the consumer group", e);
        }
    }

    private static Predicate<ConsumerRecord<Long, Thought>> forChat(long chat) {
        return r -> Objects.equals(r.key(), chat);
    }

    private static List<String> texts(List<ThoughtMessage> messages) {
        return messages.stream().map(ThoughtMessage::text).toList();
    }

    private static <T> T single(List<T> items) {
        assertEquals(1, items.size(), "expected exactly one but got " + items);
        return items.get(0);
    }

    private static String header(Headers headers, String name) {
        return DeadLetters.header(headers, name);
    }
}
