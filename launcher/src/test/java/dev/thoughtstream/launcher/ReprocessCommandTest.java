package dev.thoughtstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.chunker.ChunkerConfig;
import dev.thoughtstream.chunker.ChunkerService;
import dev.thoughtstream.chunker.ReprocessFence;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ops.reprocess.ReprocessSettings;
import dev.thoughtstream.ops.reprocess.Reprocessor;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code thoughtstream reprocess} against the real test broker and a real chunker ({@link ChunkerService}, exactly-once,
 * RocksDB in a temporary state directory), on one-partition topics so that one chat's records and thoughts are in
 * one order.
 */
class ReprocessCommandTest {
    private static final long GAP_MS = 400;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final long CHAT = 4242;

    @TempDir
    Path stateDir;

    private String prefix;
    private String applicationId;
    private Topics topics;
    private Admin admin;
    private TopicReader<Long, Thought> thoughts;
    private final List<ChunkerService> chunkers = new ArrayList<>();
    /** Pass-through client properties of the chunker and the command (the group protocol). */
    private Map<String, String> clientSettings = Map.of();

    private record Run(int code, String out, String err) {}

    @BeforeEach
    void createTopics(TestInfo test) {
        prefix = TestKafka.uniquePrefix(
                "reprocess-" + test.getTestMethod().orElseThrow().getName());
        applicationId = prefix.substring(0, prefix.length() - 1) + "-chunker";
        topics = TestKafka.createTopics(prefix, 1);
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()));
        thoughts = new TopicReader<>(topics.thoughts(), TIMEOUT);
    }

    @AfterEach
    void closeEverything() {
        // The chunkers first: they hold the state directory, which @TempDir deletes afterwards.
        chunkers.forEach(ChunkerService::close);
        thoughts.close();
        admin.close();
    }

    @Test
    void aDryRunPrintsWhichOffsetsTopicsAndDirectoryItWouldResetAndChangesNothing() throws Exception {
        // given a chunker that answered one message and was then stopped
        ChunkerService chunker = startChunker();
        send(11, "hello");
        awaitThoughts(1);
        chunker.close();
        Map<TopicPartition, OffsetAndMetadata> committedBefore = committed();
        Set<String> topicsBefore = topicNames();
        assertTrue(Files.isDirectory(appStateDir()), "the chunker keeps its stores in " + appStateDir());

        // when the operator asks for a dry run from the earliest record
        Run run = reprocess("--from", "earliest", "--dry-run");

        // then the plan names the group, each input partition's move, the internal topics, the directory, the fence
        assertEquals(0, run.code(), run.err());
        String plan = run.out();
        assertTrue(plan.contains("group " + applicationId + " (classic protocol"), plan);
        assertTrue(plan.contains(topics.updates().name() + "-0: 1 -> 0  (earliest retained record)"), plan);
        assertTrue(plan.contains(topics.delivered().name() + "-0: none -> 0"), plan);
        assertTrue(plan.contains("  " + applicationId + "-chat-context-changelog\n"), plan);
        assertTrue(plan.contains("  " + applicationId + "-open-thoughts-changelog\n"), plan);
        assertTrue(plan.contains("local state directory cleared: " + appStateDir() + "\n"), plan);
        assertTrue(plan.contains(topics.updates().name() + "-0 < 1\n"), plan);
        assertTrue(plan.contains("dry run: nothing changed."), plan);

        // and as JSON, the same plan
        Run json = reprocess("--from", "earliest", "--dry-run", "--json");
        assertEquals(0, json.code(), json.err());
        var tree = Json.mapper().readTree(json.out());
        assertEquals(applicationId, tree.get("group").asText());
        assertEquals(0, tree.get("members").asInt());
        assertEquals(1, tree.get("fence").get(topics.updates().name()).get("0").asLong(), json.out());

        // and nothing changed: offsets, topics, local state, no fence
        assertEquals(committedBefore, committed());
        assertEquals(topicsBefore, topicNames());
        assertTrue(Files.isDirectory(appStateDir()));
        assertFalse(topicNames().contains(applicationId + "-reprocess-fence"));
    }

    @Test
    void whileAChunkerInstanceRunsTheCommandRefusesNamingTheGroupAndItsMembers() throws Exception {
        // given a running chunker
        startChunker();
        send(11, "hello");
        awaitThoughts(1);
        Set<String> topicsBefore = topicNames();

        // when the operator runs a reprocess
        Run run = reprocess("--from", "earliest");

        // then it refuses, saying why, and changes nothing
        assertEquals(OpsCommands.EXIT_FAILED, run.code(), run.out());
        assertTrue(run.err().contains("the chunker group " + applicationId + " has 1 active member"), run.err());
        assertEquals(topicsBefore, topicNames());
        assertTrue(Files.isDirectory(appStateDir()));
    }

    @Test
    void afterAReprocessWithEmitNoneTheRestartedChunkerRebuildsTheContextAndAnswersOnlyNewMessages() throws Exception {
        // given a chunker that answered two messages of a chat, then was stopped
        ChunkerService chunker = startChunker();
        send(11, "what is the capital of France?");
        awaitThoughts(1);
        send(12, "and of Italy?");
        Thought second = awaitThoughts(2).get(1);
        chunker.close();
        List<ContextMessage> contextBefore = new ArrayList<>(second.context());
        second.messages()
                .forEach(m -> contextBefore.add(new ContextMessage(ContextMessage.Role.USER, m.text(), m.sentAtMs())));

        // when the operator reprocesses from the earliest record (emit none, the default)
        Run run = reprocess("--from", "earliest");

        // then the state is gone: the internal topics deleted, the local directory cleared
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("done: deleted"), run.out());
        assertFalse(Files.exists(appStateDir()), "still there: " + appStateDir());
        assertFalse(topicNames().contains(applicationId + "-chat-context-changelog"));

        // when the chunker starts again and a new message arrives
        startChunker();
        send(13, "and of Spain?");

        // then the only new thought is the new message's, and it carries the conversation as it was before
        Thought third = awaitThoughts(3).get(2);
        assertEquals(
                List.of(13L), third.messages().stream().map(m -> m.messageId()).toList());
        assertEquals(contextBefore, third.context());
        assertEquals(3, thoughts.readToEnd(TIMEOUT).size(), "an old thought was sent again");
        assertNotEquals(List.of(), third.context());
    }

    @Test
    void withEmitThoughtsTheRestartedChunkerSendsTheOldThoughtsAgainEvenAfterAnEarlierFence() throws Exception {
        // given a chunker that answered a message, and an earlier reprocess that left a fence over it
        ChunkerService chunker = startChunker();
        send(11, "hello");
        awaitThoughts(1);
        chunker.close();
        assertEquals(0, reprocess("--from", "earliest").code());

        // when the operator reprocesses again with --emit thoughts
        Run run = reprocess("--from", "earliest", "--emit", "thoughts");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("--emit thoughts, cleared"), run.out());

        // then the restarted chunker sends the old message's thought again (the fence is cleared)
        startChunker();
        Thought again = awaitThoughts(2).get(1);
        assertEquals(
                List.of(11L), again.messages().stream().map(m -> m.messageId()).toList());
    }

    @Test
    void underTheStreamsGroupProtocolTheCommandRefusesWhileAMemberRunsThenRebuildsWithoutAnsweringTwice()
            throws Exception {
        // given a chunker in a streams group (KIP-1071), running, that answered one message
        clientSettings = Map.of(KafkaSettings.CLIENT_PREFIX + "GROUP_PROTOCOL", "streams");
        ChunkerService chunker = startChunker();
        send(11, "what is the capital of France?");
        Thought first = awaitThoughts(1).get(0);

        // when the operator runs a reprocess while it runs, then it refuses, naming the group and its member
        Run refused = reprocess("--from", "earliest");
        assertEquals(OpsCommands.EXIT_FAILED, refused.code(), refused.out());
        assertTrue(
                refused.err().contains("the chunker group " + applicationId + " has 1 active member"), refused.err());

        // when the chunker is stopped and the reprocess runs, then it uses the streams group's Admin calls
        chunker.close();
        Run run = reprocess("--from", "earliest");
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("group " + applicationId + " (streams protocol"), run.out());

        // and the restarted chunker answers only the new message, with the rebuilt context
        startChunker();
        send(12, "and of Italy?");
        Thought second = awaitThoughts(2).get(1);
        assertEquals(
                List.of(12L), second.messages().stream().map(m -> m.messageId()).toList());
        assertEquals(
                List.of(new ContextMessage(
                        ContextMessage.Role.USER,
                        first.messages().get(0).text(),
                        first.messages().get(0).sentAtMs())),
                second.context());
    }

    @Test
    void theCommandClearsTheStateDirectoryTheChunkerUsesByDefault() {
        Config none = Config.of(Map.of());
        assertEquals(ChunkerConfig.from(none).stateDir(), ReprocessSettings.stateDir(none));
    }

    @Test
    void theCommandWritesTheFenceWhereTheChunkerReadsIt() {
        assertEquals(ReprocessFence.topic("any-app"), Reprocessor.fenceTopic("any-app"));
    }

    @Test
    void anUnknownEmitModeOrFromIsAnErrorOfTheCommandLine() {
        Run emit = reprocess("--from", "1h", "--emit", "everything");
        assertEquals(CommandLine.ExitCode.USAGE, emit.code());
        assertTrue(emit.err().contains("--emit: expected none or thoughts"), emit.err());
        Run from = reprocess("--from", "yesterday");
        assertEquals(CommandLine.ExitCode.USAGE, from.code());
        assertTrue(from.err().contains("--from: expected a time"), from.err());
    }

    // --- helpers ---------------------------------------------------------------------------------------------

    private Config config() {
        return TestKafka.config(prefix, 1)
                .with(Map.of(
                        ChunkerConfig.CHUNKER_APPLICATION_ID, applicationId,
                        ChunkerConfig.STREAMS_STATE_DIR, stateDir.toString(),
                        ChunkerConfig.CHUNK_GAP_MS, Long.toString(GAP_MS)))
                .with(clientSettings);
    }

    private Path appStateDir() {
        return stateDir.resolve(applicationId);
    }

    private ChunkerService startChunker() throws InterruptedException {
        Config config = config();
        ChunkerService chunker = new ChunkerService(ChunkerConfig.from(config), KafkaSettings.from(config));
        chunkers.add(chunker);
        chunker.start();
        assertTrue(chunker.awaitRunning(TIMEOUT), "the chunker did not reach RUNNING within " + TIMEOUT);
        return chunker;
    }

    private Run reprocess(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Supplier<Config> config = this::config;
        CommandLine cl = Thoughtstream.commandLine(config);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        String[] all = Stream.concat(Stream.of("reprocess"), Stream.of(args)).toArray(String[]::new);
        int code = cl.execute(all);
        return new Run(code, out.toString(), err.toString());
    }

    /** A text message as ingest stores it. */
    private void send(long messageId, String text) {
        long sentAtMs = System.currentTimeMillis() / 1000 * 1000;
        ObjectNode update = Json.mapper().createObjectNode();
        update.put("update_id", messageId);
        ObjectNode message = update.putObject("message");
        message.put("message_id", messageId);
        message.put("date", sentAtMs / 1000);
        message.putObject("chat").put("id", CHAT).put("type", "private");
        message.putObject("from").put("id", 7001L).put("is_bot", false).put("first_name", "Ada");
        message.put("text", text);
        TestKafka.produce(topics.updates(), CHAT, StoredUpdate.of(messageId, CHAT, sentAtMs, update));
    }

    private List<Thought> awaitThoughts(int count) {
        return thoughts.awaitMatching("thought", count, r -> true, TIMEOUT).stream()
                .map(ConsumerRecord::value)
                .toList();
    }

    private Map<TopicPartition, OffsetAndMetadata> committed() throws Exception {
        return admin.listConsumerGroupOffsets(applicationId)
                .partitionsToOffsetAndMetadata()
                .get();
    }

    private Set<String> topicNames() throws Exception {
        return admin.listTopics().names().get();
    }
}
