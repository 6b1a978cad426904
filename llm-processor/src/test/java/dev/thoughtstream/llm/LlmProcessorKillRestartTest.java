package dev.thoughtstream.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.llm.ScaleConfig.Mode;
import dev.thoughtstream.llm.handle.ThoughtClaims;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.llm.Behavior;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import dev.thoughtstream.testkit.process.ServiceProcess;
import dev.thoughtstream.testkit.redis.TestRedis;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidRequestException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.apache.kafka.common.utils.Utils;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code kill -9} of an llm-processor's JVM in the middle of a generation, and a new JVM under the same
 * {@code INSTANCE_ID}, on the real broker and real Redis, in both consumer modes. The processors run as their own
 * processes ({@link ServiceProcess}: {@link Main}, configured by environment variables) and call the fake model over
 * HTTP; the first model call stalls after its first part, so the killed process leaves its thought claimed in Redis
 * for the default claim TTL ({@code 2 × LLM_REPLY_TIMEOUT_MS} = 240 s).
 *
 * <ul>
 *   <li>group: the killed member's session lasts {@value #SESSION_TIMEOUT_MS} ms, so passing within
 *       {@link #RECOVERY_BOUND} proves that static membership gave the partitions back at once, and that the claim
 *       was taken over instead of waited out.</li>
 *   <li>share: share groups have no static membership; the partitions the assignor leaves with the dead consumers
 *       wait for their share session to time out, set here to {@value #SHARE_SESSION_TIMEOUT_MS} ms as
 *       {@code docs/deploy.md} recommends. Passing within the bound proves that the dead consumer's acquired record
 *       came back without waiting out its acquisition lock (30 s) and that its claim was taken over. With two
 *       instances, the one the share group hands the interrupted record to takes the claim over once the crashed
 *       instance is back and has recorded its new process.</li>
 * </ul>
 */
class LlmProcessorKillRestartTest {
    private static final Logger LOG = LoggerFactory.getLogger(LlmProcessorKillRestartTest.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int SESSION_TIMEOUT_MS = 60_000;
    private static final int SHARE_SESSION_TIMEOUT_MS = 6_000;
    /** From starting the new JVM to its having answered everything: its start-up plus slack for a loaded machine. */
    private static final Duration RECOVERY_BOUND = Duration.ofSeconds(20);

    private static final String MODEL = "restart-model";
    private static final String INSTANCE_ID = "llm-a";
    private static final String FOUR_PARAGRAPHS = "One.\n\nTwo.\n\nThree.\n\nFour.";
    private static final List<String> FOUR_PARTS = List.of("One.", "Two.", "Three.", "Four.");
    /** {@code One . \n\nTwo}: part 0 is on Kafka, then the stream stays open and silent. */
    private static final int STALL_TOKENS = 3;

    @TempDir
    Path workDir;

    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private String testName;
    private String prefix;
    private String groupId;
    private String keyPrefix;
    private Topics topics;
    private Admin admin;
    private KafkaProducer<byte[], byte[]> producer;
    private FakeLlmServer llm;
    private TopicReader<Long, ReplyPart> replies;

    @BeforeEach
    void setUp(TestInfo test) {
        testName = test.getDisplayName();
        prefix = TestKafka.uniquePrefix("llm-kill");
        groupId = prefix + "llm";
        keyPrefix = TestRedis.uniqueKeyPrefix(prefix);
        topics = TestKafka.createTopics(prefix);
        admin = track(Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers())));
        producer = track(
                new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer()));
        llm = track(FakeLlmServer.builder().modelName(MODEL).build().start());
        replies = track(new TopicReader<>(topics.replies(), TIMEOUT));
    }

    @AfterEach
    void tearDown() throws Exception {
        while (!resources.isEmpty()) {
            resources.pop().close();
        }
    }

    private <T extends AutoCloseable> T track(T resource) {
        resources.push(resource);
        return resource;
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(
            value = Mode.class,
            names = {"GROUP", "SHARE"})
    void aRestartedInstanceRegeneratesItsInterruptedThoughtAndAnswersNewOnesWithoutWaitingOutItsClaim(Mode mode)
            throws Exception {
        // given an instance in its own JVM with a stable instance id, generating a reply that the model stalls
        if (mode == Mode.SHARE) {
            shortShareSession();
        }
        llm.enqueue(Behavior.builder()
                .reply(FOUR_PARAGRAPHS)
                .stallAfterTokens(STALL_TOKENS)
                .build());
        llm.setDefault(Behavior.replying(FOUR_PARAGRAPHS));
        ServiceProcess first = startProcessor(mode, "first");
        Thought interrupted = thought(4001, 1, "count to four");
        produce(interrupted);
        awaitParts(interrupted, 1, TIMEOUT, first);

        // when its JVM is killed with SIGKILL, leaving the thought claimed, and a new JVM starts under the same id
        assertEquals(ServiceProcess.EXIT_KILLED, first.kill(TIMEOUT), first.describe());
        long restartedAt = System.nanoTime();
        ServiceProcess second = startProcessor(mode, "second");
        // and new thoughts arrive, one on every partition
        List<Thought> fresh = new ArrayList<>();
        for (long chat : chatsCoveringEveryPartition()) {
            Thought t = thought(chat, 7, "hello from " + chat);
            fresh.add(t);
            produce(t);
        }

        // then the interrupted thought is generated again in full, long before its claim (and, in group mode, the dead
        // member's session) would expire
        List<ReplyPart> parts = awaitParts(interrupted, 1 + FOUR_PARTS.size(), RECOVERY_BOUND, second);
        long regeneratedMs = (System.nanoTime() - restartedAt) / 1_000_000;
        assertEquals(
                FOUR_PARTS,
                parts.subList(1, parts.size()).stream().map(ReplyPart::text).toList(),
                "the restarted instance's reply (after the killed attempt's part 0)");
        // and every new thought is answered too, whichever partition it is on
        for (Thought t : fresh) {
            awaitParts(t, FOUR_PARTS.size(), RECOVERY_BOUND.minusMillis(elapsedMs(restartedAt)), second);
        }
        long allMs = elapsedMs(restartedAt);
        LOG.info(
                "{}: after the restart (JVM start included) the interrupted thought was regenerated in {} ms, "
                        + "everything answered in {} ms",
                testName,
                regeneratedMs,
                allMs);
        // and the model was called once by the killed attempt and once per thought by the new process
        assertEquals(2 + fresh.size(), llm.requestCount());
        assertTrue(second.output().contains("took over claim"), "the claim was taken over:\n" + second.describe());
    }

    @Test
    void inShareModeTheInstanceHandedTheInterruptedThoughtTakesItsClaimOverOnceTheCrashedInstanceIsBack()
            throws Exception {
        // given two instances in share mode, one of them generating a reply that the model stalls
        shortShareSession();
        llm.enqueue(Behavior.builder()
                .reply(FOUR_PARAGRAPHS)
                .stallAfterTokens(STALL_TOKENS)
                .build());
        llm.setDefault(Behavior.replying(FOUR_PARAGRAPHS));
        Map<String, ServiceProcess> running = new HashMap<>();
        for (String id : List.of("llm-a", "llm-b")) {
            running.put(id, startProcessor(Mode.SHARE, id, id + "-first"));
        }
        Thought interrupted = thought(4101, 1, "count to four");
        produce(interrupted);
        awaitParts(interrupted, 1, TIMEOUT, running.get("llm-a"));
        String holder;
        try (RedisClaimStore claims = new RedisClaimStore(RedisClaimStore.connect(TestRedis.settings()), keyPrefix)) {
            holder = claims.get(ThoughtClaims.key(interrupted.thoughtId())).orElseThrow();
        }
        String crashedId = holder.substring(0, holder.indexOf('#'));
        String survivorId = crashedId.equals("llm-a") ? "llm-b" : "llm-a";

        // when the generating instance's JVM is killed: the broker releases its record, which the survivor gets and
        // holds, waiting for a claim it cannot know to be dead
        ServiceProcess crashed = running.get(crashedId);
        assertEquals(ServiceProcess.EXIT_KILLED, crashed.kill(TIMEOUT), crashed.describe());
        // and the killed instance is started again under its id
        long restartedAt = System.nanoTime();
        ServiceProcess restarted = startProcessor(Mode.SHARE, crashedId, crashedId + "-second");

        // then the interrupted thought is generated again in full, long before its claim would expire
        List<ReplyPart> parts = awaitParts(interrupted, 1 + FOUR_PARTS.size(), RECOVERY_BOUND, restarted);
        LOG.info(
                "{}: the interrupted thought was regenerated {} ms after the crashed instance's JVM was started again",
                testName,
                elapsedMs(restartedAt));
        assertEquals(
                FOUR_PARTS,
                parts.subList(1, parts.size()).stream().map(ReplyPart::text).toList());
        // by whichever instance the share group handed it to, taking the claim over
        String output = running.get(survivorId).output() + restarted.output();
        assertTrue(
                output.contains("took over claim " + holder),
                "the claim was taken over:\n" + running.get(survivorId).describe() + "\n" + restarted.describe());
        assertEquals(2, llm.requestCount(), "the killed attempt's call and one more");
    }

    // --- helpers ---------------------------------------------------------------------------------------------

    private static long elapsedMs(long sinceNanos) {
        return (System.nanoTime() - sinceNanos) / 1_000_000;
    }

    /**
     * What an operator does for share mode ({@code docs/deploy.md}): a short share session for the group. The test
     * broker allows it; a broker given through {@code KAFKA_BOOTSTRAP_SERVERS} with Kafka's default bounds (45 s at
     * least) refuses it, and then the test cannot show what it is about and is reported as skipped.
     */
    private void shortShareSession() throws Exception {
        ConfigResource group = new ConfigResource(ConfigResource.Type.GROUP, groupId);
        try {
            admin.incrementalAlterConfigs(Map.of(
                            group,
                            List.of(
                                    new AlterConfigOp(
                                            new ConfigEntry(
                                                    "share.session.timeout.ms",
                                                    Integer.toString(SHARE_SESSION_TIMEOUT_MS)),
                                            AlterConfigOp.OpType.SET),
                                    new AlterConfigOp(
                                            new ConfigEntry("share.heartbeat.interval.ms", "1000"),
                                            AlterConfigOp.OpType.SET))))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof InvalidConfigurationException
                    || e.getCause() instanceof InvalidRequestException) {
                Assumptions.abort("the broker refuses a " + SHARE_SESSION_TIMEOUT_MS + " ms share session ("
                        + e.getCause().getMessage() + "); see group.share.min.session.timeout.ms in docs/deploy.md");
            }
            throw e;
        }
    }

    private ServiceProcess startProcessor(Mode mode, String name) {
        return startProcessor(mode, INSTANCE_ID, name);
    }

    private ServiceProcess startProcessor(Mode mode, String instanceId, String name) {
        RedisSettings redis = TestRedis.settings();
        Map<String, String> env = new HashMap<>();
        env.put(KafkaSettings.BOOTSTRAP, TestKafka.bootstrapServers());
        env.put("TOPIC_PREFIX", prefix);
        env.put("TOPIC_PARTITIONS", Integer.toString(TestKafka.PARTITIONS));
        env.put(KafkaSettings.INSTANCE_ID, instanceId);
        env.put("KAFKA_CLIENT_SESSION_TIMEOUT_MS", Integer.toString(SESSION_TIMEOUT_MS));
        env.put(RedisSettings.URL, redis.url().toString());
        env.put("REDIS_KEY_PREFIX", keyPrefix);
        env.put(ScaleConfig.MODE, mode.name().toLowerCase(java.util.Locale.ROOT));
        env.put(LlmConfig.GROUP_ID, groupId);
        env.put(LlmConfig.PROVIDER, "ollama");
        env.put(LlmConfig.API_URL, llm.ollamaBaseUrl());
        env.put(LlmConfig.MODEL, MODEL);
        // One consumer per instance: in share mode the assignor then surely leaves a partition to the dead consumer
        // alone (two members, three partitions), the worst case.
        env.put(ScaleConfig.MAX_IN_FLIGHT, "1");
        ServiceProcess process = ServiceProcess.start(
                Main.class, env, workDir, getClass().getSimpleName() + "-" + mode + "-" + name + ".log");
        track(process);
        return process;
    }

    private List<ReplyPart> awaitParts(Thought thought, int count, Duration timeout, ServiceProcess process) {
        String replyId = ReplyPart.replyIdFor(thought.thoughtId());
        Predicate<ConsumerRecord<Long, ReplyPart>> ofReply =
                r -> r.value() != null && replyId.equals(r.value().replyId());
        try {
            return replies.awaitMatching(count + " parts of reply " + replyId, count, ofReply, timeout).stream()
                    .map(ConsumerRecord::value)
                    .toList();
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "\n" + process.describe(), e);
        }
    }

    private void produce(Thought thought) {
        String topic = topics.thoughts().name();
        try {
            producer.send(topics.thoughts().record(thought.chatId(), thought)).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("cannot produce to " + topic, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while producing", e);
        }
    }

    /** One chat id per partition of the thoughts topic. */
    private static List<Long> chatsCoveringEveryPartition() {
        Map<Integer, Long> onePerPartition = new LinkedHashMap<>();
        for (long chat = 5000; onePerPartition.size() < TestKafka.PARTITIONS; chat++) {
            byte[] key = new LongSerializer().serialize("any", chat);
            onePerPartition.putIfAbsent(Utils.toPositive(Utils.murmur2(key)) % TestKafka.PARTITIONS, chat);
        }
        return List.copyOf(onePerPartition.values());
    }

    private static Thought thought(long chatId, long firstMessageId, String text) {
        return new Thought(
                Thought.SCHEMA_VERSION,
                Thought.idFor(chatId, firstMessageId),
                chatId,
                List.of(new ThoughtMessage(firstMessageId, text, 10_000L)),
                firstMessageId,
                firstMessageId,
                10_000L,
                12_000L,
                List.of());
    }
}
