package dev.thoughtstream.emitter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.emitter.consume.EmitterFixture;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The emitter's entry point, run as its own JVM the way a container runs it. */
class MainTest {

    private record Exit(int code, String output) {}

    private static Exit runMain(Path workDir, Map<String, String> env) throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(
                        java.toString(), "-cp", System.getProperty("java.class.path"), Main.class.getName())
                .directory(workDir.toFile())
                .redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        // No .env from the working directory: only what the test says.
        pb.environment().put("DOTENV_FILE", workDir.resolve("absent.env").toString());
        pb.environment().put("HTTP_PORT", "0");
        pb.environment().putAll(env);
        Process process = pb.start();
        process.getOutputStream().close();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("Main did not exit within 60 s");
        }
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return new Exit(process.exitValue(), output);
    }

    @Test
    void anInvalidConfigurationIsPrintedNamingTheVariableAndExitsWithTwo(@TempDir Path dir)
            throws IOException, InterruptedException {
        // when the emitter starts with a typing maximum below its minimum
        Exit exit = runMain(
                dir,
                Map.of(
                        "TG_BOT_TOKEN",
                        EmitterFixture.TOKEN,
                        "KAFKA_BOOTSTRAP_SERVERS",
                        "127.0.0.1:1",
                        "TYPING_MIN_MS",
                        "500",
                        "TYPING_MAX_MS",
                        "100"));

        // then it says what is wrong and exits 2, without a stack trace and without the token
        assertEquals(2, exit.code(), exit.output());
        assertTrue(
                exit.output().contains("invalid configuration: TYPING_MAX_MS: must be >= TYPING_MIN_MS"),
                exit.output());
        assertFalse(exit.output().contains("\tat "), exit.output());
        assertFalse(exit.output().contains(EmitterFixture.TOKEN), exit.output());
    }

    @Test
    void aMissingTokenIsReportedByNameAndExitsWithTwo(@TempDir Path dir) throws IOException, InterruptedException {
        Exit exit = runMain(dir, Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"));

        assertEquals(2, exit.code(), exit.output());
        List<String> lines = exit.output()
                .lines()
                .filter(l -> l.contains("invalid configuration"))
                .toList();
        assertEquals(1, lines.size(), exit.output());
        assertTrue(lines.get(0).contains("TG_BOT_TOKEN: is required but not set"), exit.output());
    }
}
