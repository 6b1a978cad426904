package dev.thoughtstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.thoughtstream.chunker.ChunkerFactory;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.service.ServiceFactory;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.common.tracing.TracingSettings;
import dev.thoughtstream.emitter.EmitterFactory;
import dev.thoughtstream.ingest.IngestFactory;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.LlmProcessorFactory;
import dev.thoughtstream.llm.ScaleConfig;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.llm.Behavior;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The operators' dashboard ({@code deploy/grafana/dashboards/thoughtstream.json}) and alert rules
 * ({@code deploy/prometheus/alerts.yml}) against what the services really export, and the compose
 * {@code observability} profile that ships them. A panel or an alert that queries a series nobody exports shows
 * "No data" or never fires, and nothing else would notice: so the four services are started here as the launcher
 * starts them (each from its factory, over its own {@link Infra} serving {@code /metrics}), on the in-process
 * broker, a real Redis and the Telegram emulator, a person's messages go through the pipeline, and every metric
 * name a query uses must be in the scrape of the service it names. No Docker: the compose side is checked from
 * the files.
 */
class DashboardTest {
    private static final Path ROOT = repositoryRoot();
    private static final Path DASHBOARD = ROOT.resolve("deploy/grafana/dashboards/thoughtstream.json");
    private static final Path ALERTS = ROOT.resolve("deploy/prometheus/alerts.yml");
    private static final Path PROMETHEUS = ROOT.resolve("deploy/prometheus/prometheus.yml");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    /**
     * How often the services' Kafka binders look for metrics their client created after binding (a partition's lag
     * once it is fetched, a topic's once it is written to), and their refreshed gauges (Telegram's backlog, a share
     * group's lag) read again: a scrape has them after the next look. Services look every
     * {@link Metrics#DEFAULT_REFRESH}; the test would wait that long for nothing.
     */
    private static final Duration REFRESH = Duration.ofSeconds(1);

    private static final List<String> PIPELINE = List.of("ingest", "chunker", "llm-processor", "emitter");
    private static final String BOT_TOKEN = "123456:dashboard-test-token";

    /** A series a query selects: its metric name and the label matchers in braces after it, if any. */
    private static final Pattern SELECTOR =
            Pattern.compile("\\b((?:thoughtstream|jvm|kafka|process)_[A-Za-z0-9_:]*)\\s*(\\{[^}]*})?");

    private static final Pattern MATCHER = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)\\s*(=~|!~|!=|=)\\s*\"([^\"]*)\"");
    /** One sample line of Prometheus text: name, labels, value. */
    private static final Pattern SAMPLE = Pattern.compile("^([A-Za-z_:][A-Za-z0-9_:]*)(\\{(.*)})?\\s+\\S+.*$");

    private static final Pattern LABEL = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    private final HttpClient http = HttpClient.newHttpClient();
    private final Deque<AutoCloseable> closers = new ArrayDeque<>();

    @AfterEach
    void stopEverything() {
        // Services before their Infra, then the emulator and the model: the reverse of their start
        IllegalStateException failure = null;
        while (!closers.isEmpty()) {
            try {
                closers.pop().close();
            } catch (Exception e) {
                if (failure == null) {
                    failure = new IllegalStateException("could not stop what the test started", e);
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    // ---- the files -------------------------------------------------------------------------------------------------

    @Test
    void dashboardIsGrafanaJsonWhosePanelsQueryTheProvisionedPrometheus() throws IOException {
        // Given the dashboard file Grafana's provisioning loads
        JsonNode dashboard = JSON.readTree(DASHBOARD.toFile());
        JsonNode datasource = YAML.readTree(ROOT.resolve("deploy/grafana/provisioning/datasources/prometheus.yml")
                        .toFile())
                .path("datasources")
                .get(0);

        // Then it is a dashboard with a fixed uid and title (provisioning keys a dashboard by its uid)
        assertFalse(dashboard.path("uid").asText().isBlank(), "the dashboard has no uid");
        assertFalse(dashboard.path("title").asText().isBlank(), "the dashboard has no title");
        Set<Integer> ids = new HashSet<>();
        int queries = 0;
        for (JsonNode panel : dashboard.path("panels")) {
            String title = panel.path("title").asText();
            assertTrue(ids.add(panel.path("id").asInt()), "two panels share the id " + panel.path("id"));
            assertTrue(panel.has("gridPos"), title + ": no gridPos");
            if (panel.path("type").asText().equals("row")) {
                continue;
            }
            // and every panel reads the provisioned data source, with at least one query
            assertEquals(
                    datasource.path("uid").asText(),
                    panel.path("datasource").path("uid").asText(),
                    title + ": not the provisioned data source");
            assertTrue(panel.path("targets").size() > 0, title + ": no query");
            for (JsonNode target : panel.path("targets")) {
                assertFalse(target.path("expr").asText().isBlank(), title + ": a target without an expression");
                assertFalse(target.path("refId").asText().isBlank(), title + ": a target without a refId");
                queries++;
            }
        }
        assertTrue(queries > 20, "only " + queries + " queries: the dashboard has lost its panels");
    }

    @Test
    void alertRulesAreAPrometheusRuleFileThePrometheusOfComposeLoads() throws IOException {
        // Given the rule file
        JsonNode rules = YAML.readTree(ALERTS.toFile());

        // Then it has groups of named rules, each an alert with an expression, a duration, a severity and a summary
        assertTrue(rules.path("groups").size() > 0, "no rule groups");
        Set<String> alerts = new TreeSet<>();
        for (JsonNode group : rules.path("groups")) {
            assertFalse(group.path("name").asText().isBlank(), "a group without a name");
            assertTrue(group.path("rules").size() > 0, group.path("name") + ": no rules");
            for (JsonNode rule : group.path("rules")) {
                String alert = rule.path("alert").asText();
                assertFalse(alert.isBlank(), "a rule that is no alert: " + rule);
                assertTrue(alerts.add(alert), "two alerts are called " + alert);
                assertFalse(rule.path("expr").asText().isBlank(), alert + ": no expr");
                assertTrue(
                        rule.path("for").asText().matches("\\d+[smh]"),
                        alert + ": 'for' is not a Prometheus duration: " + rule.path("for"));
                assertTrue(
                        Set.of("critical", "warning", "info")
                                .contains(rule.path("labels").path("severity").asText()),
                        alert + ": severity");
                assertFalse(rule.path("annotations").path("summary").asText().isBlank(), alert + ": no summary");
            }
        }
        // and what the brief of an operator needs is there
        for (String needed : List.of(
                "PipelineBacklogGrowing",
                "DeadLettersWritten",
                "PartitionStuck",
                "NoActivePoller",
                "ActivePollerStopped",
                "ShareGroupBacklogGrowing",
                "TelegramBacklogGrowing")) {
            assertTrue(alerts.contains(needed), "no alert " + needed + " in " + alerts);
        }

        // and Prometheus loads it: prometheus.yml names the file at the path compose mounts it to
        JsonNode config = YAML.readTree(PROMETHEUS.toFile());
        List<String> ruleFiles = new ArrayList<>();
        config.path("rule_files").forEach(f -> ruleFiles.add(f.asText()));
        ComposeFile compose = ComposeFile.read(ROOT.resolve("docker-compose.yml"));
        Map<String, String> mounts = bindMounts(compose, "prometheus");
        assertEquals(
                List.of(mounts.get("./deploy/prometheus/alerts.yml")),
                ruleFiles,
                "prometheus.yml's rule_files against compose's mounts " + mounts);
    }

    @Test
    void observabilityProfileMountsFilesThatExistAndScrapesEveryPipelineServiceOnItsHttpPort() throws IOException {
        // Given the compose file as compose reads it, with .env.example as the project's .env
        ComposeFile compose = ComposeFile.read(ROOT.resolve("docker-compose.yml"));
        Map<String, String> project = ComposeFile.dotenv(ROOT.resolve(".env.example"));
        project.putIfAbsent(TelegramSettings.TOKEN, BOT_TOKEN);

        // Then the profile has Prometheus, Grafana and the trace viewer, and whatever they mount from the repository
        // is there
        List<String> observability = compose.services().stream()
                .filter(s -> compose.profiles(s).contains("observability"))
                .sorted()
                .toList();
        assertEquals(List.of("grafana", "jaeger", "prometheus"), observability);
        for (String service : observability) {
            for (String source : bindMounts(compose, service).keySet()) {
                assertTrue(Files.exists(ROOT.resolve(source)), service + " mounts " + source + ", which is missing");
            }
        }
        Map<String, String> grafana = bindMounts(compose, "grafana");
        assertEquals("/etc/grafana/provisioning", grafana.get("./deploy/grafana/provisioning"));
        JsonNode provider = YAML.readTree(ROOT.resolve("deploy/grafana/provisioning/dashboards/thoughtstream.yml")
                        .toFile())
                .path("providers")
                .get(0);
        assertEquals(
                grafana.get("./deploy/grafana/dashboards"),
                provider.path("options").path("path").asText(),
                "Grafana looks for dashboards where compose does not mount them");
        assertTrue(Files.isRegularFile(DASHBOARD), "no dashboard at " + DASHBOARD);

        // and Prometheus scrapes exactly the pipeline services, each by its compose name on its HTTP_PORT
        JsonNode config = YAML.readTree(PROMETHEUS.toFile());
        Map<String, Integer> scraped = new TreeMap<>();
        for (JsonNode job : config.path("scrape_configs")) {
            for (JsonNode sd : job.path("dns_sd_configs")) {
                for (JsonNode name : sd.path("names")) {
                    assertEquals(
                            job.path("job_name").asText(),
                            name.asText(),
                            "the job label is the compose service's name (the dashboard selects by it)");
                    scraped.put(name.asText(), sd.path("port").asInt());
                }
            }
        }
        Map<String, Integer> expected = new TreeMap<>();
        for (String service : PIPELINE) {
            String port = compose.environment(service, project).get(Infra.HTTP_PORT);
            expected.put(service, Integer.parseInt(port == null ? "" + Infra.DEFAULT_HTTP_PORT : port));
        }
        assertEquals(expected, scraped);

        // and every pipeline service sends its spans where .env.example's observability block points: the trace
        // viewer's OTLP/http port
        String traces = ComposeFile.dotenv(ROOT.resolve(".env.example"))
                .getOrDefault(TracingSettings.ENDPOINT, commentedExample(TracingSettings.ENDPOINT));
        assertEquals("http://jaeger:4318", traces, ".env.example's trace collector");
        Map<String, String> withTraces = new HashMap<>(project);
        withTraces.put(TracingSettings.ENDPOINT, traces);
        for (String service : PIPELINE) {
            assertEquals(
                    traces,
                    compose.environment(service, withTraces).get(TracingSettings.ENDPOINT),
                    service + " does not pass " + TracingSettings.ENDPOINT + " on");
        }
    }

    /** The value of a commented-out {@code # NAME=value} line of .env.example, as a user would uncomment it. */
    private static String commentedExample(String name) throws IOException {
        String prefix = "# " + name + "=";
        return Files.readAllLines(ROOT.resolve(".env.example")).stream()
                .filter(line -> line.startsWith(prefix))
                .map(line -> line.substring(prefix.length()).strip())
                .findFirst()
                .orElseThrow(() -> new AssertionError(".env.example has no " + name + " line"));
    }

    // ---- the services ----------------------------------------------------------------------------------------------

    @Test
    void everyMetricTheDashboardAndTheAlertsQueryIsExportedByTheServiceTheyAskForIt(@TempDir Path stateDir)
            throws Exception {
        // Given the four services as the launcher runs them, each with its own /metrics, on one broker, Redis, the
        // emulator and an OpenAI-compatible model whose first call fails (so the error and retry series exist)
        TelegramEmulator telegram =
                TelegramEmulator.builder().port(0).botToken(BOT_TOKEN).build().start();
        closers.push(telegram);
        FakeLlmServer llm = FakeLlmServer.builder().build().start();
        closers.push(llm);
        llm.enqueue(Behavior.failing(500));
        String prefix = TestKafka.uniquePrefix("dashboard");
        Topics topics = TestKafka.createTopics(prefix);
        Map<String, String> env = new HashMap<>();
        env.put(KafkaSettings.BOOTSTRAP, TestKafka.bootstrapServers());
        env.put("TOPIC_PREFIX", prefix);
        env.put("TOPIC_PARTITIONS", Integer.toString(TestKafka.PARTITIONS));
        env.put(RedisSettings.URL, TestRedis.url().toString());
        env.put("REDIS_KEY_PREFIX", TestRedis.uniqueKeyPrefix("dashboard"));
        env.put(TelegramSettings.TOKEN, BOT_TOKEN);
        env.put(TelegramSettings.API_URL, telegram.baseUrl());
        env.put("INGEST_POLL_TIMEOUT_S", "1");
        env.put("CHUNK_GAP_MS", "200");
        env.put("STREAMS_STATE_DIR", stateDir.toString());
        env.put(LlmConfig.PROVIDER, "openai");
        env.put(LlmConfig.API_URL, llm.openAiBaseUrl());
        env.put(LlmConfig.API_KEY, "sk-dashboard-test");
        env.put(LlmConfig.MODEL, llm.modelName());
        env.put(LlmConfig.RETRY_BACKOFF_MS, "50");
        env.put("CHUNKER_APPLICATION_ID", prefix + "chunker");
        env.put(LlmConfig.GROUP_ID, prefix + "llm");
        env.put("EMITTER_GROUP_ID", prefix + "emitter");
        env.put("TYPING_MIN_MS", "0");
        env.put("TYPING_MAX_MS", "0");
        Config config = Config.of(env);
        Map<String, List<URI>> metricsUrls = new LinkedHashMap<>();
        // Downstream first, as devstack starts them: nothing waits on a stage that is not there yet
        for (ServiceFactory factory :
                List.of(new EmitterFactory(), new LlmProcessorFactory(), new ChunkerFactory(), new IngestFactory())) {
            metricsUrls.computeIfAbsent(factory.name(), n -> new ArrayList<>()).add(startScraped(factory, config));
        }
        assertEquals(new TreeSet<>(PIPELINE), metricsUrls.keySet(), "the services' names are the compose names");
        // and a second llm-processor in share mode (its lag is a series of its own), on topics of its own that no
        // traffic reaches: scraped under the same job, as a replica of another deployment would be
        String sharePrefix = TestKafka.uniquePrefix("dashboard-share");
        TestKafka.createTopics(sharePrefix);
        metricsUrls
                .get(new LlmProcessorFactory().name())
                .add(startScraped(
                        new LlmProcessorFactory(),
                        config.with(Map.of(
                                "TOPIC_PREFIX",
                                sharePrefix,
                                LlmConfig.GROUP_ID,
                                sharePrefix + "llm",
                                ScaleConfig.MODE,
                                "share"))));

        // When a person writes a thought and a command, and an unreadable record reaches the chunker
        telegram.injectMessage(41, "hello, how is the weather where you are?");
        telegram.injectMessage(42, "/start");
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(TestKafka.producerProps(), new ByteArraySerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(
                            topics.updates().name(),
                            new LongSerializer().serialize("", 43L),
                            "not an update".getBytes(StandardCharsets.UTF_8)))
                    .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }
        Await.until(
                "the bot's answer, after a retry",
                TIMEOUT,
                () -> !telegram.botTexts(41).isEmpty());
        Await.until(
                "the bot's /start reply", TIMEOUT, () -> !telegram.botTexts(42).isEmpty());

        // Then every series a panel or an alert selects is in the scrape of the service it selects by job (or of
        // one of them, without a job), with a sample for every label value it asks for by equality
        List<Query> queries = new ArrayList<>();
        queries.addAll(dashboardQueries());
        queries.addAll(alertQueries());
        Map<String, List<Sample>> scrapes = new TreeMap<>();
        try {
            Await.until("every queried series on /metrics", TIMEOUT, () -> {
                metricsUrls.forEach((service, urls) -> {
                    List<Sample> all = new ArrayList<>();
                    for (int i = 0; i < urls.size(); i++) {
                        String text = scrape(urls.get(i));
                        keep(i == 0 ? service : service + "-" + (i + 1), text);
                        all.addAll(samples(text));
                    }
                    scrapes.put(service, all);
                });
                return missing(queries, scrapes).isEmpty();
            });
        } catch (AssertionError timedOut) {
            fail(timedOut.getMessage() + "; the last scrapes are in launcher/target/dashboard-scrapes; missing:\n"
                    + String.join("\n", missing(queries, scrapes)));
        }
    }

    /**
     * Starts {@code factory}'s service as the launcher does, over an {@link Infra} of its own serving {@code /metrics}
     * (refreshing every {@link #REFRESH}), and returns where its metrics are.
     */
    private URI startScraped(ServiceFactory factory, Config config) throws InterruptedException {
        Infra.Settings settings = Infra.Settings.from(config, factory.usesRedis());
        Infra.Builder builder = Infra.builder(settings.kafka()).metrics(new Metrics(REFRESH));
        settings.redis().ifPresent(builder::redis);
        Infra infra = builder.build();
        closers.push(infra);
        int port = infra.serveHttp(0).port();
        Service service = factory.create(config, infra);
        closers.push(service);
        service.start();
        assertTrue(service.awaitReady(TIMEOUT), factory.name() + " not ready within " + TIMEOUT);
        return URI.create("http://127.0.0.1:" + port + "/metrics");
    }

    @Test
    void theCheckReportsANameALabelValueOrAJobThatTheScrapesDoNotHave() {
        // Given two services' scrapes
        Map<String, List<Sample>> scrapes = Map.of(
                "emitter",
                samples("# TYPE thoughtstream_emitter_parts_total counter\n"
                        + "thoughtstream_emitter_parts_total{outcome=\"sent\"} 3.0\n"
                        + "thoughtstream_emitter_first_part_delay_seconds_bucket{le=\"0.005\"} 0.0\n"),
                "chunker",
                samples("kafka_consumer_fetch_manager_records_lag{partition=\"0\",topic=\"p.tg.updates\"} 0.0\n"));

        // When queries select what is there, in functions, by job, with a histogram's bucket series
        List<Query> good = List.of(
                new Query("a", "sum by (outcome) (rate(thoughtstream_emitter_parts_total{job=\"emitter\"}[5m]))"),
                new Query(
                        "b",
                        "histogram_quantile(0.95, sum by (le) (rate("
                                + "thoughtstream_emitter_first_part_delay_seconds_bucket{job=\"emitter\"}[5m])))"),
                new Query("c", "max(kafka_consumer_fetch_manager_records_lag{topic=~\".*[.].*\"}) > 0"),
                new Query("d", "up{job=~\"emitter\"} == 0"));
        // Then nothing is missing
        assertEquals(List.of(), missing(good, scrapes));

        // When they select a name nobody exports, a label value no sample has, a series of another service, a
        // job that is no service, or nothing at all
        List<Query> bad = List.of(
                new Query("name", "rate(thoughtstream_emitter_part_total[5m])"),
                new Query("value", "rate(thoughtstream_emitter_parts_total{outcome=\"lost\"}[5m])"),
                new Query("service", "kafka_consumer_fetch_manager_records_lag{job=\"emitter\"}"),
                new Query("job", "thoughtstream_emitter_parts_total{job=\"sender\"}"),
                new Query("nothing", "vector(1)"));
        // Then each is reported
        List<String> missing = missing(bad, scrapes);
        assertEquals(bad.size(), missing.size(), String.join("\n", missing));
        for (int i = 0; i < bad.size(); i++) {
            assertTrue(missing.get(i).startsWith(bad.get(i).where() + ":"), missing.get(i));
        }
    }

    // ---- queries and scrapes ---------------------------------------------------------------------------------------

    /** One PromQL expression and where it comes from (a panel's title, an alert's name). */
    record Query(String where, String expr) {}

    record Sample(String name, Map<String, String> labels) {}

    private static List<Query> dashboardQueries() throws IOException {
        List<Query> queries = new ArrayList<>();
        for (JsonNode panel : JSON.readTree(DASHBOARD.toFile()).path("panels")) {
            for (JsonNode target : panel.path("targets")) {
                queries.add(new Query(
                        "panel '" + panel.path("title").asText() + "'",
                        target.path("expr").asText()));
            }
        }
        return queries;
    }

    private static List<Query> alertQueries() throws IOException {
        List<Query> queries = new ArrayList<>();
        for (JsonNode group : YAML.readTree(ALERTS.toFile()).path("groups")) {
            for (JsonNode rule : group.path("rules")) {
                queries.add(new Query(
                        "alert " + rule.path("alert").asText(),
                        rule.path("expr").asText()));
            }
        }
        return queries;
    }

    /** What the queries select that no scrape has, one line each; empty when every query finds its series. */
    private static List<String> missing(List<Query> queries, Map<String, List<Sample>> scrapes) {
        List<String> missing = new ArrayList<>();
        for (Query query : queries) {
            Matcher selector = SELECTOR.matcher(query.expr());
            boolean any = false;
            while (selector.find()) {
                any = true;
                String name = selector.group(1);
                Map<String, String> equal = new TreeMap<>();
                String job = null;
                if (selector.group(2) != null) {
                    Matcher m = MATCHER.matcher(selector.group(2));
                    while (m.find()) {
                        if (m.group(1).equals("job")) {
                            assertEquals("=", m.group(2), query.where() + ": select a job by equality");
                            job = m.group(3);
                        } else if (m.group(2).equals("=")) {
                            equal.put(m.group(1), m.group(3));
                        }
                    }
                }
                if (job != null && !scrapes.containsKey(job)) {
                    missing.add(query.where() + ": job \"" + job + "\" is no pipeline service");
                    continue;
                }
                List<List<Sample>> where = job == null ? List.copyOf(scrapes.values()) : List.of(scrapes.get(job));
                boolean found = where.stream()
                        .flatMap(List::stream)
                        .anyMatch(s -> s.name().equals(name)
                                && equal.entrySet().stream()
                                        .allMatch(e ->
                                                e.getValue().equals(s.labels().get(e.getKey()))));
                if (!found) {
                    missing.add(query.where() + ": " + name + equal + " not on /metrics of "
                            + (job == null ? "any service" : job));
                }
            }
            // Prometheus' own per-target series (up) is the one other thing a query may select
            if (!any && !query.expr().matches("(?s).*\\bup\\{.*")) {
                missing.add(query.where() + ": selects no thoughtstream_, jvm_, kafka_ or process_ series: "
                        + query.expr());
            }
        }
        return missing;
    }

    private static List<Sample> samples(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                continue;
            }
            Map<String, String> labels = new HashMap<>();
            if (m.group(3) != null) {
                Matcher l = LABEL.matcher(m.group(3));
                while (l.find()) {
                    labels.put(l.group(1), l.group(2));
                }
            }
            samples.add(new Sample(m.group(1), labels));
        }
        return samples;
    }

    private String scrape(URI url) {
        try {
            HttpResponse<String> r =
                    http.send(HttpRequest.newBuilder(url).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, r.statusCode(), url.toString());
            return r.body();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while scraping " + url, e);
        }
    }

    /** The last scrape of each service, to read what there is when a query finds nothing. */
    private static void keep(String service, String text) {
        Path file = ROOT.resolve("launcher/target/dashboard-scrapes/" + service + ".prom");
        try {
            Files.createDirectories(file.getParent());
            Files.writeString(file, text, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A service's bind mounts from the repository: source as written ({@code ./deploy/...}) to container path. */
    private static Map<String, String> bindMounts(ComposeFile compose, String service) {
        Map<String, String> mounts = new LinkedHashMap<>();
        for (String volume : compose.volumes(service)) {
            String[] parts = volume.split(":");
            if (parts[0].startsWith("./")) {
                mounts.put(parts[0], parts[1]);
            }
        }
        return mounts;
    }

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
}
