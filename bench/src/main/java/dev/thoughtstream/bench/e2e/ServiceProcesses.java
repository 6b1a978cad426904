package dev.thoughtstream.bench.e2e;

import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.devstack.DevStack;
import dev.thoughtstream.testkit.process.ManagedProcess;
import dev.thoughtstream.testkit.process.ManagedProcess.Readiness;
import dev.thoughtstream.testkit.process.ProcessGroup;
import dev.thoughtstream.testkit.redis.RedisServer;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/**
 * The four services as production runs them: each a JVM process of its own, started from the built distribution
 * ({@code java <options> -jar thoughtstream.jar <service>}, as the image's entry point does), with the same
 * variables a {@link PipelineStack} gives them, on the bench's broker and redis-server. The Telegram emulator stays
 * in this JVM (it is Telegram, not part of the pipeline), so the bench still times every injection and every
 * sendMessage itself; the services reach it, and the paced model, over HTTP as they would reach Telegram and a
 * provider.
 *
 * <p>What only a service's own JVM knows comes from its endpoint ({@code /metrics} on its {@code HTTP_PORT}); its
 * CPU and memory from {@code /proc} ({@link ProcessUsage}).
 */
final class ServiceProcesses implements Pipeline {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceProcesses.class);

    /** Upstream last, so nothing is taken in before the stages after it are there; all start at once anyway. */
    static final List<String> SERVICES = List.of("emitter", "llm-processor", "chunker", "ingest");

    /**
     * The JVM options of the image's entry point (Dockerfile's ENTRYPOINT): the default JIT (tiered, up to C2) and
     * collector, a heap share of the memory, an OutOfMemoryError ending the process. {@code --real-java-opts} comes
     * after them, as the image's {@code JAVA_OPTS} does.
     */
    static final List<String> IMAGE_JVM_OPTIONS = List.of("-XX:MaxRAMPercentage=60", "-XX:+ExitOnOutOfMemoryError");

    /** Four JVMs starting at once on a busy machine, the chunker creating its state stores. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

    /** Variables only devstack reads: a process of one service has no use for them. */
    private static final List<String> DEVSTACK_ONLY =
            List.of("DEVSTACK_DATA_DIR", "DEVSTACK_KAFKA_PORT", "EMULATOR_PORT", "HTTP_PORT");

    private final String name;
    private final TelegramEmulator emulator;
    private final ProcessGroup group;
    private final Map<String, ManagedProcess> services;
    private final Map<String, Integer> httpPorts;
    private final Map<String, String> config;
    private final Topics topics;
    private final RedisServer redis;
    private final List<String> jvmOptions;
    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    private ServiceProcesses(
            String name,
            TelegramEmulator emulator,
            ProcessGroup group,
            Map<String, ManagedProcess> services,
            Map<String, Integer> httpPorts,
            Map<String, String> config,
            RedisServer redis,
            List<String> jvmOptions) {
        this.name = name;
        this.emulator = emulator;
        this.group = group;
        this.services = services;
        this.httpPorts = httpPorts;
        this.config = config;
        this.topics = Topics.withPrefix(config.get("TOPIC_PREFIX"));
        this.redis = redis;
        this.jvmOptions = jvmOptions;
    }

    /**
     * Starts the emulator here and the four service processes, and waits until each answers {@code /health/ready}.
     *
     * @param dist     the distribution's directory ({@code thoughtstream.jar} and {@code lib/})
     * @param redis    the bench's redis-server (the processes need a real one: there is no in-memory fallback
     *                 shared between processes)
     * @param settings the scenario's variables, as for {@link PipelineStack#start}
     */
    static ServiceProcesses start(
            String name,
            String bootstrap,
            RedisServer redis,
            Path dataDir,
            E2eOptions options,
            Map<String, String> settings) {
        Path dist = options.real().dist().toAbsolutePath();
        Path jar = dist.resolve("thoughtstream.jar");
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("no distribution at " + dist
                    + " (--real-dist): build it first (./mvnw -B package -pl launcher -am -DskipTests)");
        }
        if (redis == null) {
            throw new IllegalStateException(
                    "--real-deploy processes needs a real redis-server: " + RedisServer.INSTALL_HINT);
        }
        Map<String, String> env = new HashMap<>(
                PipelineStack.environment(name, bootstrap, redis.url().toString(), dataDir, options, settings));
        DEVSTACK_ONLY.forEach(env::remove);
        Path base = dataDir.resolve(name).toAbsolutePath();
        TelegramEmulator emulator = TelegramEmulator.builder()
                .port(0)
                .botToken(DevStack.OFFLINE_TOKEN)
                .stateDirectory(base.resolve("emulator"))
                .idsAbovePreviousRuns(Clock.systemUTC())
                .build()
                .start();
        env.put("TG_BOT_TOKEN", DevStack.OFFLINE_TOKEN);
        env.put("TG_API_URL", emulator.baseUrl());
        List<String> jvm = new ArrayList<>(IMAGE_JVM_OPTIONS);
        jvm.addAll(options.real().javaOpts());
        ProcessGroup group = new ProcessGroup(base.resolve("processes"));
        Map<String, ManagedProcess> services = new LinkedHashMap<>();
        Map<String, Integer> ports = new LinkedHashMap<>();
        try {
            group.explainingFailures(() -> {
                for (String service : SERVICES) {
                    int port = ProcessGroup.freePort();
                    Map<String, String> own = new HashMap<>(env);
                    own.put("HTTP_PORT", Integer.toString(port));
                    // As a container's: the services name their Kafka clients and their lease holder after it.
                    own.put("HOSTNAME", service + "-" + Long.toString(System.nanoTime(), 36));
                    if (service.equals("chunker")) {
                        own.put(
                                "STREAMS_STATE_DIR",
                                base.resolve("chunker-state").toString());
                    }
                    List<String> command = new ArrayList<>();
                    command.add(ManagedProcess.javaExecutable());
                    command.addAll(jvm);
                    command.addAll(List.of("-jar", jar.toString(), service));
                    ports.put(service, port);
                    services.put(
                            service,
                            group.start(
                                    service,
                                    command,
                                    own,
                                    Readiness.httpOk(URI.create("http://127.0.0.1:" + port + "/health/ready"))));
                }
                for (ManagedProcess p : services.values()) {
                    p.awaitReady(START_TIMEOUT);
                }
            });
        } catch (RuntimeException | Error e) {
            group.close();
            emulator.close();
            throw e;
        }
        LOG.info("stack {}: four service processes ready ({})", name, ports);
        return new ServiceProcesses(name, emulator, group, services, ports, Map.copyOf(env), redis, List.copyOf(jvm));
    }

    @Override
    public TelegramEmulator emulator() {
        return emulator;
    }

    @Override
    public Topics topics() {
        return topics;
    }

    @Override
    public List<LagSampler.Group> groups() {
        return PipelineStack.groups(config, topics);
    }

    @Override
    public String readyLine() {
        StringBuilder s = new StringBuilder("stack " + name + ": the four services as processes (java "
                + String.join(" ", jvmOptions) + " -jar thoughtstream.jar <service>):");
        services.forEach((service, p) -> s.append(' ')
                .append(service)
                .append(" pid ")
                .append(p.pid())
                .append(" (:")
                .append(httpPorts.get(service))
                .append(')'));
        return s + "; emulator in this JVM " + emulator.baseUrl();
    }

    /** Empty: the bench's redis-server is a process of its own, measured by {@link #processes()}. */
    @Override
    public Optional<RedisClient> redis() {
        return Optional.empty();
    }

    @Override
    public long llmInFlight() {
        return LlmIntake.inFlight(scrape("llm-processor"));
    }

    /**
     * Every 500 ms: each reading renders the llm-processor's whole registry (its Kafka clients' metrics too) on its
     * endpoint, in the process whose CPU is measured, where a Prometheus server would scrape every 15 s or so.
     */
    @Override
    public long inFlightSampleMs() {
        return 500;
    }

    /** Not published: the services' endpoints do not export the share consumers' fetch metrics. */
    @Override
    public LlmIntake.ShareFetches shareFetches() {
        return new LlmIntake.ShareFetches(Double.NaN, Double.NaN);
    }

    @Override
    public Map<String, Long> processes() {
        Map<String, Long> pids = new LinkedHashMap<>();
        services.forEach((service, p) -> pids.put(service, p.pid()));
        pids.put("redis-server", redis.pid());
        return pids;
    }

    /** {@code GET /metrics} of {@code service}. */
    String scrape(String service) {
        URI uri = URI.create("http://127.0.0.1:" + httpPorts.get(service) + "/metrics");
        try {
            HttpResponse<String> response = http.send(
                    HttpRequest.newBuilder(uri)
                            .timeout(Duration.ofSeconds(2))
                            .GET()
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new IllegalStateException("GET " + uri + " answered " + response.statusCode());
            }
            return response.body();
        } catch (IOException e) {
            throw new UncheckedIOException("GET " + uri + " failed", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted during GET " + uri, e);
        }
    }

    @Override
    public void close() {
        try {
            group.close();
        } finally {
            emulator.close();
        }
    }
}
