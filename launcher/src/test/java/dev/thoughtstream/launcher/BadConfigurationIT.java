package dev.thoughtstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution as a user runs it ({@code java -jar thoughtstream.jar devstack}) with bad settings: one message
 * naming every bad variable, exit code 2, and nothing started in its working directory.
 */
class BadConfigurationIT {
    /** Only so that a hanging process fails the test instead of the build; not a bound on how fast it fails. */
    private static final long GIVE_UP_MINUTES = 5;

    @Test
    void devstackWithBadSettingsNamesThemAllAndExitsWith2BeforeStartingAnything(
            @TempDir Path workDir, @TempDir Path outDir) throws IOException, InterruptedException {
        // given the distribution, run with bad settings and nothing inherited, in an empty directory
        Path jar = Path.of(System.getProperty("thoughtstream.dist.dir", "target/thoughtstream"))
                .resolve("thoughtstream.jar")
                .toAbsolutePath();
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(java.toString(), "-jar", jar.toString(), "devstack");
        pb.environment().clear();
        pb.environment()
                .putAll(Map.of(
                        "TOPIC_PARTITIONS", "abc",
                        "LLM_PROVIDER", "foo",
                        "LOG_LEVEL", "LOUD",
                        "DOTENV_FILE", workDir.resolve("no.env").toString()));
        pb.directory(workDir.toFile());
        pb.redirectErrorStream(true);
        Path output = outDir.resolve("devstack.out");
        pb.redirectOutput(output.toFile());

        // when it runs
        Process process = pb.start();
        assertTrue(process.waitFor(GIVE_UP_MINUTES, TimeUnit.MINUTES), "devstack did not exit");
        String out = Files.readString(output, StandardCharsets.UTF_8);

        // then it exits with 2 and prints only the one message, naming the three variables
        assertEquals(2, process.exitValue(), out);
        assertEquals(
                List.of(
                        "invalid configuration, 3 variables to fix:",
                        "  LLM_PROVIDER: expected one of ollama | openai | scripted but was 'foo'",
                        "  LOG_LEVEL: expected one of off | fatal | error | warn | info | debug | trace | all but was"
                                + " 'LOUD'",
                        "  TOPIC_PARTITIONS: expected a whole number but was 'abc'"),
                out.lines().toList());
        // and it left nothing behind: no .devstack with a broker's or Redis's data
        try (Stream<Path> files = Files.list(workDir)) {
            assertEquals(List.of(), files.toList());
        }
    }
}
