package dev.thoughtstream.testkit.process;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The processes of one test, started like the services of a compose file: each with an exact environment, its own
 * working directory under {@code baseDir} and its log in {@code baseDir/logs/<name>.log}. {@link #close()} stops
 * every one of them (SIGTERM, then SIGKILL), in the reverse order of their start, and closes the other resources
 * handed to {@link #closeAtEnd(AutoCloseable)}; a JVM shutdown hook does the same if the test JVM ends first
 * (a killed build, a timeout), so nothing is left running either way.
 *
 * <pre>{@code
 * try (ProcessGroup group = new ProcessGroup(dir)) {
 *     ManagedProcess emitter = group.start("emitter", List.of(java, "-jar", jar, "emitter"), env,
 *             Readiness.httpOk(URI.create("http://127.0.0.1:" + port + "/health/ready")));
 *     emitter.awaitReady(Duration.ofSeconds(60));
 *     group.explainingFailures(() -> ...assertions...);   // a failure carries every log's tail
 * }
 * }</pre>
 */
public final class ProcessGroup implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ProcessGroup.class);
    private static final Duration STOP_GRACE = Duration.ofSeconds(20);
    private static final Duration HOOK_GRACE = Duration.ofSeconds(5);
    private static final int TAIL_LINES = 30;
    /** Every process started in {@code baseDir}: its pid and start time, one a line. */
    static final String PID_FILE = "processes.pid";

    private final Path baseDir;
    private final Map<String, ManagedProcess> processes = new LinkedHashMap<>();
    private final Deque<AutoCloseable> resources = new ArrayDeque<>();
    private final Thread shutdownHook;
    private boolean closed;

    public ProcessGroup(Path baseDir) {
        this.baseDir = baseDir.toAbsolutePath();
        reapLeftovers(this.baseDir.resolve(PID_FILE));
        this.shutdownHook = new Thread(this::stopAllOnExit, "process-group-shutdown");
        Runtime.getRuntime().addShutdownHook(shutdownHook);
    }

    /** Where the processes' working directories and logs are. */
    public Path baseDir() {
        return baseDir;
    }

    /**
     * Starts a process named {@code name} (unique in the group) in {@code baseDir/<name>} with exactly
     * {@code environment}; returns without waiting for readiness.
     */
    public synchronized ManagedProcess start(
            String name, List<String> command, Map<String, String> environment, ManagedProcess.Readiness readiness) {
        if (closed) {
            throw new IllegalStateException("the process group is closed");
        }
        if (processes.containsKey(name)) {
            throw new IllegalArgumentException("a process named " + name + " is already in the group");
        }
        ManagedProcess process = new ManagedProcess(
                name,
                command,
                environment,
                baseDir.resolve(name),
                baseDir.resolve("logs").resolve(name + ".log"),
                readiness,
                this::remember);
        processes.put(name, process);
        return process.start();
    }

    /**
     * Records a started process, so that a later group in the same directory can end it if this JVM was killed
     * (SIGKILL runs no shutdown hook) and left it running.
     */
    private void remember(ProcessHandle process) {
        long started = process.info().startInstant().map(Instant::toEpochMilli).orElse(-1L);
        try {
            Files.createDirectories(baseDir);
            Files.writeString(
                    baseDir.resolve(PID_FILE),
                    process.pid() + " " + started + "\n",
                    StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot record pid " + process.pid() + " in " + baseDir, e);
        }
    }

    /** Ends the processes an earlier group recorded that still run (the same pid and start time: not a reuse). */
    private static void reapLeftovers(Path pidFile) {
        if (!Files.exists(pidFile)) {
            return;
        }
        try {
            for (String line : Files.readAllLines(pidFile)) {
                String[] parts = line.strip().split(" ");
                if (parts.length != 2) {
                    continue;
                }
                long started = Long.parseLong(parts[1]);
                ProcessHandle.of(Long.parseLong(parts[0]))
                        .filter(h -> started >= 0
                                && h.info()
                                        .startInstant()
                                        .map(i -> i.toEpochMilli() == started)
                                        .orElse(false))
                        .ifPresent(h -> {
                            LOG.warn(
                                    "ending pid {} left running by an earlier run in {}: {}",
                                    h.pid(),
                                    pidFile.getParent(),
                                    h.info().commandLine().orElse("?"));
                            h.destroyForcibly();
                        });
            }
            Files.delete(pidFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + pidFile, e);
        }
    }

    /** Closes {@code resource} when the group closes (before the processes started earlier). */
    public synchronized <T extends AutoCloseable> T closeAtEnd(T resource) {
        resources.push(Objects.requireNonNull(resource, "resource"));
        return resource;
    }

    public synchronized ManagedProcess get(String name) {
        ManagedProcess p = processes.get(name);
        if (p == null) {
            throw new IllegalArgumentException("no process named " + name + " in the group");
        }
        return p;
    }

    /** The tail of every process's log, for a failure message. */
    public String logTails() {
        List<ManagedProcess> all;
        synchronized (this) {
            all = new ArrayList<>(processes.values());
        }
        StringBuilder out = new StringBuilder();
        for (ManagedProcess p : all) {
            out.append("\n===== ")
                    .append(p.name())
                    .append(" (")
                    .append(p.logFile())
                    .append(", ")
                    .append(
                            p.isAlive()
                                    ? "running"
                                    : "exited "
                                            + p.exitValue().map(String::valueOf).orElse("-"))
                    .append("), last ")
                    .append(TAIL_LINES)
                    .append(" lines:\n")
                    .append(p.logTail(TAIL_LINES))
                    .append('\n');
        }
        return out.toString();
    }

    /** What a test does while its processes run; may throw anything. */
    @FunctionalInterface
    public interface Steps {
        void run() throws Exception;
    }

    /**
     * Runs {@code steps}; a failure is rethrown as an {@link AssertionError} whose message ends with the tail of
     * every process's log, so a failed run explains itself in the test report.
     */
    public void explainingFailures(Steps steps) {
        try {
            steps.run();
        } catch (AssertionError | Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new AssertionError(e.getMessage() + "\n\nThe processes' logs end with:" + logTails(), e);
        }
    }

    /** A free port on the loopback interface a moment ago (for a process that is told its port). */
    public static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
        }
    }

    /** Stops every process (latest first) and closes every resource; idempotent. */
    @Override
    public void close() {
        List<Object> toStop;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toStop = stopOrder();
        }
        RuntimeException failure = null;
        for (Object o : toStop) {
            try {
                if (o instanceof ManagedProcess p) {
                    p.stop(STOP_GRACE).ifPresent(code -> LOG.info("{} stopped, exit status {}", p.name(), code));
                } else {
                    ((AutoCloseable) o).close();
                }
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                if (failure == null) {
                    failure = new IllegalStateException("stopping the process group failed", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException shuttingDown) {
            // The JVM is already exiting and runs the hook itself, which finds everything stopped.
            LOG.debug("JVM shutting down; the hook stays", shuttingDown);
        }
        if (failure != null) {
            throw failure;
        }
    }

    /** The processes and resources in the reverse order of their registration (by start time, approximately). */
    private List<Object> stopOrder() {
        List<Object> order = new ArrayList<>();
        List<ManagedProcess> started = new ArrayList<>(processes.values());
        for (int i = started.size() - 1; i >= 0; i--) {
            order.add(started.get(i));
        }
        // Resources (a redis-server, ...) were typically created before the services that use them: last.
        order.addAll(resources);
        return order;
    }

    /** The JVM is exiting with processes still running: SIGTERM to all at once, then SIGKILL to the lingering. */
    private void stopAllOnExit() {
        List<Object> toStop;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            toStop = stopOrder();
        }
        List<ProcessHandle> alive = new ArrayList<>();
        for (Object o : toStop) {
            if (o instanceof ManagedProcess p && p.isAlive()) {
                ProcessHandle h = ProcessHandle.of(p.pid()).orElse(null);
                if (h != null) {
                    h.destroy();
                    alive.add(h);
                }
            }
        }
        long deadline = System.nanoTime() + HOOK_GRACE.toNanos();
        for (ProcessHandle h : alive) {
            try {
                long left = Math.max(0, deadline - System.nanoTime());
                h.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                h.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                h.destroyForcibly();
            } catch (ExecutionException e) {
                h.destroyForcibly();
            }
        }
        for (Object o : toStop) {
            if (o instanceof AutoCloseable c) {
                try {
                    c.close();
                } catch (Exception e) {
                    // The JVM is exiting: report and go on with the rest.
                    System.err.println("process group: closing " + c + " on exit failed: " + e);
                }
            }
        }
    }
}
