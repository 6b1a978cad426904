package dev.thoughtstream.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.process.ManagedProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The keys stay 8-byte longs (docs/architecture.md says why), so docs/operations.md tells how Kafka's console
 * consumer and kcat print them as text. These tests take those commands from the page as written, point them at the
 * test broker and a record keyed like the pipeline's, and read what the tools print.
 */
class StandardToolsTest {
    /** A group chat's id: negative, and beyond 32 bits, as Telegram's supergroup ids are. */
    private static final long CHAT = -1001234567890L;

    private static final Path OPERATIONS = repositoryRoot().resolve("docs/operations.md");
    /** What the page's commands name; the test gives its own broker and topic prefix instead. */
    private static final String DOCUMENTED_BROKER = "localhost:19092";

    private static final Duration TOOL_TIMEOUT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    private Topics topics;

    @BeforeEach
    void aChatsUpdateOnTheUpdatesTopic() {
        // Given an update of a group chat, written with the pipeline's own serdes
        topics = TestKafka.createTopics(TestKafka.uniquePrefix("standard-tools"));
        JsonNode update = JsonNodeFactory.instance
                .objectNode()
                .put("update_id", 7)
                .set(
                        "message",
                        JsonNodeFactory.instance
                                .objectNode()
                                .put("message_id", 3)
                                .put("text", "hi"));
        TestKafka.produce(topics.updates(), CHAT, StoredUpdate.of(7, CHAT, System.currentTimeMillis(), update));
    }

    @Test
    void kafkasConsoleConsumerPrintsTheChatIdAsTextWithTheDocumentedArguments() throws Exception {
        // When Kafka's console consumer (the class kafka-console-consumer.sh runs) is run as documented
        List<String> command = new ArrayList<>(List.of(
                ManagedProcess.javaExecutable(),
                "-Xmx256m",
                "-cp",
                System.getProperty("java.class.path"),
                "org.apache.kafka.tools.consumer.ConsoleConsumer"));
        command.addAll(forThisBroker(documented("kafka-console-consumer.sh")));
        // (bounded, so it ends by itself: the page's command follows the topic until Ctrl-C)
        command.addAll(List.of("--max-messages", "1", "--timeout-ms", "30000"));
        List<String> lines = run(command);

        // Then its line is the chat id as text, a tab, and the record's JSON
        assertChatIdAsText(lines);
    }

    @Test
    void kcatPrintsTheChatIdAsTextWithTheDocumentedArguments() throws Exception {
        Assumptions.assumeTrue(
                onPath("kcat"),
                "kcat is not installed (.ci/run installs it with apt-get): the kcat command is untested");

        // When kcat is run as documented (it exits at the end of the topic: -e)
        List<String> command = new ArrayList<>(List.of("kcat"));
        command.addAll(forThisBroker(documented("kcat")));
        List<String> lines = run(command);

        // Then its line is the chat id as text, a tab, and the record's JSON
        assertChatIdAsText(lines);
    }

    private void assertChatIdAsText(List<String> lines) throws IOException {
        List<String> records = lines.stream().filter(l -> l.contains("\t")).toList();
        assertEquals(1, records.size(), "one record expected in:\n" + String.join("\n", lines));
        String[] keyAndValue = records.get(0).split("\t", 2);
        assertEquals(Long.toString(CHAT), keyAndValue[0], records.get(0));
        StoredUpdate value = Json.mapper().readValue(keyAndValue[1], StoredUpdate.class);
        assertEquals(CHAT, value.chatId());
        assertEquals("hi", value.update().path("message").path("text").asText());
    }

    /** The page's arguments with the test's broker and prefixed topic in place of devstack's. */
    private List<String> forThisBroker(List<String> documented) {
        List<String> args = new ArrayList<>();
        for (String arg : documented) {
            if (arg.equals(DOCUMENTED_BROKER)) {
                args.add(TestKafka.bootstrapServers());
            } else if (arg.equals(Topics.UPDATES)) {
                args.add(topics.updates().name());
            } else {
                args.add(arg);
            }
        }
        assertTrue(args.contains(topics.updates().name()), "the documented command reads " + Topics.UPDATES);
        return args;
    }

    private List<String> run(List<String> command) throws IOException, InterruptedException {
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Process process = new ProcessBuilder(command)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        if (!process.waitFor(TOOL_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            fail(command.get(0) + " did not end within " + TOOL_TIMEOUT + "; stderr:\n" + Files.readString(err));
        }
        List<String> lines = Files.readAllLines(out, StandardCharsets.UTF_8);
        if (lines.isEmpty()) {
            fail(command.get(0) + " printed nothing (exit " + process.exitValue() + "); stderr:\n"
                    + Files.readString(err));
        }
        return lines;
    }

    /**
     * The one command line in the page's code blocks that starts with {@code program}, split into words as a shell
     * would (single quotes kept together, {@code \t} and {@code \n} inside them left for the program, as in a shell).
     */
    private static List<String> documented(String program) throws IOException {
        List<String> found = new ArrayList<>();
        boolean inCode = false;
        for (String line : Files.readAllLines(OPERATIONS, StandardCharsets.UTF_8)) {
            if (line.startsWith("```")) {
                inCode = !inCode;
            } else if (inCode && line.startsWith(program + " ")) {
                found.add(line);
            }
        }
        assertEquals(1, found.size(), "one " + program + " command expected in " + OPERATIONS + ": " + found);
        List<String> words = shellWords(found.get(0));
        return words.subList(1, words.size());
    }

    private static List<String> shellWords(String line) {
        List<String> words = new ArrayList<>();
        StringBuilder word = new StringBuilder();
        boolean quoted = false;
        boolean inWord = false;
        for (char c : line.toCharArray()) {
            if (c == '\'') {
                quoted = !quoted;
                inWord = true;
            } else if (Character.isWhitespace(c) && !quoted) {
                if (inWord) {
                    words.add(word.toString());
                    word.setLength(0);
                    inWord = false;
                }
            } else {
                word.append(c);
                inWord = true;
            }
        }
        if (inWord) {
            words.add(word.toString());
        }
        return words;
    }

    private static boolean onPath(String program) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String entry : path.split(java.io.File.pathSeparator)) {
            if (Files.isExecutable(Path.of(entry, program))) {
                return true;
            }
        }
        return false;
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("docs/operations.md"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException(
                    "no docs/operations.md above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }
}
