package dev.thoughtstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.telegram.TelegramLimits;
import dev.thoughtstream.devstack.DevStack;
import dev.thoughtstream.llm.generate.PartSplitter;
import dev.thoughtstream.llm.model.ScriptedAnswers;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.KafkaBrokerMain;
import dev.thoughtstream.testkit.process.ManagedProcess;
import dev.thoughtstream.testkit.process.ManagedProcess.Readiness;
import dev.thoughtstream.testkit.process.ProcessGroup;
import dev.thoughtstream.testkit.redis.RedisServer;
import dev.thoughtstream.testkit.telegram.TranscriptEntry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The built distribution run as separate operating-system processes, each with the environment
 * {@code docker-compose.yml} gives its container: a Kafka broker process ({@link KafkaBrokerMain}), a
 * redis-server, the Telegram emulator ({@code thoughtstream emulator}) and the four services
 * ({@code java -jar thoughtstream.jar <service>}). A person writes through the emulator; then the emitter, the
 * chunker and the llm-processor are each killed with SIGKILL (as {@code kill -9} or {@code docker kill} does: no
 * shutdown hook, nothing flushed), restarted with the same environment and the same {@code HOSTNAME} (a restarted
 * container keeps its hostname, and {@code INSTANCE_ID} defaults to it), and the next message must be answered
 * exactly once.
 *
 * <p>The environments are the compose file's, interpolated from the project's {@code .env} the way compose does,
 * with {@code .env.example} as that {@code .env} (its default is the offline setup). Only the addresses are changed
 * (the broker, Redis and the emulator are processes on this host, not containers named {@code kafka},
 * {@code redis}, {@code emulator}), plus what sharing one host and a quick test need: an {@code HTTP_PORT} per
 * process, a {@code HOSTNAME} per process as Docker would give, a short {@code CHUNK_GAP_MS}, no typing delays
 * and no per-chat rate limit (both would only add to every latency), and a fresh state directory for the
 * chunker. The topics are created by the services (compose's one-shot {@code kafka-setup} is not run), with the
 * compose file's {@code TOPIC_PARTITIONS}.
 *
 * <h2>Recovery, as measured here</h2>
 * For each killed service: the latency of a reply (the emulator's timestamps: from the person's message to the
 * reply's last bubble) is measured on the warm pipeline just before the kill ({@code warm}); the service is
 * killed and started again, and as soon as its {@code /health/ready} answers the next message is sent and its
 * reply latency measured ({@code after}). <b>recovery = after − warm</b>: how much longer the pipeline took
 * because that service had just come back, beyond its normal latency. The process's start-up (launch until
 * {@code /health/ready}, mostly JVM and client start) is reported beside it but not counted: a supervisor's
 * restart delay and the JVM's start are the platform's, not the pipeline's.
 *
 * <p>The bound of 5 s discriminates for the emitter and the chunker: without static membership the restarted
 * member of their classic consumer groups gets no partition until the coordinator gives up on the killed member
 * at its session timeout, 45 s by default (about 42 s of recovery were measured here before static membership;
 * with it, about 0.2 s for the emitter and 2.5 s for the chunker, which after an unclean stop under exactly-once
 * wipes its local stores and restores them from the changelogs). The llm-processor's share group hands the new
 * members partitions as soon as they join (0.5 to 2 s measured either way), so there the bound guards against a
 * regression rather than proving a mechanism.
 */
class ComposeProcessesKillNineIT {
    private static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    /** Long enough to measure a recovery that waits for a 45 s session timeout, so a slow one is reported. */
    private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(100);

    private static final Duration RECOVERY_BOUND = Duration.ofSeconds(5);
    private static final long CHAT = 4242;
    private static final List<String> SERVICES = List.of("ingest", "chunker", "llm-processor", "emitter");
    private static final List<String> KILLED = List.of("emitter", "chunker", "llm-processor");
    /**
     * Seven JVMs share two cores: the client compiler only and the serial collector keep start-up cheap. They stand
     * in for the JVM options the image's entry point gives (a heap share of the container's memory, JAVA_OPTS).
     */
    private static final List<String> JVM_OPTIONS = List.of("-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xmx384m");
    /** {@code host:port} of a compose service left in a value after the addresses were replaced. */
    private static final String HOST_PORT = "(?<![A-Za-z0-9.-])%s:\\d+";

    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private final HttpClient http =
            HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private ProcessGroup processes;

    @AfterEach
    void stopEveryProcess() {
        if (processes != null) {
            processes.close();
        }
    }

    @Test
    void eachServiceKilledWithSigkillComesBackWithin5sAndTheNextReplyArrivesExactlyOnce() throws Exception {
        Path dist = Path.of(System.getProperty("thoughtstream.dist.dir", "target/thoughtstream"))
                .toAbsolutePath();
        Path composeFile = Path.of(System.getProperty("thoughtstream.compose.file", "../docker-compose.yml"))
                .toAbsolutePath()
                .normalize();
        Path base = Path.of(System.getProperty("thoughtstream.process.dir", "target/process-it"))
                .toAbsolutePath();
        assertTrue(
                Files.isRegularFile(dist.resolve("thoughtstream.jar")),
                "no distribution at " + dist + ": the test runs after `package` (./mvnw verify)");
        assertTrue(
                Files.isRegularFile(composeFile),
                "no compose file at " + composeFile + ": this test runs the "
                        + "services with the environment docker-compose.yml gives them, so the file must exist");
        // The group first: it ends whatever an earlier run that was killed left running there; then a clean slate.
        processes = new ProcessGroup(base);
        deleteRecursively(base);
        ComposeFile compose = ComposeFile.read(composeFile);
        Map<String, String> dotenv = projectEnvironment(composeFile.resolveSibling(".env.example"));
        Topology topology = Topology.of(compose, dotenv);

        processes.explainingFailures(() -> {
            // Given the infrastructure as processes on this host
            ManagedProcess kafka = processes.start(
                    "kafka",
                    java(
                            "-cp",
                            dist.resolve("lib") + "/*",
                            KafkaBrokerMain.class.getName(),
                            base.resolve("kafka-data").toString(),
                            "0"),
                    Map.of(),
                    Readiness.logLine(KafkaBrokerMain.READY_PREFIX));
            RedisServer redis = processes.closeAtEnd(RedisServer.start(base.resolve("redis"), 0));
            kafka.awaitReady(START_TIMEOUT);
            String bootstrap = kafka.lineStartingWith(KafkaBrokerMain.READY_PREFIX)
                    .orElseThrow()
                    .substring(KafkaBrokerMain.READY_PREFIX.length())
                    .strip();

            Map<String, String> emulatorEnv = new TreeMap<>(compose.environment(topology.emulator(), dotenv));
            emulatorEnv.put(EmulatorCommand.PORT, "0");
            emulatorEnv.put(EmulatorCommand.BIND_ADDRESS, "127.0.0.1");
            emulatorEnv.put("HOSTNAME", dockerHostname());
            ManagedProcess emulatorProcess = processes.start(
                    topology.emulator(),
                    thoughtstream(dist, compose.command(topology.emulator(), dotenv)),
                    emulatorEnv,
                    Readiness.logLine(EmulatorCommand.READY_PREFIX));
            emulatorProcess.awaitReady(START_TIMEOUT);
            String emulatorLine = emulatorProcess
                    .lineStartingWith(EmulatorCommand.READY_PREFIX)
                    .orElseThrow();
            int emulatorPort = Integer.parseInt(emulatorLine.replaceFirst(".*:(\\d+).*", "$1"));
            Emulator emulator = new Emulator(http, URI.create("http://127.0.0.1:" + emulatorPort));

            // and the four services from the distribution, each with its compose environment
            Addresses addresses =
                    new Addresses(bootstrap, redis.port(), topology.emulator(), emulatorPort, topology.hosts());
            Map<String, ManagedProcess> services = new LinkedHashMap<>();
            for (String service : SERVICES) {
                String composeName = topology.service(service);
                Map<String, String> env = new TreeMap<>(compose.environment(composeName, dotenv));
                addresses.apply(composeName, env);
                if (env.containsKey("TG_BOT_TOKEN")) {
                    assertEquals(
                            emulator.base().toString(),
                            env.get("TG_API_URL"),
                            composeName + " must talk to the" + " emulator: the offline .env points TG_API_URL at it");
                }
                int httpPort = ProcessGroup.freePort();
                env.put("HTTP_PORT", Integer.toString(httpPort));
                env.put("HOSTNAME", dockerHostname());
                switch (service) {
                    case "chunker" -> {
                        env.put("CHUNK_GAP_MS", "200");
                        env.put(
                                "STREAMS_STATE_DIR",
                                base.resolve("chunker-state").toString());
                    }
                    case "emitter" -> {
                        env.put("TYPING_MIN_MS", "0");
                        env.put("TYPING_MAX_MS", "0");
                        // The per-chat token bucket (3 bubbles, then 1 a second) would add up to seconds depending
                        // on how much of it the previous reply used: noise in the latencies compared below.
                        env.put("EMITTER_CHAT_RATE_PER_S", "0");
                    }
                    default -> {}
                }
                List<String> command = compose.command(composeName, dotenv);
                services.put(
                        service,
                        processes.start(
                                composeName,
                                thoughtstream(dist, command),
                                env,
                                Readiness.httpOk(URI.create("http://127.0.0.1:" + httpPort + "/health/ready"))));
            }
            for (ManagedProcess p : services.values()) {
                p.awaitReady(START_TIMEOUT);
            }
            String provider = services.get("llm-processor").environment().getOrDefault("LLM_PROVIDER", "");
            assertTrue(
                    provider.isBlank() || provider.equals("scripted"),
                    "the offline setup answers with the "
                            + "scripted model (the default), whose replies this test knows; LLM_PROVIDER is "
                            + provider);

            // When a person writes, the bot answers (the first reply also waits for the groups to form)
            Conversation conversation = new Conversation(emulator);
            conversation.say("Hello there, this is the first message of the test.");

            List<String> report = new ArrayList<>();
            List<String> tooSlow = new ArrayList<>();
            for (String service : KILLED) {
                // Given the warm pipeline's latency
                long warm = conversation.say("Before the " + service + " goes down: how are you today?");

                // When the service is killed with SIGKILL and its container restarted with the same environment
                ManagedProcess process = services.get(service);
                process.kill9();
                long launched = System.nanoTime();
                process.restart();
                process.awaitReady(START_TIMEOUT);
                long startupMs = (System.nanoTime() - launched) / 1_000_000;

                // Then the next message is answered, exactly once
                long after = conversation.say("The " + service + " was restarted. Tell me about the weather.");
                long recovery = after - warm;
                String line = String.format(
                        "%-13s start-up %5d ms, warm reply %5d ms, reply after restart %6d ms," + " recovery %6d ms",
                        service, startupMs, warm, after, recovery);
                report.add(line);
                System.out.println(line);
                if (recovery > RECOVERY_BOUND.toMillis()) {
                    tooSlow.add(service);
                }
            }

            // and over the whole conversation no bubble arrived twice and none is missing
            conversation.assertWholeTranscript();
            assertTrue(
                    tooSlow.isEmpty(),
                    "not working again within " + RECOVERY_BOUND.toSeconds() + " s of being ready after SIGKILL: "
                            + tooSlow + "\n" + String.join("\n", report));
        });
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
                assertTrue(
                        services.containsKey(service),
                        "the compose file runs no '" + service + "' (a service whose" + " command is [\"" + service
                                + "\"]); it has " + compose.services());
            }
            assertTrue(
                    emulator != null,
                    "the compose file has no emulator service (command [\"emulator\"]); it has " + compose.services());
            List<String> active =
                    List.of(project.getOrDefault("COMPOSE_PROFILES", "").split(","));
            List<String> needed = compose.profiles(emulator);
            assertTrue(
                    needed.isEmpty() || needed.stream().anyMatch(active::contains),
                    "the offline .env's "
                            + "COMPOSE_PROFILES=" + project.get("COMPOSE_PROFILES")
                            + " does not start the emulator (profiles "
                            + needed + ")");
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
     * The test's broker, Redis and emulator put where a service's environment names their containers: the
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
                            .replaceAll(java.util.regex.Matcher.quoteReplacement(address.getValue()));
                }
                e.setValue(value);
                for (String host : hosts) {
                    assertTrue(
                            !Pattern.compile(String.format(HOST_PORT, Pattern.quote(host)))
                                    .matcher(value)
                                    .find(),
                            service + "'s " + e.getKey() + " names the container '" + host + "', which this test "
                                    + "does not run: " + value);
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
    private static List<String> thoughtstream(Path dist, List<String> args) {
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

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }

    // ---- the person's side -------------------------------------------------------------------------------------

    /** The emulator's control API over HTTP (docs/testing.md), as a person's stand-in. */
    private record Emulator(HttpClient http, URI base) {
        int send(long chatId, String text) {
            String body = Json.mapper()
                    .createObjectNode()
                    .put("text", text)
                    .put("firstName", "Ann")
                    .toString();
            JsonNode answer = call(HttpRequest.newBuilder(base.resolve("/emulator/chats/" + chatId + "/messages"))
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)));
            return answer.get("messageId").asInt();
        }

        List<TranscriptEntry> transcript(long chatId) {
            JsonNode answer = call(HttpRequest.newBuilder(base.resolve("/emulator/chats/" + chatId + "/transcript"))
                    .GET());
            return List.of(Json.mapper().convertValue(answer, TranscriptEntry[].class));
        }

        private JsonNode call(HttpRequest.Builder request) {
            try {
                HttpResponse<String> response = http.send(
                        request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() != 200) {
                    throw new AssertionError("the emulator answered " + response.statusCode() + ": " + response.body());
                }
                return Json.mapper().readTree(response.body());
            } catch (IOException e) {
                throw new UncheckedIOException("the emulator's control API failed", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while calling the emulator", e);
            }
        }
    }

    /** One chat: what the person said and the bubbles each message must be answered with. */
    private static final class Conversation {
        private final Emulator emulator;
        private final List<String> expected = new ArrayList<>();

        Conversation(Emulator emulator) {
            this.emulator = emulator;
        }

        /**
         * Sends {@code text}, waits for its whole reply and checks it arrived exactly once so far.
         *
         * @return the reply's latency: from the message to the reply's last bubble, by the emulator's clock
         */
        long say(String text) {
            List<String> parts =
                    new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(ScriptedAnswers.answerTo(text));
            int messageId = emulator.send(CHAT, text);
            expected.add("user: " + text);
            parts.forEach(p -> expected.add("bot: " + p));
            List<TranscriptEntry> reply =
                    Await.value("the reply to '" + text + "' (" + parts.size() + " bubbles)", REPLY_TIMEOUT, () -> {
                        List<TranscriptEntry> after = botMessagesAfter(messageId);
                        return after.size() >= parts.size() ? java.util.Optional.of(after) : java.util.Optional.empty();
                    });
            assertEquals(
                    parts,
                    reply.stream().map(TranscriptEntry::text).toList(),
                    "the reply to '" + text + "', each bubble once");
            TranscriptEntry question = emulator.transcript(CHAT).stream()
                    .filter(e -> !e.isFromBot() && e.isMessage() && Objects.equals(e.messageId(), messageId))
                    .findFirst()
                    .orElseThrow();
            return reply.get(reply.size() - 1).at() - question.at();
        }

        private List<TranscriptEntry> botMessagesAfter(int messageId) {
            List<TranscriptEntry> all = emulator.transcript(CHAT);
            List<TranscriptEntry> after = new ArrayList<>();
            boolean seen = false;
            for (TranscriptEntry e : all) {
                if (!e.isFromBot() && e.isMessage() && Objects.equals(e.messageId(), messageId)) {
                    seen = true;
                } else if (seen && e.isFromBot() && e.isMessage()) {
                    after.add(e);
                }
            }
            return after;
        }

        /** Every message of the chat, in order: each person's message followed by its reply, nothing twice. */
        void assertWholeTranscript() {
            List<String> actual = emulator.transcript(CHAT).stream()
                    .filter(TranscriptEntry::isMessage)
                    .map(e -> e.from() + ": " + e.text())
                    .toList();
            assertEquals(
                    String.join("\n", expected),
                    String.join("\n", actual),
                    "the whole chat: every reply exactly once, in order");
        }
    }
}
