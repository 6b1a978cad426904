package dev.thoughtstream.testkit.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A service's {@code Main} in a child JVM, the way it is deployed: configuration from the environment only (nothing
 * inherited, no {@code .env}), the test's classpath, console output to a log file under {@code target/logs} (kept for
 * a failed run). {@link #kill} ends it the way {@code kill -9} does; {@link #close()} kills it if it is still running.
 */
public final class ServiceProcess implements AutoCloseable {
    /** 128 + 9: how a JVM ended by SIGKILL exits. */
    public static final int EXIT_KILLED = 137;

    private final Process process;
    private final Path log;
    private final String name;

    private ServiceProcess(Process process, Path log, String name) {
        this.process = process;
        this.log = log;
        this.name = name;
    }

    /**
     * Starts {@code main} with exactly {@code environment} (plus {@code PATH}) in {@code workDir}, writing its
     * console to {@code logName} in the module's log directory.
     */
    public static ServiceProcess start(Class<?> main, Map<String, String> environment, Path workDir, String logName) {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> command = new ArrayList<>(List.of(
                java.toString(),
                "-Xmx256m",
                "-XX:+UseSerialGC",
                "-XX:TieredStopAtLevel=1",
                "--enable-native-access=ALL-UNNAMED",
                "-cp",
                System.getProperty("java.class.path"),
                main.getName()));
        ProcessBuilder pb =
                new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
        pb.environment().clear();
        pb.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        // No .env from the working directory: only what the test says.
        pb.environment().put("DOTENV_FILE", workDir.resolve("absent.env").toString());
        // Several children run side by side with the test JVM: no fixed metrics port.
        pb.environment().put("HTTP_PORT", "0");
        pb.environment().putAll(environment);
        Path log = Path.of(System.getProperty("thoughtstream.log.dir", "target/logs"))
                .resolve(logName);
        try {
            Files.createDirectories(log.getParent());
            pb.redirectOutput(log.toFile());
            Process process = pb.start();
            process.getOutputStream().close();
            return new ServiceProcess(process, log, main.getName());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + main.getName() + " in a child JVM", e);
        }
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /**
     * Kills the JVM the way {@code kill -9} does and waits until it is gone; returns its exit status. On Linux
     * {@link Process#destroyForcibly()} sends SIGKILL: no shutdown hook, no flush, no commit, no leaving the
     * consumer group.
     */
    public int kill(Duration timeout) throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError(name + " did not die within " + timeout);
        }
        return process.exitValue();
    }

    /** Everything the child printed so far. */
    public String output() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + log, e);
        }
    }

    /** For failure messages: where the output is, and its last lines. */
    public String describe() {
        List<String> lines = output().lines().toList();
        return name + " JVM " + (isAlive() ? "running" : "exited " + process.exitValue()) + ", output in " + log
                + ", last lines:\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                if (!process.waitFor(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException(name + " did not die within 30 s of SIGKILL: " + log);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + name + " to die", e);
            }
        }
    }
}
