package dev.thoughtstream.testkit.process;

import dev.thoughtstream.testkit.Await;
import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One operating-system process started the way a container runtime starts one: a fixed command, exactly the
 * environment given (nothing inherited from the test JVM), its own working directory, standard output and error
 * appended to one log file. It can be killed with SIGKILL ({@link #kill9()}), stopped with SIGTERM
 * ({@link #stop(Duration)}) and started again with the same command and environment ({@link #restart()}), as a
 * restart policy would. Create it through {@link ProcessGroup}, which stops it at the end whatever happens.
 *
 * <p>Every incarnation's output goes to the same log file, each preceded by a marker line, so the log reads like
 * {@code docker logs} of a restarted container.
 */
public final class ManagedProcess {
    private static final Logger LOG = LoggerFactory.getLogger(ManagedProcess.class);

    /**
     * The exit status of a process ended by SIGKILL, as {@link Process#exitValue()} reports it on Linux and macOS:
     * 128 + signal 9 (the shell's convention, which the JDK follows for a process that died of a signal).
     */
    public static final int SIGKILL_EXIT = 128 + 9;
    /** Likewise for SIGTERM (15); a JVM that runs its shutdown hooks after SIGTERM exits with it too. */
    public static final int SIGTERM_EXIT = 128 + 15;

    private static final HttpClient HTTP =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    /** When a process counts as ready; checked by polling. */
    public interface Readiness {
        boolean isReady(ManagedProcess process);

        String describe();

        /** Ready once {@code url} answers 200 (a service's {@code /health/ready}). */
        static Readiness httpOk(URI url) {
            return new Readiness() {
                @Override
                public boolean isReady(ManagedProcess process) {
                    try {
                        HttpResponse<Void> response = HTTP.send(
                                HttpRequest.newBuilder(url)
                                        .timeout(Duration.ofSeconds(2))
                                        .GET()
                                        .build(),
                                HttpResponse.BodyHandlers.discarding());
                        return response.statusCode() == 200;
                    } catch (IOException e) {
                        // Not listening yet (or no longer): not ready.
                        return false;
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return false;
                    }
                }

                @Override
                public String describe() {
                    return "GET " + url + " to answer 200";
                }
            };
        }

        /** Ready once the current incarnation has printed a line starting with {@code prefix}. */
        static Readiness logLine(String prefix) {
            return new Readiness() {
                @Override
                public boolean isReady(ManagedProcess process) {
                    return process.lineStartingWith(prefix).isPresent();
                }

                @Override
                public String describe() {
                    return "a line starting with '" + prefix + "'";
                }
            };
        }
    }

    private final String name;
    private final List<String> command;
    private final Map<String, String> environment;
    private final Path workDir;
    private final Path logFile;
    private final Readiness readiness;
    private final Consumer<ProcessHandle> onStart;

    private Process process;
    private int incarnation;
    /** Where the current incarnation's output starts in the log file. */
    private long logOffset;

    private Instant startedAt;

    ManagedProcess(
            String name,
            List<String> command,
            Map<String, String> environment,
            Path workDir,
            Path logFile,
            Readiness readiness,
            Consumer<ProcessHandle> onStart) {
        this.name = Objects.requireNonNull(name, "name");
        this.command = List.copyOf(command);
        this.environment = Map.copyOf(environment);
        this.workDir = Objects.requireNonNull(workDir, "workDir");
        this.logFile = Objects.requireNonNull(logFile, "logFile");
        this.readiness = Objects.requireNonNull(readiness, "readiness");
        this.onStart = Objects.requireNonNull(onStart, "onStart");
    }

    /** {@code <java.home>/bin/java}: the JDK running the test, for child JVMs. */
    public static String javaExecutable() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    public String name() {
        return name;
    }

    /** The environment the process gets, exactly; the same on every restart. */
    public Map<String, String> environment() {
        return environment;
    }

    public Path logFile() {
        return logFile;
    }

    /** How many times it has been started. */
    public synchronized int incarnation() {
        return incarnation;
    }

    /** When the current incarnation was launched. */
    public synchronized Instant startedAt() {
        return startedAt;
    }

    public synchronized long pid() {
        requireStarted();
        return process.pid();
    }

    public synchronized boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** Launches the process; it must not be running. */
    synchronized ManagedProcess start() {
        if (isAlive()) {
            throw new IllegalStateException(name + " is already running (pid " + process.pid() + ")");
        }
        incarnation++;
        try {
            Files.createDirectories(workDir);
            Files.createDirectories(logFile.toAbsolutePath().getParent());
            Files.writeString(
                    logFile,
                    "----- " + name + " #" + incarnation + " starting at " + Instant.now() + ": "
                            + String.join(" ", command) + "\n",
                    StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
            logOffset = Files.size(logFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare " + workDir + " and " + logFile + " for " + name, e);
        }
        ProcessBuilder builder = new ProcessBuilder(command)
                .directory(workDir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectInput(ProcessBuilder.Redirect.from(nullDevice()));
        // A container sees only the variables its definition gives it: nothing of the test JVM's leaks in.
        builder.environment().clear();
        builder.environment().putAll(environment);
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name + ": " + String.join(" ", command), e);
        }
        startedAt = Instant.now();
        onStart.accept(process.toHandle());
        LOG.info("{} #{} started, pid {}, log {}", name, incarnation, process.pid(), logFile);
        return this;
    }

    /** Starts it again with the same command, environment and working directory; it must have exited. */
    public ManagedProcess restart() {
        return start();
    }

    /**
     * Waits until the process is ready.
     *
     * @throws AssertionError naming the process, with the tail of its log, when it exits first or the timeout
     *                        passes
     */
    public ManagedProcess awaitReady(Duration timeout) {
        Process current;
        synchronized (this) {
            requireStarted();
            current = process;
        }
        boolean ready;
        try {
            ready = Await.value(name + " to be ready (" + readiness.describe() + ")", timeout, () -> {
                if (readiness.isReady(this)) {
                    return Optional.of(Boolean.TRUE);
                }
                return current.isAlive() ? Optional.empty() : Optional.of(Boolean.FALSE);
            });
        } catch (AssertionError timedOut) {
            throw new AssertionError(
                    timedOut.getMessage() + "; " + name + "'s log ends with:\n" + logTail(40), timedOut);
        }
        if (!ready) {
            throw new AssertionError(name + " exited with " + current.exitValue() + " before it was ready; its log"
                    + " ends with:\n" + logTail(40));
        }
        return this;
    }

    /**
     * Ends the process with SIGKILL, as {@code kill -9} or {@code docker kill} does: no shutdown hook runs, nothing
     * is flushed or closed. Waits until it is gone.
     *
     * @throws IllegalStateException when it did not die of SIGKILL (it had exited already, or the platform's
     *                               {@link Process#destroyForcibly()} is not SIGKILL)
     */
    public void kill9() {
        Process current;
        synchronized (this) {
            requireStarted();
            current = process;
        }
        if (!current.isAlive()) {
            throw new IllegalStateException(name + " had already exited with " + current.exitValue()
                    + " before it was to be killed; its log ends with:\n" + logTail(40));
        }
        // On Linux and macOS the JDK implements destroyForcibly() as kill(pid, SIGKILL); the exit status checked
        // below proves it for this platform.
        current.descendants().forEach(ProcessHandle::destroyForcibly);
        current.destroyForcibly();
        int exit = waitFor(current, Duration.ofSeconds(30));
        if (exit != SIGKILL_EXIT) {
            throw new IllegalStateException(
                    name + " ended with exit status " + exit + ", not " + SIGKILL_EXIT + " (SIGKILL)");
        }
        LOG.info("{} #{} killed with SIGKILL (pid {})", name, incarnation(), current.pid());
    }

    /**
     * Stops the process with SIGTERM, as {@code docker stop} does, and after {@code grace} with SIGKILL.
     *
     * @return its exit status; nothing when it was not running
     */
    public Optional<Integer> stop(Duration grace) {
        Process current;
        synchronized (this) {
            current = process;
        }
        if (current == null) {
            return Optional.empty();
        }
        if (!current.isAlive()) {
            return Optional.of(current.exitValue());
        }
        current.destroy();
        try {
            if (!current.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                LOG.warn(
                        "{} (pid {}) did not stop within {} ms of SIGTERM; killing it",
                        name,
                        current.pid(),
                        grace.toMillis());
                current.descendants().forEach(ProcessHandle::destroyForcibly);
                current.destroyForcibly();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            current.destroyForcibly();
            throw new IllegalStateException("interrupted while stopping " + name, e);
        }
        return Optional.of(waitFor(current, Duration.ofSeconds(30)));
    }

    /** The exit status of the current incarnation once it has exited. */
    public synchronized Optional<Integer> exitValue() {
        return process == null || process.isAlive() ? Optional.empty() : Optional.of(process.exitValue());
    }

    /** The last {@code lines} lines of the log (every incarnation). */
    public String logTail(int lines) {
        try {
            if (!Files.exists(logFile)) {
                return "(no log yet)";
            }
            List<String> all = readLines(0);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (UncheckedIOException e) {
            return "(cannot read " + logFile + ": " + e.getMessage() + ")";
        }
    }

    /** The first line of the current incarnation's output that starts with {@code prefix}. */
    public Optional<String> lineStartingWith(String prefix) {
        long offset;
        synchronized (this) {
            offset = logOffset;
        }
        if (!Files.exists(logFile)) {
            return Optional.empty();
        }
        return readLines(offset).stream().filter(l -> l.startsWith(prefix)).findFirst();
    }

    @Override
    public String toString() {
        Map<String, String> sorted = new TreeMap<>(environment);
        return name + " " + command + " env " + sorted.keySet();
    }

    private List<String> readLines(long from) {
        try {
            byte[] bytes = Files.readAllBytes(logFile);
            int start = (int) Math.min(from, bytes.length);
            String text = new String(bytes, start, bytes.length - start, StandardCharsets.UTF_8);
            return new ArrayList<>(text.lines().toList());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private int waitFor(Process p, Duration timeout) {
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new IllegalStateException(name + " (pid " + p.pid() + ") still runs " + timeout.toSeconds()
                        + " s after it was signalled");
            }
            return p.exitValue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for " + name + " to exit", e);
        }
    }

    private void requireStarted() {
        if (process == null) {
            throw new IllegalStateException(name + " was never started");
        }
    }

    private static File nullDevice() {
        return new File(System.getProperty("os.name").startsWith("Windows") ? "NUL" : "/dev/null");
    }
}
