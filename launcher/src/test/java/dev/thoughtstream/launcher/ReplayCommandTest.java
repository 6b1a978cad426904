package dev.thoughtstream.launcher;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.llm.model.ScriptedAnswers;
import dev.thoughtstream.ops.replay.ReplayHtml;
import dev.thoughtstream.testkit.kafka.TestKafka;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code replay} on the real broker with the scripted model: the recorded thoughts answered again beside their
 * original replies, the same report on every run, and nothing touched but what it reads. No Telegram emulator is
 * started: the replay has no way to Telegram at all.
 */
class ReplayCommandTest {
    private static final long CHAT = 42L;
    private static final long OTHER_CHAT = 43L;

    private final long t0 = System.currentTimeMillis() - Duration.ofMinutes(30).toMillis();
    /** The replay's clock: fixed, so that the report's time and latencies are the same on every run. */
    private final Clock clock =
            Clock.fixed(Instant.ofEpochMilli(t0 + Duration.ofMinutes(20).toMillis()), ZoneOffset.UTC);

    private String prefix;
    private Topics topics;
    private KafkaProducer<byte[], byte[]> producer;
    private final List<Thought> thoughts = new ArrayList<>();

    @TempDir
    Path dir;

    @BeforeEach
    void recordedConversations() throws Exception {
        prefix = TestKafka.uniquePrefix("replay");
        topics = TestKafka.createTopics(prefix);
        producer = new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer());
        // Given three answered thoughts of two chats, one with context and text that means something in HTML
        thoughts.add(thought(CHAT, 7, t0, List.of("hi", "how are you?"), List.of()));
        thoughts.add(thought(
                OTHER_CHAT,
                3,
                t0 + 1_000,
                List.of("is <b>this</b> & \"that\" bold?"),
                List.of(new ContextMessage(ContextMessage.Role.USER, "earlier <i>words</i>", t0 - 60_000))));
        thoughts.add(thought(
                CHAT,
                9,
                t0 + 2_000,
                List.of("tell me about rivers"),
                List.of(
                        new ContextMessage(ContextMessage.Role.USER, "hi", t0),
                        new ContextMessage(ContextMessage.Role.ASSISTANT, "Hello! Fine.", t0 + 500))));
        for (Thought t : thoughts) {
            produce(topics.thoughts(), t.chatId(), t, t.closedAtMs());
            String replyId = ReplyPart.replyIdFor(t.thoughtId());
            produce(
                    topics.replies(),
                    t.chatId(),
                    new ReplyPart(
                            1,
                            replyId,
                            t.thoughtId(),
                            t.chatId(),
                            t.lastMessageId(),
                            0,
                            false,
                            "Original one " + t.thoughtId(),
                            t.closedAtMs() + 400),
                    t.closedAtMs() + 400);
            produce(
                    topics.replies(),
                    t.chatId(),
                    new ReplyPart(
                            1,
                            replyId,
                            t.thoughtId(),
                            t.chatId(),
                            t.lastMessageId(),
                            1,
                            true,
                            "Original two " + t.thoughtId(),
                            t.closedAtMs() + 900),
                    t.closedAtMs() + 900);
        }
    }

    @AfterEach
    void close() {
        producer.close();
    }

    @Test
    void everyThoughtOfTheWindowIsAnsweredAgainBesideItsOriginalReply() throws Exception {
        Set<String> groupsBefore = groups();

        // When the operator replays the last hour with the scripted model
        Path report = dir.resolve("report.html");
        Run run = replay("--since", "1h", "--provider", "scripted", "--out", report.toString());

        // Then it succeeds and reports every thought, each with its original parts and the new ones
        assertEquals(0, run.code(), run.err());
        assertTrue(
                run.out().contains("replayed 3 thought(s) with scripted (scripted): 3 answered, 0 failed"), run.out());
        String html = Files.readString(report, StandardCharsets.UTF_8);
        assertEquals(3, count(html, "<tr class=\"thought\""), html);
        for (Thought t : thoughts) {
            assertTrue(html.contains("data-thought-id=\"" + t.thoughtId() + "\""), t.thoughtId());
            assertTrue(html.contains("Original one " + t.thoughtId()), t.thoughtId());
            assertTrue(html.contains("Original two " + t.thoughtId()), t.thoughtId());
            // the new reply is the scripted model's answer, cut into parts at its blank lines
            String firstParagraph = ScriptedAnswers.answerTo(t.text()).split("\n\n")[0];
            assertTrue(html.contains(ReplayHtml.esc(firstParagraph)), firstParagraph + " in\n" + html);
        }
        // And the thoughts are in the order they were closed
        assertTrue(html.indexOf(thoughts.get(0).thoughtId() + "\"")
                < html.indexOf(thoughts.get(1).thoughtId() + "\""));
        assertTrue(html.indexOf(thoughts.get(1).thoughtId() + "\"")
                < html.indexOf(thoughts.get(2).thoughtId() + "\""));
        // And the person's words are shown as text, not markup
        assertTrue(html.contains("is &lt;b&gt;this&lt;/b&gt; &amp; &quot;that&quot; bold?"), html);
        assertFalse(html.contains("<b>this</b>"), html);
        assertTrue(html.contains("earlier &lt;i&gt;words&lt;/i&gt;"), html);
        // And the scripted model's token counts are in the summary
        assertTrue(html.matches("(?s).*<tr class=\"tokens\"><th scope=\"row\">Tokens</th><td>—</td><td>\\d+</td>.*"));

        // And no consumer group was created: the replay reads by assignment and commits nothing
        assertEquals(groupsBefore, groups());
        // And no production topic was written to: the replies topic holds just what was recorded
        assertEquals(6, readAll(topics.replies().name()).size());
    }

    @Test
    void theSameRecordsGiveTheSameReportByteForByte() throws Exception {
        Path first = dir.resolve("first.html");
        Path second = dir.resolve("second.html");

        assertEquals(0, replay("--since", "1h", "--out", first.toString()).code());
        assertEquals(0, replay("--since", "1h", "--out", second.toString()).code());

        assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(second));
    }

    @Test
    void chosenChatsAreReplayedAndTheirNewRepliesWrittenToTheReplayTopic() throws Exception {
        Set<String> groupsBefore = groups();

        // When the operator replays one chat and asks for its new replies on a topic of their own
        Path report = dir.resolve("chat.html");
        Run run = replay("--chats", Long.toString(CHAT), "--out", report.toString(), "--to-topic", "try1");

        // Then only that chat's thoughts are in the report
        assertEquals(0, run.code(), run.err());
        String html = Files.readString(report, StandardCharsets.UTF_8);
        assertEquals(2, count(html, "<tr class=\"thought\""), html);
        assertFalse(html.contains(thoughts.get(1).thoughtId()), html);
        // And their new parts are on replay.try1.replies, each ending its reply
        List<ConsumerRecord<byte[], byte[]>> written = readAll(prefix + "replay.try1.replies");
        List<ReplyPart> parts = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : written) {
            parts.add(topics.replies().value(r));
        }
        assertEquals(
                Set.of(thoughts.get(0).thoughtId(), thoughts.get(2).thoughtId()),
                new TreeSet<>(parts.stream().map(ReplyPart::thoughtId).toList()));
        assertEquals(2, parts.stream().filter(ReplyPart::last).count(), parts.toString());
        assertEquals(
                Set.of(CHAT),
                new TreeSet<>(parts.stream().map(ReplyPart::chatId).toList()));
        // And still no consumer group, and the production replies topic is as it was
        assertEquals(groupsBefore, groups());
        assertEquals(6, readAll(topics.replies().name()).size());
    }

    @Test
    void withoutAWindowOrChatsTheCommandAsksForOne() {
        Run run = replay("--out", dir.resolve("x.html").toString());

        assertEquals(CommandLine.ExitCode.USAGE, run.code());
        assertTrue(run.err().contains("Missing --since or --chats"), run.err());
    }

    private record Run(int code, String out, String err) {}

    private Run replay(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        Config config = TestKafka.config(prefix, TestKafka.PARTITIONS);
        CommandLine cl = new CommandLine(new ReplayCommand(() -> config, clock));
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static Thought thought(
            long chat, long firstMessageId, long closedAt, List<String> texts, List<ContextMessage> context) {
        List<ThoughtMessage> messages = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            messages.add(new ThoughtMessage(firstMessageId + i, texts.get(i), closedAt - 2_000 + i));
        }
        return new Thought(
                Thought.SCHEMA_VERSION,
                Thought.idFor(chat, firstMessageId),
                chat,
                messages,
                firstMessageId,
                firstMessageId + texts.size() - 1,
                closedAt - 2_000,
                closedAt,
                context);
    }

    private <V> void produce(Topic<Long, V> topic, long key, V value, long timestamp) throws Exception {
        ProducerRecord<byte[], byte[]> r = topic.record(key, value);
        producer.send(new ProducerRecord<>(r.topic(), null, timestamp, r.key(), r.value()))
                .get(30, TimeUnit.SECONDS);
    }

    private static Set<String> groups() throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", TestKafka.bootstrapServers()))) {
            Set<String> ids = new TreeSet<>();
            for (GroupListing g : admin.listGroups().all().get(30, TimeUnit.SECONDS)) {
                ids.add(g.groupId());
            }
            return ids;
        }
    }

    /** Every record of the topic, read by assignment (no group, so reading it creates none). */
    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        try (KafkaConsumer<byte[], byte[]> c =
                new KafkaConsumer<>(props, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            c.assign(partitions);
            c.seekToBeginning(partitions);
            Map<TopicPartition, Long> ends = c.endOffsets(partitions);
            List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (ends.entrySet().stream().anyMatch(e -> c.position(e.getKey()) < e.getValue())) {
                assertTrue(System.nanoTime() < deadline, "timed out reading " + topic);
                c.poll(Duration.ofMillis(200)).forEach(records::add);
            }
            return records;
        }
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
