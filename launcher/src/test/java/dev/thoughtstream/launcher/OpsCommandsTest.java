package dev.thoughtstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.chunker.ChunkerConfig;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.emitter.EmitterConfig;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.ScaleConfig;
import dev.thoughtstream.ops.OpsSettings;
import dev.thoughtstream.testkit.kafka.TestKafka;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The operators' commands as the launcher offers them: their help, their JSON, their configuration. */
class OpsCommandsTest {

    /** What a run printed, and its exit code. */
    private record Run(int code, String out, String err) {
        JsonNode json() throws Exception {
            return Json.mapper().readTree(out);
        }
    }

    private static Run run(Supplier<Config> config, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Thoughtstream.commandLine(config);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    private static Supplier<Config> broker(String prefix) {
        return () -> TestKafka.config(prefix, TestKafka.PARTITIONS);
    }

    @Test
    void helpListsTheOperatorCommandsAndTheirOptions() {
        Supplier<Config> none = () -> Config.of(Map.of());
        String top = run(none, "--help").out();
        for (String command : List.of("lag", "dlq", "trace", "replay")) {
            assertTrue(top.contains("  " + command + " "), command + " in:\n" + top);
        }
        String dlq = run(none, "dlq", "--help").out();
        for (String sub : List.of("list", "show", "redrive")) {
            assertTrue(dlq.contains("  " + sub + " "), sub + " in:\n" + dlq);
        }
        String redrive = run(none, "dlq", "redrive", "--help").out();
        assertTrue(redrive.contains("--reason") && redrive.contains("--dry-run"), redrive);
        String trace = run(none, "trace", "--help").out();
        assertTrue(trace.contains("--since") && trace.contains("--follow") && trace.contains("--json"), trace);
        // And the help names the variables the commands read
        assertTrue(trace.contains("KAFKA_BOOTSTRAP_SERVERS"), trace);
        assertTrue(trace.contains("LLM_GROUP_ID  [thoughtstream-llm]"), trace);
        String replay = run(none, "replay", "--help").out();
        for (String option : List.of(
                "--since", "--until", "--chats", "--provider", "--model", "--prompt-file", "--out", "--to-topic")) {
            assertTrue(replay.contains(option), option + " in:\n" + replay);
        }
        // replay builds the llm-processor's model, so its help names that stage's variables too
        assertTrue(replay.contains("LLM_PROVIDER") && replay.contains("SYSTEM_PROMPT_FILE"), replay);
    }

    @Test
    void withoutABrokerACommandFailsNamingTheVariable() {
        Run lag = run(() -> Config.of(Map.of()), "lag");

        assertEquals(OpsCommands.EXIT_CONFIG, lag.code());
        assertTrue(lag.err().contains("KAFKA_BOOTSTRAP_SERVERS"), lag.err());
    }

    @Test
    void jsonOutputParses() throws Exception {
        // Given the pipeline's topics on a broker, nothing written yet
        String prefix = TestKafka.uniquePrefix("ops-cli");
        TestKafka.createTopics(prefix);

        // When each command runs with --json, then its output is JSON of the documented shape
        Run lag = run(broker(prefix), "lag", "--json");
        assertEquals(0, lag.code(), lag.err());
        assertEquals(List.of("chunker", "llm-processor", "emitter"), stages(lag.json()));

        Run list = run(broker(prefix), "dlq", "list", "--json");
        assertEquals(0, list.code(), list.err());
        assertTrue(list.json().isArray() && list.json().isEmpty(), list.out());

        Run redrive = run(broker(prefix), "dlq", "redrive", "--dry-run", "--json");
        assertEquals(0, redrive.code(), redrive.err());
        assertTrue(redrive.json().get("dryRun").asBoolean(), redrive.out());

        Run trace = run(broker(prefix), "trace", "42", "--since", "1h", "--json");
        assertEquals(0, trace.code(), trace.err());
        assertEquals(42, trace.json().get("chatId").asLong(), trace.out());

        // And a dead letter that is not there is a failure, said plainly
        Run show = run(broker(prefix), "dlq", "show", "0:5");
        assertEquals(OpsCommands.EXIT_FAILED, show.code());
        assertTrue(show.err().contains("no dead letter at 0:5"), show.err());
    }

    @Test
    void withoutGroupVariablesTheCommandsLookAtTheGroupsTheStagesUse() {
        // Given an environment that sets none of the group variables
        Config config = Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"));

        // When the commands and the stages read it
        OpsSettings ops = OpsSettings.from(config);
        LlmConfig llm = LlmConfig.from(config);

        // Then the commands look at the groups the stages join
        assertEquals(ChunkerConfig.from(config).applicationId(), ops.chunkerGroup());
        assertEquals(llm.groupId(), ops.llmGroup());
        assertEquals(llm.scale().mode() != ScaleConfig.Mode.GROUP, ops.llmShare());
        assertEquals(EmitterConfig.Consumer.from(config).groupId(), ops.emitterGroup());
    }

    @Test
    void everyVariableTheCommandsReadIsInTheirHelp() {
        // Given the variables the commands read
        Set<String> read = new TreeSet<>();
        OpsSettings.from(
                Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "localhost:9092")).observed(read::add));
        read.removeAll(ServiceVariables.UNDOCUMENTED_BY_DESIGN);

        // Then the README documents each for them, and its operator section lists only what they read
        VariableDocs docs = VariableDocs.load();
        Set<String> documented = new TreeSet<>();
        VariableDocs.sectionsOf("ops").forEach(s -> docs.rows(s).forEach(r -> documented.addAll(r.names())));
        Set<String> undocumented = new TreeSet<>(read);
        undocumented.removeAll(documented);
        assertTrue(undocumented.isEmpty(), "read but not documented: " + undocumented);
        Set<String> own = new TreeSet<>();
        docs.rows("Operator commands").forEach(r -> own.addAll(r.names()));
        assertEquals(new TreeSet<>(OpsSettings.GROUP_VARIABLES), own);
        assertTrue(read.containsAll(own), read.toString());
    }

    private static List<String> stages(JsonNode report) {
        return java.util.stream.StreamSupport.stream(report.spliterator(), false)
                .map(n -> n.get("stage").asText())
                .toList();
    }
}
