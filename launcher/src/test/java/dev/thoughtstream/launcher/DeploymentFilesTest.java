package dev.thoughtstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.metrics.HttpEndpoints;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.ServiceFactory;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.devstack.DevStack;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ConnectException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIf;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.Node;

/**
 * The deployment files against the code, so they cannot quietly rot: {@code docker-compose.yml},
 * {@code .env.example}, the {@code Dockerfile} and what they use ({@code deploy/}). Every check reads the files as
 * they are and asks the code (the factories, picocli, {@link Topics}, a real {@link HttpEndpoints} and a real
 * {@link TelegramEmulator}); none needs Docker or a broker. One opt-in test runs the real stack where a Docker
 * engine answers.
 */
class DeploymentFilesTest {
    private static final Path ROOT = repositoryRoot();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final ObjectMapper JSON = new ObjectMapper();
    /** {@code NAME=value} or {@code # NAME=value} (the default, commented out); prose comments never match. */
    private static final Pattern ENV_LINE = Pattern.compile("^(?:# )?([A-Z][A-Z0-9_]*)=(.*)$");

    private static final Pattern INTERPOLATION = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)");
    private static final Duration SCRIPT_TIMEOUT = Duration.ofSeconds(20);
    /** What {@link HttpEndpoints} serves. */
    private static final Set<String> ENDPOINT_PATHS = Set.of("/health/ready", "/health/live", "/metrics");

    private final JsonNode compose = yaml(ROOT.resolve("docker-compose.yml"));
    private final Dockerfile dockerfile = Dockerfile.read(ROOT.resolve("Dockerfile"));
    private final Map<String, ServiceFactory> factories = factoriesByName();

    // ---- the services compose runs from the image ------------------------------------------------------------------

    @Test
    void composeRunsEveryServiceOfTheLauncherEachFromOneOfItsSubcommands() {
        // Given the launcher's subcommands and the compose services that run the thoughtstream image
        Set<String> subcommands = Thoughtstream.commandLine().getSubcommands().keySet();
        Map<String, String> commands = imageServiceCommands();

        // Then every such service runs a subcommand the launcher has
        commands.forEach((service, command) -> assertTrue(
                subcommands.contains(command),
                "compose service " + service + " runs `" + command + "`, which is not a subcommand of the launcher "
                        + subcommands));
        // And each of the four services is run by the compose service of its own name (Prometheus and the other
        // containers address it by that name)
        for (String name : factories.keySet()) {
            assertEquals(name, commands.get(name), "compose service " + name + " must run `" + name + "`: " + commands);
        }
    }

    @Test
    void composeSetsForEachServiceOnlyVariablesThatServiceReads() {
        for (Map.Entry<String, String> entry : imageServiceCommands().entrySet()) {
            String service = entry.getKey();
            String command = entry.getValue();
            // Given what the subcommand reads: a service's from its factory, the code itself; another subcommand's
            // from the README section its --help lists, which ConfigurationDocsTest keeps equal to what it reads
            Set<String> read;
            if (factories.containsKey(command)) {
                read = ServiceVariables.readBy(factories.get(command));
            } else if (Thoughtstream.commandLine().getSubcommands().containsKey(command)) {
                read = documented(command);
            } else {
                continue; // not a subcommand at all: the test above names it
            }

            // Then every variable compose sets for it is one it reads
            Set<String> unread = new TreeSet<>();
            environment(service).keySet().forEach(name -> {
                if (!ServiceVariables.isRead(name, read)) {
                    unread.add(name);
                }
            });
            assertTrue(
                    unread.isEmpty(),
                    "docker-compose.yml sets " + unread + " for " + service + ", which `" + command + "` never reads");
        }
    }

    @Test
    void pipelineServicesCanBeScaledOut() {
        for (String service : factories.keySet()) {
            if (service.equals("chunker")) {
                continue; // one instance with one state volume: see chunkerKeepsItsInstanceIdAcrossRecreation
            }
            // Given a pipeline service, e.g. llm-processor for `docker compose up --scale llm-processor=3`
            JsonNode definition = service(service);

            // Then nothing in it is unique to one container: no name, no host port, no fixed instance id
            assertFalse(definition.has("container_name"), service + " has a container_name: --scale needs none");
            assertFalse(definition.has("ports"), service + " publishes ports: --scale needs no fixed host port");
            assertFalse(
                    definition.has("hostname"),
                    service + " has a fixed hostname, the default INSTANCE_ID of" + " every replica");
            assertFalse(
                    environment(service).containsKey(KafkaSettings.INSTANCE_ID),
                    service + " sets INSTANCE_ID:" + " every replica would get the same one");
        }
    }

    @Test
    void chunkerKeepsItsInstanceIdAcrossRecreation() {
        // Given the chunker, one instance on one state volume that stays in its group when it stops cleanly
        JsonNode definition = service("chunker");

        // Then it has a fixed instance id (a recreated container's hostname is new) and no per-container name
        assertTrue(
                environment("chunker").containsKey(KafkaSettings.INSTANCE_ID),
                "the chunker needs an INSTANCE_ID that survives `docker compose up` recreating its container");
        assertFalse(definition.has("container_name"), "chunker has a container_name");
        assertFalse(definition.has("ports"), "chunker publishes ports");
    }

    @Test
    void theEmulatorKeepsItsChatsOnANamedVolumeTheImagePreparesForItsUser() {
        // Given the offline profile's emulator, which keeps its chats where EMULATOR_STATE_DIR says
        String stateDir = environment("emulator").get("EMULATOR_STATE_DIR");
        assertNotNull(stateDir, "the emulator forgets its chats when its container is re-created");

        // Then a named volume, declared at the top level, is mounted exactly there
        String mount = strings(service("emulator").path("volumes")).stream()
                .filter(v -> v.endsWith(":" + stateDir))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no volume mounted at the emulator's " + stateDir));
        String volume = mount.substring(0, mount.indexOf(':'));
        assertTrue(compose.path("volumes").has(volume), "volume " + volume + " is not declared");

        // And the image creates that directory and gives it to its user, so a new named volume starts writable
        String runs = String.join("\n", dockerfile.runs(""));
        assertTrue(runs.contains("mkdir -p") && runs.contains(stateDir), "the image does not create " + stateDir);
        assertTrue(stateDir.startsWith(dockerfile.runtimeWorkdir() + "/"), stateDir + " is outside the chown'd home");
    }

    // ---- health checks ---------------------------------------------------------------------------------------------

    @Test
    void healthChecksProbeWhatEachContainerServesOnItsPort() throws Exception {
        Path script = ROOT.resolve("deploy/docker/healthcheck");
        String scriptInImage = dockerfile.copyDestination("deploy/docker/healthcheck");
        try (HttpEndpoints endpoints = HttpEndpoints.start(0, new Metrics());
                TelegramEmulator emulator =
                        TelegramEmulator.builder().port(0).build().start()) {
            // (a running service's endpoints: its readiness check registered and passing)
            endpoints.check("service", () -> true);
            for (Map.Entry<String, String> entry : imageServiceCommands().entrySet()) {
                String service = entry.getKey();
                String command = entry.getValue();
                // Given the compose health check of a container: the image's probe script, a path and a port
                List<String> test = strings(service(service).path("healthcheck").path("test"));
                assertTrue(
                        test.size() == 4
                                && test.get(0).equals("CMD")
                                && test.get(1).equals(scriptInImage),
                        service + ": the health check should be [CMD, " + scriptInImage + ", <path>, <port>] but is "
                                + test);
                String path = test.get(2);
                int port = Integer.parseInt(test.get(3));

                // Then the port is the one that container serves on, and the probe gets 200 for the path from the
                // real server (HttpEndpoints for a service, the emulator for the emulator)
                if (factories.containsKey(command)) {
                    assertEquals(httpPort(service), port, service + ": the health check's port is not its HTTP_PORT");
                    // (the JDK's HttpServer matches a context by prefix, so /health/readyz would get 200 as well)
                    assertTrue(ENDPOINT_PATHS.contains(path), service + ": " + path + " is none of " + ENDPOINT_PATHS);
                    assertEquals(
                            0,
                            probe(script, List.of(path, Integer.toString(endpoints.port())), Map.of()),
                            service + ": the services' endpoints do not answer " + path + " with 200");
                } else if (command.equals("emulator")) {
                    assertEquals(
                            emulatorPort(service),
                            port,
                            service + ": the health check's port is not its" + " EMULATOR_PORT");
                    assertEquals(
                            0,
                            probe(script, List.of(path, Integer.toString(emulator.port())), Map.of()),
                            service + ": the emulator does not answer " + path + " with 200");
                } else {
                    fail(service + " runs `" + command + "`, for which this test knows no server to probe");
                }
            }

            // And the image's own HEALTHCHECK runs the same script with no arguments: /health/ready on HTTP_PORT
            List<String> imageCheck = dockerfile.healthcheckCommand();
            assertEquals(List.of(scriptInImage), imageCheck, "the Dockerfile's HEALTHCHECK");
            assertEquals(
                    0,
                    probe(script, List.of(), Map.of(Infra.HTTP_PORT, Integer.toString(endpoints.port()))),
                    "the image's health check does not find the endpoints on HTTP_PORT");
            assertTrue(
                    Files.readString(script).contains("${HTTP_PORT:-" + Infra.DEFAULT_HTTP_PORT + "}"),
                    "the probe's default port is not HTTP_PORT's default " + Infra.DEFAULT_HTTP_PORT);

            // And the probe tells a service that is not ready from one that is: 503 fails it
            endpoints.check("broken", () -> false);
            assertEquals(
                    1,
                    probe(script, List.of("/health/ready", Integer.toString(endpoints.port())), Map.of()),
                    "the probe passed a service whose /health/ready answers 503");
        }
    }

    // ---- the image -------------------------------------------------------------------------------------------------

    @Test
    void dockerfileShipsTheDistributionTheLauncherBuildMakesAndRunsItsJar() throws Exception {
        // Given where the launcher's build puts the distribution, and the jar's name
        Document pom = DocumentBuilderFactory.newInstance()
                .newDocumentBuilder()
                .parse(ROOT.resolve("launcher/pom.xml").toFile());
        String finalName = childText(pom.getDocumentElement(), "build", "finalName");
        String distDir = childText(pom.getDocumentElement(), "properties", "dist.dir");
        assertTrue(distDir.startsWith("${project.build.directory}/"), "dist.dir: " + distDir);
        String distribution = "launcher/target/" + distDir.substring("${project.build.directory}/".length());

        // Then the build stage builds the launcher, and the image copies that directory and runs that jar
        assertTrue(
                dockerfile.runs("build").stream()
                        .anyMatch(r -> r.contains("./mvnw") && r.contains("-pl launcher") && r.contains(" package")),
                "the build stage does not package the launcher: " + dockerfile.runs("build"));
        String copied = dockerfile.buildWorkdir() + "/" + distribution + "/";
        String installed = dockerfile.copyFromBuild(copied);
        String entrypoint = String.join(" ", dockerfile.exec("ENTRYPOINT"));
        assertTrue(
                entrypoint.contains("-jar " + stripSlash(installed) + "/" + finalName + ".jar"),
                "the ENTRYPOINT does not run " + installed + finalName + ".jar: " + entrypoint);
        assertTrue(entrypoint.contains("$JAVA_OPTS"), "the ENTRYPOINT does not pass JAVA_OPTS: " + entrypoint);

        // And the default command is the launcher's: its subcommands or its standard options
        Set<String> subcommands = Thoughtstream.commandLine().getSubcommands().keySet();
        for (String argument : dockerfile.exec("CMD")) {
            assertTrue(
                    argument.startsWith("-")
                            ? Set.of("--help", "--version").contains(argument)
                            : subcommands.contains(argument),
                    "CMD argument `" + argument + "` is neither a subcommand " + subcommands + " nor --help/--version");
        }
        // And the image does not run as root
        String user = dockerfile.runtimeUser();
        assertFalse(
                user.isEmpty() || user.startsWith("root") || user.startsWith("0:") || user.equals("0"),
                "the image runs as root: USER " + user);
    }

    // ---- Kafka -----------------------------------------------------------------------------------------------------

    @Test
    void kafkaSetupCreatesThePipelinesTopicsWithTopicPartitionsBeforeTheServicesStart() throws IOException {
        // Given the setup service and the script it runs
        JsonNode setup = service("kafka-setup");
        String mount = strings(setup.path("volumes")).stream()
                .filter(v -> v.startsWith("./deploy/kafka/setup.sh:"))
                .findFirst()
                .orElseThrow(() -> new AssertionError("kafka-setup does not mount deploy/kafka/setup.sh"))
                .split(":")[1];
        assertTrue(strings(setup.path("entrypoint")).contains(mount), "kafka-setup does not run " + mount);
        String script = Files.readString(ROOT.resolve("deploy/kafka/setup.sh"));

        // Then it creates exactly the topics Topics declares, each with the prefix and TOPIC_PARTITIONS partitions,
        // defaulting as the services do
        Matcher topics = Pattern.compile("(?m)^topics=\\((.*)\\)$").matcher(script);
        assertTrue(topics.find(), "no topics=(...) line in setup.sh");
        assertEquals(
                Topics.withPrefix("").allNames(),
                List.of(topics.group(1).strip().split("\\s+")));
        int defaultPartitions = KafkaSettings.from(Config.of(Map.of(KafkaSettings.BOOTSTRAP, "kafka:9092")))
                .partitions();
        assertTrue(
                script.contains("partitions=\"${TOPIC_PARTITIONS:-" + defaultPartitions + "}\""),
                "setup.sh's default partition count is not the services' " + defaultPartitions);
        assertTrue(script.contains("prefix=\"${TOPIC_PREFIX:-}\""), "setup.sh does not read TOPIC_PREFIX");
        assertTrue(script.contains("--create --if-not-exists --topic \"$prefix$topic\""), "setup.sh's create");
        assertTrue(script.contains("(--partitions \"$partitions\")"), "setup.sh's partition count");

        // And compose gives it the same TOPIC_PREFIX and TOPIC_PARTITIONS as every service, and every service
        // starts only after it succeeded, with Kafka (and Redis, where used) healthy
        Map<String, String> setupEnv = environment("kafka-setup");
        for (Map.Entry<String, ServiceFactory> e : factories.entrySet()) {
            String service = e.getKey();
            Map<String, String> env = environment(service);
            for (String variable : List.of("TOPIC_PREFIX", "TOPIC_PARTITIONS")) {
                assertEquals(setupEnv.get(variable), env.get(variable), service + "." + variable);
            }
            JsonNode dependsOn = service(service).path("depends_on");
            assertEquals(
                    "service_completed_successfully",
                    dependsOn.path("kafka-setup").path("condition").asText(),
                    service + " does not wait for kafka-setup");
            assertEquals(
                    "service_healthy", dependsOn.path("kafka").path("condition").asText(), service);
            if (e.getValue().usesRedis()) {
                assertEquals(
                        "service_healthy",
                        dependsOn.path("redis").path("condition").asText(),
                        service);
            }
        }
    }

    // ---- Prometheus ------------------------------------------------------------------------------------------------

    @Test
    void prometheusScrapesEveryReplicaOfEveryServiceOnItsMetricsEndpoint() throws Exception {
        // Given the Prometheus configuration compose mounts
        assertTrue(
                strings(service("prometheus").path("volumes"))
                        .contains("./deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml:ro"),
                "the prometheus service does not mount deploy/prometheus/prometheus.yml as its configuration");
        JsonNode config = yaml(ROOT.resolve("deploy/prometheus/prometheus.yml"));
        Map<String, JsonNode> jobsByTarget = new HashMap<>();
        for (JsonNode job : config.path("scrape_configs")) {
            for (JsonNode sd : job.path("dns_sd_configs")) {
                for (JsonNode name : sd.path("names")) {
                    assertTrue(
                            compose.path("services").has(name.asText()),
                            "Prometheus scrapes " + name.asText() + ", which is no compose service");
                    jobsByTarget.put(name.asText(), job);
                }
            }
        }

        try (HttpEndpoints endpoints = HttpEndpoints.start(0, new Metrics())) {
            for (String service : factories.keySet()) {
                // Then each service is found by a DNS A lookup of its compose name (every replica's address), on
                // its HTTP_PORT, at a path its endpoints serve as Prometheus text
                JsonNode job = jobsByTarget.get(service);
                assertNotNull(job, "Prometheus does not scrape " + service);
                JsonNode sd = job.path("dns_sd_configs").get(0);
                assertEquals("A", sd.path("type").asText(), service + ": only A records name every replica");
                assertEquals(httpPort(service), sd.path("port").asInt(), service + ": not its HTTP_PORT");
                String path = job.path("metrics_path").asText("/metrics");
                HttpResponse<String> scrape = HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoints.port() + path))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                assertEquals(200, scrape.statusCode(), service + ": " + path);
                assertTrue(
                        scrape.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"),
                        service + ": " + path + " is not Prometheus text");
            }
        }
    }

    // ---- .env.example ----------------------------------------------------------------------------------------------

    @Test
    void envExampleListsEveryDocumentedVariableAndOnlyVariablesSomethingReads() throws IOException {
        // Given the variables .env.example names (set or commented out), and who reads what
        Map<String, List<String>> example = envExample();
        Set<String> readByCode = new TreeSet<>(ServiceVariables.READ_OUTSIDE_CONFIG);
        factories.values().forEach(f -> readByCode.addAll(ServiceVariables.readBy(f)));
        DevStack.validate(Config.of(Map.of()).observed(readByCode::add));
        Set<String> interpolated = interpolatedByCompose();
        String entrypoint = String.join(" ", dockerfile.exec("ENTRYPOINT"));

        // Then each is read by a service or devstack, by compose itself, or by the image's entrypoint
        Set<String> unread = new TreeSet<>();
        for (String name : example.keySet()) {
            boolean read = ServiceVariables.isRead(name, readByCode)
                    || interpolated.contains(name)
                    || name.equals("COMPOSE_PROFILES")
                    || entrypoint.contains("$" + name);
            if (!read) {
                unread.add(name);
            }
        }
        assertTrue(unread.isEmpty(), ".env.example names variables nothing reads: " + unread);

        // And every variable the README documents for the services is there
        Set<String> missing = new TreeSet<>();
        for (String service : factories.keySet()) {
            for (String name : documented(service)) {
                boolean present = name.endsWith("*")
                        ? example.keySet().stream()
                                .anyMatch(n -> n.startsWith(name.substring(0, name.length() - 1))
                                        && !documented(service).contains(n))
                        : example.containsKey(name);
                if (!present) {
                    missing.add(name);
                }
            }
        }
        assertTrue(missing.isEmpty(), ".env.example lacks variables the README documents: " + missing);

        // And so is every variable docker-compose.yml takes from it
        Set<String> undocumentedKnobs = new TreeSet<>(interpolated);
        undocumentedKnobs.removeAll(example.keySet());
        assertTrue(
                undocumentedKnobs.isEmpty(),
                "docker-compose.yml interpolates variables .env.example does not" + " mention: " + undocumentedKnobs);
    }

    @Test
    void envExampleProfileBlocksPointAtTheContainersTheirProfilesStart() throws IOException {
        // Given the profiles compose defines and the values .env.example suggests
        Map<String, List<String>> example = envExample();
        Set<String> profiles = new TreeSet<>();
        compose.path("services").forEach(s -> profiles.addAll(strings(s.path("profiles"))));

        // Then COMPOSE_PROFILES names only profiles that exist
        for (String value : example.get("COMPOSE_PROFILES")) {
            for (String profile : value.split(",")) {
                assertTrue(
                        profiles.contains(profile.strip()),
                        "COMPOSE_PROFILES=" + value + ": no profile " + profile + " in " + profiles);
            }
        }
        // And a URL naming a compose container names one that a profile starts, on the port it serves
        for (Map.Entry<String, List<String>> e : example.entrySet()) {
            for (String value : e.getValue()) {
                if (!value.startsWith("http://")) {
                    continue;
                }
                URI uri = URI.create(value);
                if (!compose.path("services").has(uri.getHost())) {
                    continue;
                }
                JsonNode target = service(uri.getHost());
                assertFalse(
                        strings(target.path("profiles")).isEmpty(),
                        e.getKey() + "=" + value + " names " + uri.getHost()
                                + ", which is no profile's (set it with its profile)");
                if (imageServiceCommands().getOrDefault(uri.getHost(), "").equals("emulator")) {
                    assertEquals(emulatorPort(uri.getHost()), uri.getPort(), e.getKey() + "=" + value);
                }
            }
        }
        // And the model the ollama profile pulls by default is the one the llm-processor asks Ollama for
        assertEquals(
                List.of("pull", "${LLM_MODEL:-" + LlmConfig.DEFAULT_OLLAMA_MODEL + "}"),
                strings(service("ollama-pull").path("command")));
    }

    // ---- the real stack, where Docker exists ---------------------------------------------------------------------

    static boolean dockerEngineAnswers() {
        try {
            Process p = new ProcessBuilder("docker", "info")
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return false;
            }
            return p.exitValue() == 0;
        } catch (IOException e) {
            return false; // no docker binary
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Test
    @EnabledIf(
            value = "dockerEngineAnswers",
            disabledReason = "no Docker engine answers `docker info` here; the"
                    + " other tests check the deployment files without one")
    void offlineStackAnswersAMessageSentThroughTheEmulator() throws Exception {
        // Given the whole stack configured as .env.example comes (the offline profile, the emulator's token), the
        // scripted model whatever a local .env says, as a project of its own, its web chat on a free port
        Map<String, String> env = new TreeMap<>();
        for (String name : envExample().keySet()) {
            envExampleSetting(name).ifPresent(value -> env.put(name, value));
        }
        assertTrue(env.getOrDefault("COMPOSE_PROFILES", "").contains("offline"), ".env.example's profiles: " + env);
        String project = "thoughtstream-test-" + UUID.randomUUID().toString().substring(0, 8);
        int chatPort;
        try (ServerSocket s = new ServerSocket(0)) {
            chatPort = s.getLocalPort();
        }
        env.put("LLM_PROVIDER", "scripted");
        env.put("EMULATOR_HOST_PORT", Integer.toString(chatPort));
        Path log = ROOT.resolve("launcher/target/logs/compose-" + project + ".log");
        Files.createDirectories(log.getParent());
        try {
            assertEquals(
                    0,
                    docker(
                            env,
                            log,
                            Duration.ofMinutes(30),
                            "compose",
                            "-p",
                            project,
                            "--profile",
                            "offline",
                            "up",
                            "-d",
                            "--build"),
                    "docker compose up failed; see " + log);

            // When a person writes to the bot through the emulator's control API
            long chatId = 4242;
            HttpClient http = HttpClient.newHttpClient();
            String base = "http://127.0.0.1:" + chatPort + "/emulator/chats/" + chatId;
            Await.until("the emulator accepts a message", Duration.ofMinutes(3), () -> send(http, base));

            // Then the bot's reply arrives in the chat's transcript
            Await.until("the bot's reply in the transcript", Duration.ofMinutes(5), () -> {
                JsonNode transcript = get(http, base + "/transcript");
                for (JsonNode entry : transcript) {
                    if (entry.path("from").asText().equals("bot")
                            && !entry.path("text").asText().isBlank()) {
                        return true;
                    }
                }
                return false;
            });
        } finally {
            docker(env, log, Duration.ofMinutes(5), "compose", "-p", project, "--profile", "offline", "down", "-v");
        }
    }

    private static boolean send(HttpClient http, String chat) {
        try {
            HttpResponse<String> r = http.send(
                    HttpRequest.newBuilder(URI.create(chat + "/messages"))
                            .header("Content-Type", "application/json")
                            .POST(HttpRequest.BodyPublishers.ofString("{\"text\": \"Hello! How are you today?\"}"))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
            return r.statusCode() == 200;
        } catch (ConnectException e) {
            return false; // the emulator is not up yet
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode get(HttpClient http, String url) {
        try {
            return JSON.readTree(
                    http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString())
                            .body());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static int docker(Map<String, String> env, Path log, Duration timeout, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("docker"));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command)
                .directory(ROOT.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("`docker " + String.join(" ", args) + "` did not finish within " + timeout);
        }
        return p.exitValue();
    }

    // ---- reading the files -----------------------------------------------------------------------------------------

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("docker-compose.yml"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException(
                    "no docker-compose.yml above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }

    private static JsonNode yaml(Path file) {
        try {
            return YAML.readTree(file.toFile());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static Map<String, ServiceFactory> factoriesByName() {
        Map<String, ServiceFactory> byName = new LinkedHashMap<>();
        Thoughtstream.SERVICES.forEach(f -> byName.put(f.name(), f));
        return byName;
    }

    private JsonNode service(String name) {
        JsonNode s = compose.path("services").path(name);
        assertTrue(s.isObject(), "docker-compose.yml has no service " + name);
        return s;
    }

    /** The compose services built from this repository (the one image), with the subcommand each runs. */
    private Map<String, String> imageServiceCommands() {
        Map<String, String> commands = new TreeMap<>();
        Set<String> images = new TreeSet<>();
        for (Map.Entry<String, JsonNode> s : compose.path("services").properties()) {
            if (s.getValue().path("build").asText().equals(".")) {
                images.add(s.getValue().path("image").asText());
                List<String> command = strings(s.getValue().path("command"));
                assertFalse(command.isEmpty(), s.getKey() + " runs the image without a command (its CMD is --help)");
                commands.put(s.getKey(), command.get(0));
            }
        }
        assertEquals(1, images.size(), "the services built from this repository should share one image: " + images);
        assertFalse(commands.isEmpty(), "no compose service is built from this repository (build: .)");
        return commands;
    }

    /** The service's {@code environment} mapping, values as written (before interpolation). */
    private Map<String, String> environment(String service) {
        JsonNode env = service(service).path("environment");
        Map<String, String> out = new TreeMap<>();
        if (env.isMissingNode()) {
            return out;
        }
        assertTrue(env.isObject(), service + ": environment should be a mapping (NAME: value)");
        env.properties().forEach(e -> out.put(e.getKey(), e.getValue().asText()));
        return out;
    }

    private int httpPort(String service) {
        return Integer.parseInt(
                environment(service).getOrDefault(Infra.HTTP_PORT, Integer.toString(Infra.DEFAULT_HTTP_PORT)));
    }

    private int emulatorPort(String service) {
        return Integer.parseInt(environment(service)
                .getOrDefault("EMULATOR_PORT", Integer.toString(TelegramEmulator.DEFAULT_DEVSTACK_PORT)));
    }

    /** Every variable docker-compose.yml takes from .env or the shell ({@code ${NAME...}}). */
    private static Set<String> interpolatedByCompose() throws IOException {
        Set<String> names = new TreeSet<>();
        Matcher m = INTERPOLATION.matcher(Files.readString(ROOT.resolve("docker-compose.yml")));
        while (m.find()) {
            names.add(m.group(1));
        }
        return names;
    }

    /** .env.example's variables, each with the values it shows (set or commented out), in order. */
    private static Map<String, List<String>> envExample() throws IOException {
        Map<String, List<String>> vars = new TreeMap<>();
        for (String line : Files.readAllLines(ROOT.resolve(".env.example"), StandardCharsets.UTF_8)) {
            Matcher m = ENV_LINE.matcher(line);
            if (m.matches()) {
                vars.computeIfAbsent(m.group(1), k -> new ArrayList<>())
                        .add(m.group(2).strip());
            }
        }
        return vars;
    }

    /** The value .env.example sets {@code name} to (not commented out), if it does. */
    private static Optional<String> envExampleSetting(String name) throws IOException {
        for (String line : Files.readAllLines(ROOT.resolve(".env.example"), StandardCharsets.UTF_8)) {
            if (line.startsWith(name + "=")) {
                return Optional.of(line.substring(name.length() + 1).strip());
            }
        }
        return Optional.empty();
    }

    /** The variables the README's tables document for {@code command} (what its --help lists). */
    private static Set<String> documented(String command) {
        VariableDocs docs = VariableDocs.load();
        Set<String> names = new TreeSet<>();
        for (String section : VariableDocs.sectionsOf(command)) {
            docs.rows(section).forEach(r -> names.addAll(r.names()));
        }
        return names;
    }

    private static List<String> strings(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static String childText(Element root, String child, String grandchild) {
        for (Node n = root.getFirstChild(); n != null; n = n.getNextSibling()) {
            if (n instanceof Element e && e.getTagName().equals(child)) {
                for (Node g = e.getFirstChild(); g != null; g = g.getNextSibling()) {
                    if (g instanceof Element ge && ge.getTagName().equals(grandchild)) {
                        return ge.getTextContent().strip();
                    }
                }
            }
        }
        throw new AssertionError("launcher/pom.xml has no <" + child + "><" + grandchild + ">");
    }

    private static String stripSlash(String path) {
        return path.endsWith("/") ? path.substring(0, path.length() - 1) : path;
    }

    /** Runs the health probe script with bash, as the container would, and returns its exit code. */
    private static int probe(Path script, List<String> args, Map<String, String> env) throws Exception {
        List<String> command = new ArrayList<>(List.of("bash", script.toString()));
        command.addAll(args);
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove(Infra.HTTP_PORT);
        pb.environment().putAll(env);
        Process p = pb.start();
        String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(SCRIPT_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the probe " + command + " did not finish within " + SCRIPT_TIMEOUT);
        }
        if (p.exitValue() != 0 && !output.isBlank()) {
            System.err.println("probe " + command + ": " + output.strip());
        }
        return p.exitValue();
    }

    /**
     * The Dockerfile's instructions by stage, continuation lines joined and comments dropped: only what the checks
     * above need, not a full parser.
     */
    private record Dockerfile(List<Stage> stages) {
        record Instruction(String keyword, String arguments) {}

        record Stage(String name, List<Instruction> instructions) {}

        static Dockerfile read(Path file) {
            List<String> lines;
            try {
                lines = Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + file, e);
            }
            List<Stage> stages = new ArrayList<>();
            StringBuilder current = new StringBuilder();
            for (String raw : lines) {
                String line = raw.strip();
                if (line.startsWith("#") || (line.isEmpty() && current.length() == 0)) {
                    continue;
                }
                if (line.endsWith("\\")) {
                    current.append(line, 0, line.length() - 1).append(' ');
                    continue;
                }
                current.append(line);
                String text = current.toString().strip();
                current.setLength(0);
                if (text.isEmpty()) {
                    continue;
                }
                int space = text.indexOf(' ');
                Instruction instruction = new Instruction(
                        text.substring(0, space).toUpperCase(java.util.Locale.ROOT),
                        text.substring(space + 1).strip());
                if (instruction.keyword().equals("FROM")) {
                    String[] from = instruction.arguments().split("\\s+");
                    stages.add(new Stage(
                            from.length == 3 && from[1].equalsIgnoreCase("AS") ? from[2] : "", new ArrayList<>()));
                } else if (!stages.isEmpty()) {
                    stages.get(stages.size() - 1).instructions().add(instruction);
                }
            }
            return new Dockerfile(stages);
        }

        private Stage stage(String name) {
            return stages.stream()
                    .filter(s -> s.name().equals(name))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("the Dockerfile has no stage " + name));
        }

        private Stage runtime() {
            return stages.get(stages.size() - 1);
        }

        private static Optional<Instruction> last(Stage stage, String keyword) {
            List<Instruction> found = stage.instructions().stream()
                    .filter(i -> i.keyword().equals(keyword))
                    .toList();
            return found.isEmpty() ? Optional.empty() : Optional.of(found.get(found.size() - 1));
        }

        List<String> runs(String stage) {
            return stage(stage).instructions().stream()
                    .filter(i -> i.keyword().equals("RUN"))
                    .map(Instruction::arguments)
                    .toList();
        }

        String buildWorkdir() {
            return last(stage("build"), "WORKDIR")
                    .orElseThrow(() -> new AssertionError("no WORKDIR in the build" + " stage"))
                    .arguments();
        }

        String runtimeWorkdir() {
            return last(runtime(), "WORKDIR")
                    .orElseThrow(() -> new AssertionError("no WORKDIR in the runtime stage"))
                    .arguments();
        }

        String runtimeUser() {
            return last(runtime(), "USER").map(Instruction::arguments).orElse("");
        }

        /** Where the runtime stage puts {@code source} copied from the build stage. */
        String copyFromBuild(String source) {
            return copies().stream()
                    .filter(c -> c.contains("--from=build") && c.contains(" " + source + " "))
                    .map(DeploymentFilesTest.Dockerfile::destination)
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(
                            "the runtime stage does not COPY --from=build " + source + ": " + copies()));
        }

        /** Where the runtime stage puts {@code source} copied from the build context. */
        String copyDestination(String source) {
            return copies().stream()
                    .filter(c -> !c.contains("--from=") && c.contains(" " + source + " "))
                    .map(DeploymentFilesTest.Dockerfile::destination)
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("the runtime stage does not COPY " + source));
        }

        private List<String> copies() {
            return runtime().instructions().stream()
                    .filter(i -> i.keyword().equals("COPY"))
                    .map(i -> " " + i.arguments() + " ")
                    .toList();
        }

        private static String destination(String copy) {
            String[] parts = copy.strip().split("\\s+");
            return parts[parts.length - 1];
        }

        /** An exec-form (JSON array) instruction of the runtime stage. */
        List<String> exec(String keyword) {
            String args = last(runtime(), keyword)
                    .orElseThrow(() -> new AssertionError("no " + keyword))
                    .arguments();
            return jsonArray(args, keyword);
        }

        /** The HEALTHCHECK's exec-form command. */
        List<String> healthcheckCommand() {
            String args = last(runtime(), "HEALTHCHECK")
                    .orElseThrow(() -> new AssertionError("no HEALTHCHECK"))
                    .arguments();
            int cmd = args.indexOf("CMD ");
            assertTrue(cmd >= 0, "HEALTHCHECK without CMD: " + args);
            return jsonArray(args.substring(cmd + 4).strip(), "HEALTHCHECK CMD");
        }

        private static List<String> jsonArray(String text, String what) {
            try {
                List<String> out = new ArrayList<>();
                JSON.readTree(text).forEach(n -> out.add(n.asText()));
                return out;
            } catch (IOException e) {
                throw new AssertionError(what + " is not in exec (JSON array) form: " + text, e);
            }
        }
    }
}
