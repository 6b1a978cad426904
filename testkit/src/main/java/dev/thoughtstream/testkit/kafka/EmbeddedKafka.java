package dev.thoughtstream.testkit.kafka;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.common.utils.Exit;
import org.apache.kafka.common.utils.Time;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka (KRaft, combined broker and controller) running inside this JVM from Apache Kafka's
 * own server classes. The data directory is formatted once ({@code kafka-storage format --standalone}) with the
 * production feature levels of this Kafka release, so transactions ({@code exactly_once_v2}) and share groups
 * work. A data directory that is already formatted is reused as it is, which is how devstack keeps its topics
 * across restarts.
 *
 * <p>Both listeners bind to 127.0.0.1 only. The standalone format records the controller's endpoint in the
 * KRaft voter set. A restart on another controller port works (Kafka 4.3 updates the single voter's endpoint
 * itself; the tests prove it), but the port is still remembered in {@value #STATE_FILE} inside the data
 * directory and reused when free, so a restarted broker looks like the one before.
 *
 * <p>Kafka's fatal-fault handler would halt the JVM (the test runner or devstack with it). While any embedded
 * broker runs, Kafka's {@link Exit} procedures are replaced by ones that log at ERROR and throw instead (in the
 * thread that hit the fault); the affected broker should then be closed.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

    /** Remembers the controller port of a data directory (see the class comment). */
    public static final String STATE_FILE = "embedded-kafka.properties";

    static final String LOG_DIR = "kafka-logs";
    private static final String CONFIG_FILE = "server.properties";
    private static final String CONTROLLER_PORT = "controller.port";
    private static final int NODE_ID = 1;
    private static final int START_ATTEMPTS = 5;

    private static final Object EXIT_LOCK = new Object();
    private static int runningBrokers;

    private final KafkaRaftServer server;
    private final Path dataDir;
    private final int brokerPort;
    private final int controllerPort;
    private final AtomicBoolean closed = new AtomicBoolean();

    private EmbeddedKafka(KafkaRaftServer server, Path dataDir, int brokerPort, int controllerPort) {
        this.server = server;
        this.dataDir = dataDir;
        this.brokerPort = brokerPort;
        this.controllerPort = controllerPort;
    }

    /**
     * Starts a broker on {@code dataDir}, formatting it first when it holds no formatted log directory.
     *
     * @param brokerPort the client port on 127.0.0.1; 0 picks a free one
     * @throws IllegalStateException when the broker cannot start (the message says why)
     */
    public static EmbeddedKafka start(Path dataDir, int brokerPort) {
        if (brokerPort < 0 || brokerPort > 65535) {
            throw new IllegalArgumentException("brokerPort must be in [0, 65535] but was " + brokerPort);
        }
        Path dir = dataDir.toAbsolutePath();
        Path logDir = dir.resolve(LOG_DIR);
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create Kafka data directory " + dir, e);
        }
        long started = System.nanoTime();
        boolean reused = Files.isRegularFile(logDir.resolve("meta.properties"));
        Properties state = readState(dir);
        installExitGuard();
        try {
            boolean formatted = reused;
            RuntimeException lastFailure = null;
            for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
                int controllerPort = controllerPort(state, attempt);
                int port = brokerPort != 0 ? brokerPort : freePort();
                Properties props = serverProperties(logDir, port, controllerPort);
                if (!formatted) {
                    format(dir, props);
                    formatted = true;
                }
                try {
                    KafkaRaftServer server = startServer(props);
                    state.setProperty(CONTROLLER_PORT, Integer.toString(controllerPort));
                    writeState(dir, state);
                    EmbeddedKafka kafka = new EmbeddedKafka(server, dir, port, controllerPort);
                    LOG.info(
                            "Kafka {} started in {} ms on {} (controller port {}, data in {}, {})",
                            AppInfoParser.getVersion(),
                            (System.nanoTime() - started) / 1_000_000,
                            kafka.bootstrapServers(),
                            controllerPort,
                            dir,
                            reused ? "reused" : "newly formatted");
                    return kafka;
                } catch (RuntimeException e) {
                    lastFailure = e;
                    if (brokerPort != 0 && !isFree(brokerPort)) {
                        throw new IllegalStateException(
                                "Kafka cannot listen on 127.0.0.1:" + brokerPort
                                        + ": the port is in use (another broker or devstack still running?)",
                                e);
                    }
                    // A bind failure of the controller reaches us as a refused halt (see refuseExit), so a
                    // clash is recognised by the port being held by someone else now that our server is down.
                    boolean portClash = isBindFailure(e) || !isFree(controllerPort) || !isFree(port);
                    if (!portClash) {
                        throw new IllegalStateException(
                                "Kafka failed to start on 127.0.0.1:" + port
                                        + " (controller port " + controllerPort + ", data in " + dir + "): "
                                        + e.getMessage()
                                        + "; Kafka's own error is in the log",
                                e);
                    }
                    LOG.warn(
                            "Kafka start attempt {} on ports {}/{} hit a port taken in the meantime; retrying on "
                                    + "other ports: {}",
                            attempt,
                            port,
                            controllerPort,
                            e.toString());
                }
            }
            throw new IllegalStateException(
                    "Kafka could not bind free ports on 127.0.0.1 after " + START_ATTEMPTS + " attempts (data in " + dir
                            + ")",
                    lastFailure);
        } catch (RuntimeException e) {
            releaseExitGuard();
            throw e;
        }
    }

    /** The remembered controller port while it is free (Kafka accepts a new one, see the class comment). */
    private static int controllerPort(Properties state, int attempt) {
        String remembered = state.getProperty(CONTROLLER_PORT);
        if (attempt == 1 && remembered != null) {
            int port = Integer.parseInt(remembered);
            if (isFree(port)) {
                return port;
            }
            LOG.info("controller port {} of the last run is taken; the controller moves to another port", port);
        }
        return freePort();
    }

    /** {@code 127.0.0.1:<port>}, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return "127.0.0.1:" + brokerPort;
    }

    public int brokerPort() {
        return brokerPort;
    }

    public int controllerPort() {
        return controllerPort;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Shuts the broker down cleanly and waits for its threads; the data directory stays. Idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        long started = System.nanoTime();
        try {
            server.shutdown();
            server.awaitShutdown();
            LOG.info("Kafka on {} stopped in {} ms", bootstrapServers(), (System.nanoTime() - started) / 1_000_000);
        } finally {
            releaseExitGuard();
        }
    }

    static Properties serverProperties(Path logDir, int brokerPort, int controllerPort) {
        Map<String, String> p = new TreeMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(NODE_ID));
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + brokerPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + brokerPort);
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("controller.listener.names", "CONTROLLER");
        p.put("controller.quorum.bootstrap.servers", "127.0.0.1:" + controllerPort);
        p.put("log.dirs", logDir.toString());

        // One node: every internal topic has one replica, and EOS needs min ISR 1 on the transaction log.
        p.put("offsets.topic.replication.factor", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("default.replication.factor", "1");
        p.put("min.insync.replicas", "1");
        // Groups start at once instead of waiting 3 s for more members that a test never brings.
        p.put("group.initial.rebalance.delay.ms", "0");
        // Consumer, share and Streams group protocols: members learn of assignments on their heartbeat, and a
        // crashed member is noticed after the session timeout; the production defaults (5 s, 45 s) make every
        // rebalance in a test or on a laptop slow.
        for (String protocol : new String[] {"consumer", "share", "streams"}) {
            p.put("group." + protocol + ".heartbeat.interval.ms", "1000");
            p.put("group." + protocol + ".min.heartbeat.interval.ms", "500");
            p.put("group." + protocol + ".session.timeout.ms", "10000");
            p.put("group." + protocol + ".min.session.timeout.ms", "2000");
        }
        // A share group may set an acquisition lock as short as 1 s (production brokers refuse below 15 s), so a
        // test can outlast a lock with a generation of seconds rather than half a minute. The default lock stays 30 s.
        p.put("group.share.min.record.lock.duration.ms", "1000");
        // Fewer internal partitions: creating 50 of each on first use costs seconds on a laptop.
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.num.partitions", "5");
        p.put("share.coordinator.state.topic.num.partitions", "5");

        // Like a production cluster: a topic nobody created is an error, not a silent auto-creation.
        p.put("auto.create.topics.enable", "false");
        p.put("unstable.api.versions.enable", "false");
        p.put("unstable.feature.versions.enable", "false");

        // Laptop-sized: small segments and indexes, one day of retention, a small cleaner buffer, few threads.
        p.put("log.segment.bytes", Integer.toString(8 * 1024 * 1024));
        p.put("log.index.size.max.bytes", Integer.toString(1024 * 1024));
        p.put("log.retention.hours", "24");
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(8 * 1024 * 1024));
        p.put("log.cleaner.threads", "1");
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "4");
        p.put("background.threads", "2");
        p.put("num.recovery.threads.per.data.dir", "1");
        p.put("num.replica.fetchers", "1");

        Properties props = new Properties();
        props.putAll(p);
        return props;
    }

    private static void format(Path dir, Properties props) {
        Path configFile = dir.resolve(CONFIG_FILE);
        try (OutputStream out = Files.newOutputStream(configFile)) {
            props.store(out, "written by EmbeddedKafka for kafka-storage format; the broker gets the same settings");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + configFile, e);
        }
        String clusterId = Uuid.randomUuid().toString();
        while (clusterId.startsWith("-")) {
            // argparse would read a leading '-' as an option.
            clusterId = Uuid.randomUuid().toString();
        }
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        int status;
        try (PrintStream ps = new PrintStream(output, true, StandardCharsets.UTF_8)) {
            status = StorageTool.execute(
                    new String[] {"format", "--standalone", "-t", clusterId, "-c", configFile.toString()}, ps);
        } catch (Exception e) {
            throw new IllegalStateException(
                    "kafka-storage format of " + dir + " failed: " + e.getMessage() + " "
                            + output.toString(StandardCharsets.UTF_8).strip(),
                    e);
        }
        if (status != 0) {
            throw new IllegalStateException("kafka-storage format of " + dir + " exited with " + status + ": "
                    + output.toString(StandardCharsets.UTF_8).strip());
        }
        LOG.debug(
                "formatted {} as cluster {}: {}",
                dir,
                clusterId,
                output.toString(StandardCharsets.UTF_8).strip());
    }

    private static KafkaRaftServer startServer(Properties props) {
        KafkaRaftServer server = new KafkaRaftServer(KafkaConfig.fromProps(props, false), Time.SYSTEM);
        try {
            // Returns once the broker is registered and unfenced, i.e. ready for clients.
            server.startup();
            return server;
        } catch (RuntimeException e) {
            try {
                server.shutdown();
                server.awaitShutdown();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            throw e;
        }
    }

    static boolean isBindFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof BindException
                    || (t.getMessage() != null && t.getMessage().contains("Address already in use"))) {
                return true;
            }
            for (Throwable s : t.getSuppressed()) {
                if (isBindFailure(s)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort() == port;
        } catch (IOException e) {
            return false;
        }
    }

    /** A port that was free a moment ago; another process may still take it, hence the retries above. */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
        }
    }

    private static Properties readState(Path dir) {
        Properties state = new Properties();
        Path file = dir.resolve(STATE_FILE);
        if (Files.isRegularFile(file)) {
            try (InputStream in = Files.newInputStream(file)) {
                state.load(in);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
        }
        return state;
    }

    private static void writeState(Path dir, Properties state) {
        Path file = dir.resolve(STATE_FILE);
        try (OutputStream out = Files.newOutputStream(file)) {
            state.store(out, "EmbeddedKafka: the controller port last used with this data directory");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + file, e);
        }
    }

    static void deleteRecursively(Path path) {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot delete " + path, e);
        }
    }

    private static void installExitGuard() {
        synchronized (EXIT_LOCK) {
            if (runningBrokers++ == 0) {
                Exit.setExitProcedure((status, message) -> refuseExit("exit", status, message));
                Exit.setHaltProcedure((status, message) -> refuseExit("halt", status, message));
            }
        }
    }

    private static void releaseExitGuard() {
        synchronized (EXIT_LOCK) {
            if (--runningBrokers == 0) {
                Exit.resetExitProcedure();
                Exit.resetHaltProcedure();
            }
        }
    }

    private static void refuseExit(String kind, int status, String message) {
        String fault =
                "Kafka asked to " + kind + " the JVM with status " + status + (message == null ? "" : ": " + message);
        LOG.error("{}; refused because Kafka runs embedded in this JVM. The failing broker should be closed.", fault);
        throw new IllegalStateException(fault + " (refused by EmbeddedKafka)");
    }
}
