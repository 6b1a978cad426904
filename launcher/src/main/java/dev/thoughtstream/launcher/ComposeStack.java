package dev.thoughtstream.launcher;

import dev.thoughtstream.devstack.DevStack;
import dev.thoughtstream.testkit.kafka.KafkaBrokerMain;
import dev.thoughtstream.testkit.process.ManagedProcess;
import dev.thoughtstream.testkit.process.ManagedProcess.Readiness;
import dev.thoughtstream.testkit.process.ProcessGroup;
import dev.thoughtstream.testkit.redis.RedisServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The built distribution run as separate operating-system processes, each with the environment
 * {@code docker-compose.yml} gives its container: a Kafka broker process ({@link KafkaBrokerMain}), a
 * redis-server, the Telegram emulator ({@code thoughtstream emulator}) and the four services
 * ({@code java -jar thoughtstream.jar <service>}). The process tests and the fault suite ({@code bench faults})
 * start it, kill and restart its parts, and talk to the emulator's control API.
 *
 * <p>The environments are the compose file's, interpolated from the project's {@code .env} the way compose does,
 * with {@code .env.example} as that {@code .env} (its default is the offline setup). Only the addresses are changed
 * (the broker, Redis and the emulator are processes on this host, not containers named {@code kafka},
 * {@code redis}, {@code emulator}), plus what sharing one host and a quick run need: an {@code HTTP_PORT} per
 * process, a {@code HOSTNAME} per process as Docker would give, a short {@code CHUNK_GAP_MS}, no typing delays
 * and no per-chat rate limit (both would only add to every latency), a fresh state directory for the chunker, and
 * whatever the caller adds per service. The topics are created by the services (compose's one-shot
 * {@code kafka-setup} is not run), with the compose file's {@code TOPIC_PARTITIONS}.
 *
 * <p>The broker listens on a port fixed at the start and keeps its data directory, and Redis keeps its port, so
 * both can be stopped and started again where the services expect them.
 */
public final class ComposeStack implements AutoCloseable {
    public static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    public static final List<String> SERVICES = List.of("ingest", "chunker", "llm-processor", "emitter");

    /**
     * Seven JVMs share two cores: the client compiler only and the serial collector keep start-up cheap. They stand
     * in for the JVM options the image's entry point gives (a heap share of the container's memory, JAVA_OPTS).
     */
    private static final List<String> JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx384m");
    /** {@code host:port} of a compose service left in a value after the addresses were replaced. */
    private static final String HOST_PORT = "(?<![A-Za-z0-9.-])%s:\\d+";

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Path dist;
    private final Path base;
    private final ProcessGroup processes;
    private final ComposeFile compose;
    private final Map<String, String> dotenv;
    private final Topology topology;
    private final Map<String, ManagedProcess> services = new LinkedHashMap<>();
    private ManagedProcess kafka;
    private String bootstrap;
    private RedisServer redis;
    private int redisPort;
    private EmulatorControl emulator;
    private Addresses addresses;

    private ComposeStack(Path dist, Path composeFile, Path base) {
        this.dist = dist.toAbsolutePath();
        this.base = base.toAbsolutePath();
        require(
                Files.isRegularFile(this.dist.resolve("thoughtstream.jar")),
                "no distribution at " + this.dist + ": build it first (./mvnw -B package -pl launcher -am)");
        require(
                Files.isRegularFile(composeFile),
                "no compose file at " + composeFile + ": the services run with the environment docker-compose.yml"
                        + " gives them, so the file must exist");
        // The group first: it ends whatever an earlier run that was killed left running there; then a clean slate.
        this.processes = new ProcessGroup(this.base);
        deleteRecursively(this.base);
        this.compose = ComposeFile.read(composeFile);
        this.dotenv = projectEnvironment(composeFile.toAbsolutePath().resolveSibling(".env.example"));
        this.topology = Topology.of(compose, dotenv);
    }

    /**
     * Starts the broker, Redis, the emulator and the four services, and waits until every one is ready.
     *
     * @param dist        the distribution's directory ({@code thoughtstream.jar} and {@code lib/})
     * @param composeFile the project's {@code docker-compose.yml}, with {@code .env.example} beside it
     * @param base        where the processes' data, working directories and logs go (emptied first)
     * @param extra       per service ({@code ingest}, {@code chunker}, {@code llm-processor}, {@code emitter}):
     *                    variables set on top of the compose environment
     */
    public static ComposeStack start(Path dist, Path composeFile, Path base, Map<String, Map<String, String>> extra) {
        ComposeStack stack = new ComposeStack(dist, composeFile, base);
        try {
            stack.processes.explainingFailures(() -> stack.startAll(extra));
            return stack;
        } catch (RuntimeException | Error e) {
            stack.close();
            throw e;
        }
    }

    private void startAll(Map<String, Map<String, String>> extra) {
        // Given the infrastructure as processes on this host
        int kafkaPort = ProcessGroup.freePort();
        kafka = processes.start(
                "kafka",
                java(
                        "-cp",
                        dist.resolve("lib") + "/*",
                        KafkaBrokerMain.class.getName(),
                        base.resolve("kafka-data").toString(),
                        Integer.toString(kafkaPort)),
                Map.of(),
                Readiness.logLine(KafkaBrokerMain.READY_PREFIX));
        redis = processes.closeAtEnd(RedisServer.start(base.resolve("redis"), 0));
        redisPort = redis.port();
        kafka.awaitReady(START_TIMEOUT);
        bootstrap = kafka.lineStartingWith(KafkaBrokerMain.READY_PREFIX)
                .orElseThrow()
                .substring(KafkaBrokerMain.READY_PREFIX.length())
                .strip();

        Map<String, String> emulatorEnv = new TreeMap<>(compose.environment(topology.emulator(), dotenv));
        emulatorEnv.put(EmulatorCommand.PORT, "0");
        emulatorEnv.put(EmulatorCommand.BIND_ADDRESS, "127.0.0.1");
        emulatorEnv.put("HOSTNAME", dockerHostname());
        if (emulatorEnv.containsKey(EmulatorCommand.STATE_DIR)) {
            // The container's path is a volume of that container; here, a directory of this stack's own, so no run
            // sees another's chats.
            emulatorEnv.put(
                    EmulatorCommand.STATE_DIR, base.resolve("emulator-chats").toString());
        }
        ManagedProcess emulatorProcess = processes.start(
                topology.emulator(),
                thoughtstream(compose.command(topology.emulator(), dotenv)),
                emulatorEnv,
                Readiness.logLine(EmulatorCommand.READY_PREFIX));
        emulatorProcess.awaitReady(START_TIMEOUT);
        String emulatorLine =
                emulatorProcess.lineStartingWith(EmulatorCommand.READY_PREFIX).orElseThrow();
        int emulatorPort = Integer.parseInt(emulatorLine.replaceFirst(".*:(\\d+).*", "$1"));
        emulator = new EmulatorControl(
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build(),
                URI.create("http://127.0.0.1:" + emulatorPort));

        // and the four services from the distribution, each with its compose environment
        addresses = new Addresses(bootstrap, redisPort, topology.emulator(), emulatorPort, topology.hosts());
        for (String service : SERVICES) {
            services.put(service, launch(service, topology.service(service), extra.getOrDefault(service, Map.of())));
        }
        for (ManagedProcess p : services.values()) {
            p.awaitReady(START_TIMEOUT);
        }
        String provider = services.get("llm-processor").environment().getOrDefault("LLM_PROVIDER", "");
        require(
                provider.isBlank() || provider.equals("scripted"),
                "the offline setup answers with the scripted model (the default), whose replies are known in"
                        + " advance; LLM_PROVIDER is " + provider);
    }

    /**
     * Starts one more process of {@code service} named {@code name} (a second container of it, or its replacement
     * in another mode), with its compose environment plus {@code extra}; returns without waiting for readiness.
     */
    public ManagedProcess startAnother(String service, String name, Map<String, String> extra) {
        return launch(service, name, extra);
    }

    private ManagedProcess launch(String service, String name, Map<String, String> extra) {
        String composeName = topology.service(service);
        Map<String, String> env = new TreeMap<>(compose.environment(composeName, dotenv));
        addresses.apply(composeName, env);
        if (env.containsKey("TG_BOT_TOKEN")) {
            require(
                    emulator.base().toString().equals(env.get("TG_API_URL")),
                    composeName + " must talk to the emulator: the offline .env points TG_API_URL at it, but it is "
                            + env.get("TG_API_URL"));
        }
        int httpPort = ProcessGroup.freePort();
        env.put("HTTP_PORT", Integer.toString(httpPort));
        env.put("HOSTNAME", dockerHostname());
        switch (service) {
            case "chunker" -> {
                env.put("CHUNK_GAP_MS", "200");
                env.put("STREAMS_STATE_DIR", base.resolve(name + "-state").toString());
            }
            case "emitter" -> {
                env.put("TYPING_MIN_MS", "0");
                env.put("TYPING_MAX_MS", "0");
                // The per-chat token bucket (3 bubbles, then 1 a second) would add up to seconds depending on how
                // much of it the previous reply used: noise in the latencies compared.
                env.put("EMITTER_CHAT_RATE_PER_S", "0");
            }
            default -> {}
        }
        env.putAll(extra);
        return processes.start(
                name,
                thoughtstream(compose.command(composeName, dotenv)),
                env,
                Readiness.httpOk(URI.create("http://127.0.0.1:" + httpPort + "/health/ready")));
    }

    /** One of {@link #SERVICES}, as started. */
    public ManagedProcess service(String service) {
        ManagedProcess p = services.get(service);
        if (p == null) {
            throw new IllegalArgumentException("no service " + service + "; there are " + services.keySet());
        }
        return p;
    }

    /** The broker process; after {@link ManagedProcess#kill9()} and a restart it serves the same port and data. */
    public ManagedProcess kafka() {
        return kafka;
    }

    /** The broker's {@code host:port}, as the services have it. */
    public String bootstrap() {
        return bootstrap;
    }

    /** What the services prepend to every topic name ({@code TOPIC_PREFIX}). */
    public String topicPrefix() {
        return service("chunker").environment().getOrDefault("TOPIC_PREFIX", "");
    }

    public EmulatorControl emulator() {
        return emulator;
    }

    public ProcessGroup processes() {
        return processes;
    }

    /** Stops redis-server (its contents are gone, as with a container without a volume). */
    public synchronized void stopRedis() {
        redis.close();
    }

    /** Starts redis-server again, empty, on the port the services have. */
    public synchronized void startRedis() {
        redis = processes.closeAtEnd(RedisServer.start(base.resolve("redis"), redisPort));
    }

    @Override
    public void close() {
        processes.close();
    }

    // ---- the compose file --------------------------------------------------------------------------------------

    /** Which compose service is which: the four services and the emulator by their command, the rest infrastructure. */
    private record Topology(Map<String, String> services, String emulator, Set<String> infrastructure) {
        static Topology of(ComposeFile compose, Map<String, String> project) {
            Map<String, String> services = new LinkedHashMap<>();
            String emulator = null;
            Set<String> infrastructure = new TreeSet<>();
            for (String name : compose.services()) {
                List<String> command = compose.command(name, project);
                String first = command.isEmpty() ? "" : command.get(0);
                if (SERVICES.contains(first)) {
                    services.putIfAbsent(first, name);
                } else if (first.equals("emulator")) {
                    emulator = name;
                } else {
                    infrastructure.add(name);
                }
            }
            for (String service : SERVICES) {
                require(
                        services.containsKey(service),
                        "the compose file runs no '" + service + "' (a service whose command is [\"" + service
                                + "\"]); it has " + compose.services());
            }
            require(
                    emulator != null,
                    "the compose file has no emulator service (command [\"emulator\"]); it has " + compose.services());
            List<String> active =
                    List.of(project.getOrDefault("COMPOSE_PROFILES", "").split(","));
            List<String> needed = compose.profiles(emulator);
            require(
                    needed.isEmpty() || needed.stream().anyMatch(active::contains),
                    "the offline .env's COMPOSE_PROFILES=" + project.get("COMPOSE_PROFILES")
                            + " does not start the emulator (profiles " + needed + ")");
            return new Topology(services, emulator, infrastructure);
        }

        String service(String name) {
            return services.get(name);
        }

        /** Every compose service name another container may address. */
        Set<String> hosts() {
            Set<String> hosts = new TreeSet<>(infrastructure);
            hosts.addAll(services.values());
            hosts.add(emulator);
            return hosts;
        }
    }

    /**
     * The project's {@code .env}: {@code .env.example} as shipped (its default is the offline setup: the emulator's
     * token and address, {@code COMPOSE_PROFILES=offline}), exactly what {@code cp .env.example .env} gives a user.
     * Without that file, the same offline settings written here.
     */
    private static Map<String, String> projectEnvironment(Path envExample) {
        if (Files.isRegularFile(envExample)) {
            return ComposeFile.dotenv(envExample);
        }
        Map<String, String> env = new LinkedHashMap<>();
        env.put("COMPOSE_PROFILES", "offline");
        env.put("TG_BOT_TOKEN", DevStack.OFFLINE_TOKEN);
        env.put("TG_API_URL", "http://emulator:8088");
        return env;
    }

    /**
     * The broker, Redis and emulator processes put where a service's environment names their containers: the
     * {@code host:port} of the broker (from {@code KAFKA_BOOTSTRAP_SERVERS}), of Redis (from {@code REDIS_URL} or
     * {@code REDIS_HOST}) and of the emulator's service, wherever it appears in a value.
     */
    private record Addresses(
            String bootstrap, int redisPort, String emulatorHost, int emulatorPort, Set<String> hosts) {
        void apply(String service, Map<String, String> env) {
            Map<String, String> local = new LinkedHashMap<>();
            local.put(emulatorHost, "127.0.0.1:" + emulatorPort);
            String kafka = env.getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "");
            if (!kafka.isBlank()) {
                for (String server : kafka.split(",")) {
                    local.put(server.strip().replaceFirst(":\\d+$", ""), bootstrap);
                }
                // One broker here, whatever list of containers the file names.
                env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
            }
            String redisUrl = env.getOrDefault("REDIS_URL", "");
            if (!redisUrl.isBlank()) {
                local.put(URI.create(redisUrl).getHost(), "127.0.0.1:" + redisPort);
            }
            String redisHost = env.getOrDefault("REDIS_HOST", "");
            if (!redisHost.isBlank()) {
                local.put(redisHost, "127.0.0.1:" + redisPort);
                env.put("REDIS_HOST", "127.0.0.1");
                env.put("REDIS_PORT", Integer.toString(redisPort));
            }
            for (Map.Entry<String, String> e : env.entrySet()) {
                String value = e.getValue();
                for (Map.Entry<String, String> address : local.entrySet()) {
                    value = Pattern.compile(String.format(HOST_PORT, Pattern.quote(address.getKey())))
                            .matcher(value)
                            .replaceAll(Matcher.quoteReplacement(address.getValue()));
                }
                e.setValue(value);
                for (String host : hosts) {
                    require(
                            !Pattern.compile(String.format(HOST_PORT, Pattern.quote(host)))
                                    .matcher(value)
                                    .find(),
                            service + "'s " + e.getKey() + " names the container '" + host
                                    + "', which is not run here: " + value);
                }
            }
        }
    }

    /**
     * Docker's {@code HOSTNAME} for a container: the first 12 hex digits of its id, random per container and kept
     * across its restarts (the environment, captured at the first start, is reused by every restart).
     */
    private static String dockerHostname() {
        byte[] id = new byte[6];
        RANDOM.nextBytes(id);
        return HexFormat.of().formatHex(id);
    }

    /** {@code java -jar <dist>/thoughtstream.jar <args>}: a container's command under the image's entry point. */
    private List<String> thoughtstream(List<String> args) {
        List<String> all = new ArrayList<>(
                List.of("-jar", dist.resolve("thoughtstream.jar").toString()));
        all.addAll(args);
        return java(all.toArray(String[]::new));
    }

    private static List<String> java(String... args) {
        List<String> command = new ArrayList<>();
        command.add(ManagedProcess.javaExecutable());
        command.addAll(JVM_OPTIONS);
        command.addAll(List.of(args));
        return command;
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalStateException(message);
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot empty " + dir, e);
        }
    }
}
