package dev.thoughtstream.testkit.redis;

import dev.thoughtstream.testkit.Await;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real {@code redis-server} process on 127.0.0.1, started for tests and devstack: no persistence
 * ({@code --save "" --appendonly no}), its log in {@code redis.log} in the work directory. {@link #start} returns
 * once the server answers {@code PING}; {@link #close()} shuts it down and waits for the process to end.
 *
 * <p>The server runs in a session and process group of its own ({@code setsid}, where the system has it): a
 * terminal's Ctrl-C signals the whole foreground process group, and a server in the JVM's group would exit at once,
 * under services that still use it (connection resets, a poller lease that cannot be released). In its own group
 * only the JVM gets the signal, and its shutdown stops the services first and this server after them, through
 * {@link #close()}. Without {@code setsid} (macOS) the server shares the JVM's group, as before. Either way, a JVM
 * killed with SIGKILL leaves the server running; the next start in the same work directory (devstack's data
 * directory) stops it, found by the pid file the server writes there.
 */
public final class RedisServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RedisServer.class);

    public static final String INSTALL_HINT = "redis-server was not found on the PATH, in /usr/bin or in "
            + "/usr/local/bin. Install it (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis) "
            + "or set REDIS_URL to a running Redis (redis://host:port).";
    static final String LOG_FILE = "redis.log";
    /** Written by the server itself; names a server that outlived the JVM that started it. */
    static final String PID_FILE = "redis-server.pid";

    private static final List<Path> WELL_KNOWN_DIRS =
            List.of(Path.of("/usr/bin"), Path.of("/usr/local/bin"), Path.of("/opt/homebrew/bin"));
    /** util-linux's {@code setsid}: without {@code --fork} it execs the server in place, so the pid stays its own. */
    private static final List<Path> SETSID = List.of(Path.of("/usr/bin/setsid"), Path.of("/bin/setsid"));

    private static final Duration READY_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(10);
    private static final int START_ATTEMPTS = 3;

    private final Process process;
    private final int port;
    private final Path workDir;
    private final boolean ownsWorkDir;
    private final AtomicBoolean closed = new AtomicBoolean();

    private RedisServer(Process process, int port, Path workDir, boolean ownsWorkDir) {
        this.process = process;
        this.port = port;
        this.workDir = workDir;
        this.ownsWorkDir = ownsWorkDir;
    }

    /** The {@code redis-server} binary: the PATH first, then the usual install directories. */
    public static Optional<Path> findExecutable() {
        String path = System.getenv("PATH");
        Stream<Path> fromPath = path == null
                ? Stream.empty()
                : Stream.of(path.split(java.io.File.pathSeparator))
                        .filter(s -> !s.isBlank())
                        .map(Path::of);
        return Stream.concat(fromPath, WELL_KNOWN_DIRS.stream())
                .map(dir -> dir.resolve("redis-server"))
                .filter(p -> Files.isRegularFile(p) && Files.isExecutable(p))
                .findFirst();
    }

    /** {@code setsid}, where the system has one (Linux's util-linux; macOS has none). */
    static Optional<Path> findSetsid() {
        return SETSID.stream()
                .filter(p -> Files.isRegularFile(p) && Files.isExecutable(p))
                .findFirst();
    }

    /** Starts a server with its own temporary work directory, deleted on {@link #close()}. */
    public static RedisServer start(int port) {
        Path dir;
        try {
            dir = Files.createTempDirectory("thoughtstream-redis-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a work directory for redis-server", e);
        }
        try {
            return start(dir, port, true);
        } catch (RuntimeException e) {
            deleteRecursively(dir);
            throw e;
        }
    }

    /**
     * Starts a server working in {@code workDir} (kept on close).
     *
     * @param port the port on 127.0.0.1; 0 picks a free one
     * @throws IllegalStateException when redis-server is not installed ({@link #INSTALL_HINT}) or does not start
     */
    public static RedisServer start(Path workDir, int port) {
        return start(workDir, port, false);
    }

    private static RedisServer start(Path workDir, int requestedPort, boolean ownsWorkDir) {
        if (requestedPort < 0 || requestedPort > 65535) {
            throw new IllegalArgumentException("port must be in [0, 65535] but was " + requestedPort);
        }
        Path executable = findExecutable().orElseThrow(() -> new IllegalStateException(INSTALL_HINT));
        try {
            Files.createDirectories(workDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create " + workDir, e);
        }
        stopLeftover(workDir);
        for (int attempt = 1; ; attempt++) {
            int port = requestedPort != 0 ? requestedPort : freePort();
            if (requestedPort != 0 && !isFree(port)) {
                throw new IllegalStateException(
                        "cannot start redis-server on 127.0.0.1:" + port + ": the port is in use");
            }
            long started = System.nanoTime();
            Process process = launch(executable, workDir, port);
            Optional<Boolean> ready = awaitReady(process, port);
            if (ready.orElse(false)) {
                LOG.info(
                        "redis-server {} ready on 127.0.0.1:{} in {} ms (pid {}, work dir {})",
                        executable,
                        port,
                        (System.nanoTime() - started) / 1_000_000,
                        process.pid(),
                        workDir);
                return new RedisServer(process, port, workDir, ownsWorkDir);
            }
            stopProcess(process);
            String log = logTail(workDir);
            boolean portTaken = log.contains("Address already in use");
            if (portTaken && requestedPort == 0 && attempt < START_ATTEMPTS) {
                LOG.warn("redis-server lost port {} to another process; retrying on another port", port);
                continue;
            }
            throw new IllegalStateException("redis-server did not "
                    + (ready.isEmpty() ? "answer PING within " + READY_TIMEOUT.toSeconds() + " s" : "start")
                    + " on 127.0.0.1:" + port
                    + (portTaken ? " (port in use)" : "") + "; its log (" + workDir.resolve(LOG_FILE) + ") ends with:\n"
                    + log);
        }
    }

    private static Process launch(Path executable, Path workDir, int port) {
        List<String> command = new ArrayList<>();
        // No --fork: a child of the JVM is never a process-group leader, so setsid needs no fork and execs the
        // server in place; awaitReady checks that the pid answering PING is the one started.
        findSetsid().ifPresent(setsid -> command.add(setsid.toString()));
        command.addAll(List.of(
                executable.toString(),
                "--bind",
                "127.0.0.1",
                "--port",
                Integer.toString(port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workDir.toString(),
                "--daemonize",
                "no",
                "--logfile",
                "",
                "--pidfile",
                workDir.resolve(PID_FILE).toString()));
        ProcessBuilder pb = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(workDir.resolve(LOG_FILE).toFile());
        try {
            return pb.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + executable + ": " + e.getMessage(), e);
        }
    }

    /**
     * Stops the server an earlier run left in {@code workDir}: in a session of its own, it outlives a JVM killed
     * with SIGKILL. Only a live process whose executable is a redis one is signalled, not whatever reused the pid.
     */
    private static void stopLeftover(Path workDir) {
        Path pidFile = workDir.resolve(PID_FILE);
        Optional<ProcessHandle> leftover;
        try {
            leftover = Files.exists(pidFile)
                    ? ProcessHandle.of(Long.parseLong(Files.readString(pidFile).strip()))
                    : Optional.empty();
        } catch (IOException | NumberFormatException e) {
            LOG.warn("cannot read {} ({}); not looking for a leftover redis-server", pidFile, e.toString());
            return;
        }
        leftover.filter(ProcessHandle::isAlive)
                // Debian's redis-server is a link to redis-check-rdb, the name the process reports.
                .filter(p -> p.info().command().orElse("").contains("redis"))
                .ifPresent(p -> {
                    LOG.info("stopping redis-server pid {}, left running in {} by an earlier run", p.pid(), workDir);
                    p.destroy();
                    try {
                        p.onExit().get(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted while stopping redis-server pid " + p.pid(), e);
                    } catch (ExecutionException | TimeoutException e) {
                        LOG.warn("redis-server pid {} ignored SIGTERM ({}); killing it", p.pid(), e.toString());
                        p.destroyForcibly();
                    }
                });
        try {
            Files.deleteIfExists(pidFile);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + pidFile, e);
        }
    }

    /** Present true once PING answers, present false once the process died; empty on timeout. */
    private static Optional<Boolean> awaitReady(Process process, int port) {
        try {
            return Optional.of(Await.value("redis-server on port " + port + " to answer PING", READY_TIMEOUT, () -> {
                // Another server that grabbed the port between probe and bind would answer PING too.
                if (ping(port) && serverPid(port) == process.pid()) {
                    return Optional.of(Boolean.TRUE);
                }
                return process.isAlive() ? Optional.empty() : Optional.of(Boolean.FALSE);
            }));
        } catch (AssertionError timeout) {
            if (Thread.currentThread().isInterrupted()) {
                stopProcess(process);
                throw new IllegalStateException("interrupted while starting redis-server", timeout);
            }
            return Optional.empty();
        }
    }

    /** True when a server on {@code port} answers {@code PING} with {@code +PONG}. */
    static boolean ping(int port) {
        return "+PONG".equals(command(port, "PING"));
    }

    /** The {@code process_id} reported by {@code INFO server}, or -1. */
    static long serverPid(int port) {
        try (Socket socket = connect(port)) {
            socket.getOutputStream().write("INFO server\r\n".getBytes(StandardCharsets.US_ASCII));
            socket.getOutputStream().flush();
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                if (line.startsWith("process_id:")) {
                    return Long.parseLong(line.substring("process_id:".length()).strip());
                }
            }
            return -1;
        } catch (IOException | NumberFormatException e) {
            return -1;
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket socket = new Socket();
        try {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 500);
            socket.setSoTimeout(1000);
            return socket;
        } catch (IOException e) {
            socket.close();
            throw e;
        }
    }

    /** Sends one inline command and returns the first reply line, or null when nothing answered. */
    private static String command(int port, String command) {
        try (Socket socket = connect(port)) {
            OutputStream out = socket.getOutputStream();
            out.write((command + "\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in =
                    new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.US_ASCII));
            return in.readLine();
        } catch (IOException e) {
            return null;
        }
    }

    public int port() {
        return port;
    }

    /** {@code redis://127.0.0.1:<port>}. */
    public URI url() {
        return URI.create("redis://127.0.0.1:" + port);
    }

    public Path workDir() {
        return workDir;
    }

    /** The server's process id. */
    public long pid() {
        return process.pid();
    }

    /** Ends the server (SHUTDOWN NOSAVE, then a signal if it lingers) and waits for the process. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        // The connection drops without a reply when the server exits, so the answer is not checked.
        command(port, "SHUTDOWN NOSAVE");
        stopProcess(process);
        LOG.info(
                "redis-server on 127.0.0.1:{} stopped ({})",
                port,
                process.isAlive() ? "still exiting" : "exit code " + process.exitValue());
        if (ownsWorkDir) {
            deleteRecursively(workDir);
        }
    }

    private static void stopProcess(Process process) {
        try {
            if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                process.destroy();
                if (!process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
                    LOG.warn("redis-server pid {} ignored SIGTERM; killing it", process.pid());
                    process.destroyForcibly().waitFor();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    private static String logTail(Path workDir) {
        try {
            List<String> lines = Files.readAllLines(workDir.resolve(LOG_FILE), StandardCharsets.UTF_8);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort() == port;
        } catch (IOException e) {
            return false;
        }
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
        }
    }

    private static void deleteRecursively(Path path) {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warn("cannot delete redis work directory {}: {}", path, e.toString());
        }
    }
}
