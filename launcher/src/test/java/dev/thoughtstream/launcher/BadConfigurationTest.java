package dev.thoughtstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The launcher's commands refuse bad settings before they start anything: exit code 2 and every bad variable named.
 */
class BadConfigurationTest {

    /** What a run printed (picocli's streams and the process's standard error), and its exit code. */
    private record Run(int code, String out, String err) {}

    private static Run run(Supplier<Config> config, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Thoughtstream.commandLine(config);
        cl.setOut(new PrintWriter(out, true));
        cl.setErr(new PrintWriter(err, true));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }

    /** A run of devstack, which writes its error to the process's standard error. */
    private static Run runDevstack(Supplier<Config> config) {
        ByteArrayOutputStream stderr = new ByteArrayOutputStream();
        PrintStream before = System.err;
        System.setErr(new PrintStream(stderr, true, StandardCharsets.UTF_8));
        try {
            Run run = run(config, "devstack");
            return new Run(run.code(), run.out(), run.err() + stderr.toString(StandardCharsets.UTF_8));
        } finally {
            System.setErr(before);
        }
    }

    @Test
    void devstackNamesEveryBadVariableOfEveryServiceAndStartsNothing(@TempDir Path tmp) {
        // given devstack's data directory, and bad values for the shared settings, the model and the logging
        Path dataDir = tmp.resolve("devstack");
        Config config = Config.of(Map.of(
                "DEVSTACK_DATA_DIR", dataDir.toString(),
                "TOPIC_PARTITIONS", "abc",
                "LLM_PROVIDER", "foo",
                "LOG_LEVEL", "LOUD"));

        // when `thoughtstream devstack` runs
        Run run = runDevstack(() -> config);

        // then it exits with the configuration code, naming the three variables in one error, and started nothing
        assertEquals(2, run.code(), run.toString());
        assertTrue(run.err().startsWith("invalid configuration, 3 variables to fix:"), run.toString());
        for (String variable : new String[] {"TOPIC_PARTITIONS", "LLM_PROVIDER", "LOG_LEVEL"}) {
            assertTrue(run.err().contains("\n  " + variable + ": "), variable + " in:\n" + run.err());
        }
        assertFalse(Files.exists(dataDir), "devstack created its data directory");
    }

    @Test
    void anOperatorsCommandNamesEveryBadVariableIncludingTheLogLevel() {
        Config config = Config.of(
                Map.of("KAFKA_BOOTSTRAP_SERVERS", "kafka.invalid:9092", "LOG_LEVEL", "LOUD", "LLM_MODE", "both"));

        Run run = run(() -> config, "lag");

        assertEquals(2, run.code(), run.toString());
        assertTrue(
                run.err().contains("  LLM_MODE: expected one of share | group | auto but was 'both'"), run.toString());
        assertTrue(run.err().contains("  LOG_LEVEL: expected one of off | fatal"), run.toString());
    }

    @Test
    void theEmulatorAndEveryServiceRefuseAnUnknownLogLevel() {
        Config config = Config.of(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "kafka.invalid:9092",
                "TG_BOT_TOKEN", "123456:ABCdef",
                "HTTP_PORT", "0",
                "LOG_LEVEL", "LOUD"));

        for (String command : new String[] {"emulator", "ingest", "chunker", "llm-processor", "emitter"}) {
            assertEquals(2, run(() -> config, command).code(), command);
        }
    }

    @Test
    void anUnreadableDotenvLineIsInvalidConfigurationNotACrash(@TempDir Path tmp) throws IOException {
        // given a .env file with a line that is not NAME=value
        Path dotenv = tmp.resolve(".env");
        Files.writeString(dotenv, "TOPIC_PARTITIONS=3\nthis is not a setting\n");

        Run run = run(() -> Config.load(Map.of(), dotenv), "devstack");

        assertEquals(2, run.code(), run.toString());
        assertTrue(run.err().startsWith("invalid configuration: DOTENV_FILE: "), run.toString());
        assertTrue(run.err().contains("line 2 is not NAME=value"), run.toString());
    }
}
