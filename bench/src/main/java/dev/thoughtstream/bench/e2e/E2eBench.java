package dev.thoughtstream.bench.e2e;

import dev.thoughtstream.bench.Machine;
import dev.thoughtstream.bench.restore.RestoreBenchmark;
import dev.thoughtstream.bench.restore.RestoreOptions;
import dev.thoughtstream.testkit.kafka.EmbeddedKafka;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import dev.thoughtstream.testkit.redis.RedisServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One e2e run: a fresh embedded broker and Redis, then three pipelines one after another (load, stale drop,
 * streaming), each devstack's four services with their own topics, then the Kafka floor on the same broker with
 * the record sizes the load produced. Prints every figure beside its ratio to the floor. Nothing is asserted.
 */
public final class E2eBench {
    private static final Logger LOG = LoggerFactory.getLogger(E2eBench.class);

    /** Every figure of a run, for callers that want more than the printed report; a part not run is null (empty). */
    public record Report(
            LoadScenario.Result load,
            StaleDropScenario.Result stale,
            StreamingScenario.Result streaming,
            KafkaFloor.Result floor,
            RestoreBenchmark.Result restore,
            String restoreLog,
            List<IngestThroughputScenario.Result> ingest,
            List<Realistic> real,
            List<CapacityScenario.Result> capacity) {}

    /** Item 7 in one llm mode, the services deployed as {@code deploy} ({@code jvm} or {@code processes}). */
    public record Realistic(String mode, String deploy, LoadScenario.Result result) {}

    private E2eBench() {}

    public static Report run(E2eOptions o, PrintStream out) throws InterruptedException {
        Path workDir = o.workDir();
        boolean temporary = workDir == null;
        try {
            if (temporary) {
                workDir = Files.createTempDirectory("thoughtstream-bench-");
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a work directory", e);
        }
        try {
            return runIn(o, workDir, out);
        } finally {
            if (temporary) {
                deleteQuietly(workDir);
            }
        }
    }

    private static Report runIn(E2eOptions o, Path workDir, PrintStream out) throws InterruptedException {
        out.println("== thoughtstream e2e bench, "
                + OffsetDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        out.println("== machine");
        out.println("  " + Machine.oneLine());
        out.println("== parameters");
        out.printf(
                Locale.ROOT,
                "  chats %d, offered %.0f messages/s in thoughts of %d message(s) (a turn every %d ms "
                        + "per chat), warm-up %d s, measured %d s, CHUNK_GAP_MS %d, TOPIC_PARTITIONS %d%n",
                o.chats(),
                o.rate(),
                o.messagesPerThought(),
                o.turnPeriod().toMillis(),
                o.warmup().toSeconds(),
                o.duration().toSeconds(),
                o.gapMs(),
                o.partitions());
        out.printf(
                Locale.ROOT,
                "  scripted model at zero latency; TYPING_MIN_MS=TYPING_MAX_MS=0, READING_PAUSE_MS=0; "
                        + "emitter rate limits off (EMITTER_CHAT_RATE_PER_S=0, EMITTER_GROUP_RATE_PER_MIN=0, "
                        + "EMITTER_GLOBAL_RATE_PER_S=0)%n");
        out.printf(
                Locale.ROOT,
                "  stale drop: %d chats, typing %d ms per part; streaming: %d chats at %.0f tokens/s; "
                        + "floor: %d s measured after %d s warm-up, throughput run %d s%n",
                o.staleChats(),
                o.staleTypingMs(),
                o.streamChats(),
                o.streamTokensPerSecond(),
                o.floorDuration().toSeconds(),
                o.floorWarmup().toSeconds(),
                o.floorThroughputFor().toSeconds());
        E2eOptions.Realistic re = o.real();
        out.printf(
                Locale.ROOT,
                "  realistic load (item 7): %d chats, a turn of %d messages every %d ms each (%.0f "
                        + "thoughts/s), model: first token after %d ms, %.0f tokens/s, %s; LLM_MODE %s; warm-up %d s, "
                        + "measured %d s; services %s%n",
                re.chats(),
                o.messagesPerThought(),
                re.turnEvery().toMillis(),
                re.chats() * 1000.0 / re.turnEvery().toMillis(),
                re.ttft().toMillis(),
                re.tokensPerSecond(),
                re.modelTick().isZero()
                        ? "each token written when due"
                        : "the tokens due written every " + re.modelTick().toMillis() + " ms",
                String.join(" and ", re.modes()),
                re.warmup().toSeconds(),
                re.duration().toSeconds(),
                re.deploy().equals("processes")
                        ? "each a JVM process of its own (java "
                                + String.join(" ", ServiceProcesses.IMAGE_JVM_OPTIONS)
                                + (re.javaOpts().isEmpty() ? "" : " " + String.join(" ", re.javaOpts()))
                                + " -jar " + re.dist().resolve("thoughtstream.jar") + " <service>)"
                        : "in this JVM (devstack)");
        E2eOptions.Capacity ca = o.capacity();
        out.printf(
                Locale.ROOT,
                "  capacity (item 8): %.0f thoughts/s offered to one llm-processor, LLM_MAX_IN_FLIGHT "
                        + "%d, model: first token after %d ms, %.0f tokens/s, %s; LLM_MODE %s; warm-up %d s, "
                        + "measured %d s%n",
                ca.rate(),
                ca.maxInFlight(),
                ca.ttft().toMillis(),
                ca.tokensPerSecond(),
                ca.modelTick().isZero()
                        ? "each token written when due"
                        : "the tokens due written every " + ca.modelTick().toMillis() + " ms",
                String.join(" and ", ca.modes()),
                ca.warmup().toSeconds(),
                ca.duration().toSeconds());
        if (!o.overrides().isEmpty()) {
            out.println("  overrides (--set): " + o.overrides());
        }
        try (EmbeddedKafka kafka = EmbeddedKafka.start(workDir.resolve("kafka"), 0);
                RedisServer redis = RedisServer.findExecutable().isPresent()
                        ? RedisServer.start(workDir.resolve("redis"), 0)
                        : null) {
            String bootstrap = kafka.bootstrapServers();
            String redisUrl = redis == null ? null : redis.url().toString();
            out.println("== infrastructure");
            out.println("  kafka: embedded KRaft broker " + bootstrap + " (this JVM)");
            out.println("  redis: "
                    + (redis == null
                            ? "NONE: redis-server is not installed, devstack's IN-MEMORY fallback (claims and staleness in "
                                    + "this JVM; cheaper than real Redis, so figures are optimistic)"
                            : "real redis-server " + redisUrl + " (started by the bench)"));

            LoadScenario.Result load = null;
            if (o.runs("load")) {
                out.println("-- running: load (items 1-3)");
                try (PipelineStack stack = PipelineStack.start("load", bootstrap, redisUrl, workDir, o, Map.of())) {
                    out.println("  " + stack.readyLine());
                    load = LoadScenario.run(stack, bootstrap, o, o.load(), null, out);
                }
            }
            StaleDropScenario.Result stale = null;
            if (o.runs("stale")) {
                out.println("-- running: stale drop (item 4)");
                try (PipelineStack stack = PipelineStack.start(
                        "stale",
                        bootstrap,
                        redisUrl,
                        workDir,
                        o,
                        Map.of(
                                "TYPING_MIN_MS", Long.toString(o.staleTypingMs()),
                                "TYPING_MAX_MS", Long.toString(o.staleTypingMs()),
                                "TYPING_JITTER", "0"))) {
                    stale = StaleDropScenario.run(stack, bootstrap, o, out);
                }
            }
            StreamingScenario.Result streaming = null;
            if (o.runs("stream")) {
                out.println("-- running: streaming (item 5)");
                try (FakeLlmServer model = StreamingScenario.startModel();
                        PipelineStack stack = PipelineStack.start(
                                "stream", bootstrap, redisUrl, workDir, o, StreamingScenario.settings(model))) {
                    streaming = StreamingScenario.run(stack, model, bootstrap, o, out);
                }
            }
            List<Realistic> real = new ArrayList<>();
            if (o.runs("real")) {
                for (String mode : o.real().modes()) {
                    out.println("-- running: realistic load (item 7), LLM_MODE=" + mode);
                    try (PacedModel model = PacedModel.start(
                            o.real().ttft(),
                            o.real().tokensPerSecond(),
                            o.real().modelTick())) {
                        Map<String, String> settings = new java.util.HashMap<>(model.settings());
                        settings.put("LLM_MODE", mode);
                        try (Pipeline stack = o.real().deploy().equals("processes")
                                ? ServiceProcesses.start("real-" + mode, bootstrap, redis, workDir, o, settings)
                                : PipelineStack.start("real-" + mode, bootstrap, redisUrl, workDir, o, settings)) {
                            out.println("  " + stack.readyLine());
                            real.add(new Realistic(
                                    mode,
                                    o.real().deploy(),
                                    LoadScenario.run(stack, bootstrap, o, o.realLoad(), model, out)));
                        }
                    }
                }
            }
            List<CapacityScenario.Result> capacity = new ArrayList<>();
            if (o.runs("capacity")) {
                for (String mode : o.capacity().modes()) {
                    out.println("-- running: llm-processor capacity (item 8), LLM_MODE=" + mode);
                    capacity.add(CapacityScenario.run(mode, bootstrap, redis, o, out));
                }
            }
            List<IngestThroughputScenario.Result> ingest = new ArrayList<>();
            if (o.runs("ingest")) {
                for (String mode : o.ingestModes()) {
                    out.println("-- running: ingest alone, " + mode);
                    ingest.add(IngestThroughputScenario.run(mode, bootstrap, redis, o, out));
                }
            }
            KafkaFloor.Result floor = KafkaFloor.Result.skipped();
            if (o.runs("floor")) {
                out.println("-- running: Kafka floor");
                int[] sizes = {
                    (int) Math.max(16, Math.round(load == null ? 400 : load.avgUpdateBytes())),
                    (int) Math.max(16, Math.round(load == null ? 3000 : load.avgThoughtBytes())),
                    (int) Math.max(16, Math.round(load == null ? 270 : load.avgReplyBytes())),
                };
                double ingested = load == null ? o.rate() : load.ingestedPerSecond();
                double floorRate = Math.max(50, Double.isFinite(ingested) ? ingested : 0);
                floor = KafkaFloor.run(
                        bootstrap,
                        o.partitions(),
                        o.chats(),
                        sizes,
                        floorRate,
                        o.floorWarmup(),
                        o.floorDuration(),
                        o.floorThroughputFor());
            }
            RestoreBenchmark.Result restore = null;
            String restoreLog = "";
            if (o.runs("restore") && o.restoreChats() > 0) {
                out.println("-- running: context store restore (item 6)");
                // Its own broker and chunker (see RestoreBenchmark); its lines are printed as section 6.
                ByteArrayOutputStream bytes = new ByteArrayOutputStream();
                try (PrintStream restoreOut = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
                    restore = new RestoreBenchmark(
                                    new RestoreOptions(
                                            o.restoreChats(),
                                            o.restoreMessages(),
                                            o.partitions(),
                                            Math.min(RestoreOptions.DEFAULT_PROBE_CHATS, o.restoreChats()),
                                            Optional.of(workDir.resolve("restore")),
                                            false),
                                    restoreOut,
                                    store -> {})
                            .run();
                }
                restoreLog = bytes.toString(StandardCharsets.UTF_8);
            }
            Report report = new Report(load, stale, streaming, floor, restore, restoreLog, ingest, real, capacity);
            print(report, o, out);
            return report;
        }
    }

    static void print(Report r, E2eOptions o, PrintStream out) {
        KafkaFloor.Result f = r.floor();
        if (f.ran()) {
            out.println("== floor: raw Kafka, same broker, " + o.partitions() + " partitions, 3 hops (source -> relay "
                    + "-> relay -> sink), acks=all, idempotent");
            out.printf(
                    Locale.ROOT,
                    "  record sizes per hop: %d / %d / %d bytes (the pipeline's average update / "
                            + "thought / reply part)%n",
                    f.sizes()[0],
                    f.sizes()[1],
                    f.sizes()[2]);
            for (int h = 1; h <= KafkaFloor.HOPS; h++) {
                out.printf(
                        Locale.ROOT,
                        "  latency %d hop(s) at %.0f records/s, linger 0: %s%n",
                        h,
                        f.ratePerSecond(),
                        f.hop(h).format());
            }
            out.printf(
                    Locale.ROOT,
                    "  throughput, 3 hops, flat out, linger 5: %.0f records/s; records lost: %d%n",
                    f.throughputPerSecond(),
                    f.lost());
        } else {
            out.println("== floor: skipped (--scenarios); no ratios below");
        }
        LoadScenario.Result l = r.load();
        if (l != null) {
            printLoad(l, f, o, out);
        } else {
            out.println("== 1.-3. load: skipped (--scenarios)");
        }
        StaleDropScenario.Result s = r.stale();
        if (s != null) {
            out.println("== 4. stale-drop latency (newer message -> older reply's remaining parts DROPPED_STALE; ratio "
                    + "to the 1-hop floor)");
            out.println("  from injection: " + s.fromInjection().formatAgainst(f.hop(1)));
            out.println("  from ingestion: " + s.fromIngestion().formatAgainst(f.hop(1)));
            out.println("    of which ingestion (injection -> ingest's receipt): "
                    + s.toIngestion().format());
            out.printf(
                    Locale.ROOT,
                    "  chats %d, replies dropped %d (%d parts), parts sent after the newer message %d, "
                            + "replies not dropped %d%n",
                    s.chats(),
                    s.replies(),
                    s.partsDropped(),
                    s.partsSentAfterNewer(),
                    s.notDropped());
        } else {
            out.println("== 4. stale-drop latency: skipped (--scenarios)");
        }
        StreamingScenario.Result st = r.streaming();
        if (st != null) {
            printStreaming(st, f, o, out);
        } else {
            out.println("== 5. streaming: skipped (--scenarios)");
        }
        if (r.restore() != null) {
            out.printf(
                    Locale.ROOT,
                    "== 6. context store restore: %,d chats x %,d messages (own broker; target <= 60 s)%n",
                    o.restoreChats(),
                    o.restoreMessages());
            boolean machine = false;
            for (String line : r.restoreLog().lines().toList()) {
                if (line.startsWith("== ")) {
                    // The machine was named at the top of this report already.
                    machine = line.startsWith("== machine");
                    if (!machine) {
                        out.println("  -- " + line.substring(3));
                    }
                } else if (!machine) {
                    out.println("  " + line);
                }
            }
        } else {
            out.println("== 6. context store restore: skipped ("
                    + (o.runs("restore") ? "--restore-chats 0" : "--scenarios") + ")");
        }
        if (o.runs("real")) {
            for (Realistic re : r.real()) {
                printRealistic(re, f, o, out);
            }
        } else {
            out.println("== 7. realistic load: skipped (--scenarios)");
        }
        if (o.runs("capacity")) {
            for (CapacityScenario.Result c : r.capacity()) {
                CapacityScenario.print(c, out);
            }
        } else {
            out.println("== 8. llm-processor capacity: skipped (--scenarios)");
        }
        for (IngestThroughputScenario.Result i : r.ingest()) {
            IngestThroughputScenario.print(i, f, out);
        }
        out.println("== end");
    }

    private static void printLoad(LoadScenario.Result l, KafkaFloor.Result f, E2eOptions o, PrintStream out) {
        out.println("== 1. end-to-end overhead (injected at getUpdates -> first part's sendMessage, minus " + o.gapMs()
                + " ms gap; ratio to the 3-hop floor)");
        out.println("  " + l.overhead().formatAgainst(f.hop(3)));
        out.printf(
                Locale.ROOT,
                "  thoughts in the window %d: answered %d, dropped stale %d, failed %d, unanswered %d%s%n",
                l.thoughtsInWindow(),
                l.answered(),
                l.droppedStale(),
                l.failed(),
                l.unanswered(),
                l.drained() ? "" : " (the pipeline had not drained when the drain timeout passed)");

        out.printf(Locale.ROOT, "== 2. sustained throughput over %.0f s%n", l.windowSeconds());
        out.printf(
                Locale.ROOT,
                "  inbound: %.1f messages/s offered, %.1f messages/s ingested (%s of the floor's "
                        + "%.0f records/s)%n",
                l.offeredPerSecond(),
                l.ingestedPerSecond(),
                percent(l.ingestedPerSecond(), f.throughputPerSecond()),
                f.throughputPerSecond());
        out.printf(
                Locale.ROOT, "  thoughts: %.1f/s; parts sent: %.1f/s%n", l.thoughtsPerSecond(), l.partsSentPerSecond());
        printBacklog(l, o, out);
        printUsage(l, out);

        out.println("== 3. thought emission lateness (emit - last message injected - gap; ratio to the floor)");
        out.println("  closed (chunker's closedAtMs), vs 1-hop floor:   "
                + l.latenessClosed().formatAgainst(f.hop(1)));
        out.println("  visible (read_committed consumer), vs 2 hops:   "
                + l.latenessVisible().formatAgainst(f.hop(2)));
        out.println("  by stage, for the thought's last message:");
        out.println("    a. injected -> ingest received it (getUpdates):     "
                + l.stageReceived().format());
        out.println("    b. received -> readable on the updates topic:       "
                + l.stageOnTopic().format());
        out.println("    c. readable -> deadline + punctuation (closed - gap): "
                + l.stageChunker().format());
        out.println("    d. closed -> visible downstream (commit):           "
                + l.stageCommit().format());
    }

    private static void printBacklog(LoadScenario.Result l, E2eOptions o, PrintStream out) {
        out.printf(
                Locale.ROOT,
                "  backlog (records; %d samples in the window, every %d ms):%n",
                l.lagSamples(),
                o.lagInterval().toMillis());
        boolean growing = false;
        for (LagSampler.Trend t : l.trends()) {
            out.printf(
                    Locale.ROOT,
                    "    %-26s first %6d  last %6d  max %6d  slope %+8.1f/s  %s%n",
                    t.label(),
                    t.first(),
                    t.last(),
                    t.max(),
                    t.slopePerSecond(),
                    t.growing() ? "GROWING" : "stable");
            growing |= t.label().equals("total") && t.growing();
        }
        out.println("  verdict: "
                + (l.trends().isEmpty()
                        ? "NO SAMPLES (window too short)"
                        : growing
                                ? "backlog GROWING: the offered load is above what the pipeline sustains"
                                : "backlog not growing: the pipeline keeps up with the offered load"));
    }

    private static void printUsage(LoadScenario.Result l, PrintStream out) {
        JvmUsage.Spent u = l.usage();
        if (u == null) {
            return;
        }
        double thoughts = Math.max(1, l.thoughtsPerSecond() * u.seconds());
        ProcessUsage.Spent p = l.processes();
        if (p != null) {
            printProcessUsage(u, p, thoughts, out);
            return;
        }
        out.printf(
                Locale.ROOT,
                "  CPU over the window: this JVM %.2f of %d cores busy, redis-server %.2f; per "
                        + "thought closed: %.1f ms in this JVM, %.2f ms in redis-server; %d collections, %d ms in GC%n",
                u.cores(),
                Runtime.getRuntime().availableProcessors(),
                u.redisCpuMs() / 1000.0 / u.seconds(),
                u.processCpuMs() / thoughts,
                u.redisCpuMs() / thoughts,
                u.gcCount(),
                u.gcMillis());
        out.println("    by part (thread names), ms per thought: " + u.formatParts(thoughts, "ms"));
    }

    /** The services as processes: each one's CPU from /proc; this JVM is the harness and the infrastructure. */
    private static void printProcessUsage(JvmUsage.Spent u, ProcessUsage.Spent p, double thoughts, PrintStream out) {
        double services = p.byName().entrySet().stream()
                .filter(e -> !e.getKey().equals("redis-server"))
                .mapToDouble(e -> e.getValue().cpuMs())
                .sum();
        out.printf(
                Locale.ROOT,
                "  CPU over the window: the four service processes %.2f of %d cores busy, this JVM (broker, "
                        + "emulator, fake model, load) %.2f; per thought closed: %.1f ms in the services' "
                        + "processes, %.1f ms in this JVM%n",
                services / 1000.0 / p.seconds(),
                Runtime.getRuntime().availableProcessors(),
                u.cores(),
                services / thoughts,
                u.processCpuMs() / thoughts);
        out.println("    by process (/proc), ms per thought: " + p.format(thoughts, "ms"));
        out.printf(
                Locale.ROOT,
                "    the whole machine (/proc/stat, every process on it, others' too): %.2f of %d cores busy%n",
                p.machineBusyCores(),
                Runtime.getRuntime().availableProcessors());
        out.println("    this JVM by part (thread names), ms per thought: " + u.formatParts(thoughts, "ms"));
        out.printf(
                Locale.ROOT,
                "    this JVM: %d collections, %d ms in GC (the services' own GC time is their GC+VM share above)%n",
                u.gcCount(),
                u.gcMillis());
    }

    private static void printRealistic(Realistic re, KafkaFloor.Result f, E2eOptions o, PrintStream out) {
        LoadScenario.Result l = re.result();
        LoadScenario.ModelFigures m = l.model();
        out.printf(
                Locale.ROOT,
                "== 7. realistic load, LLM_MODE=%s%s: %d chats, a turn of %d messages every %d ms "
                        + "each; model: %s%n",
                re.mode(),
                re.deploy().equals("processes") ? ", services as processes" : "",
                l.shape().chats(),
                l.shape().messagesPerThought(),
                l.shape().turnPeriod().toMillis(),
                m.describe());
        out.println("  person's wait for part 1 beyond the gap and the model's own time to it (target p99 <= 150), "
                + "vs the 3-hop floor:");
        out.println("    " + m.beyondModel().formatAgainst(f.hop(3)));
        out.println("  person's wait for part 1 after the gap:           "
                + l.overhead().format());
        out.println("    of which before the model (injected -> request at the model, minus the gap): "
                + m.beforeModel().format());
        out.println("    the model's own time to part 1 (request -> its last token flushed): "
                + m.modelFirstPart().format());
        out.println("    after the model (that token flushed -> part 1's sendMessage): "
                + m.afterModel().format());
        out.println("  the model's pacing slip (own time to part 1 - the pace's): "
                + m.pacingSlip().format());
        out.println("  the model's time to the full reply: " + m.modelFull().format());
        out.println("  reply tokens: " + m.replyTokens().format().replace(" ms", "") + "; parts per reply "
                + m.partsPerReply());
        out.printf(
                Locale.ROOT,
                "  thoughts in the window %d: answered %d (matched to their stream %d), dropped stale "
                        + "%d, failed %d, unanswered %d%s%n",
                l.thoughtsInWindow(),
                l.answered(),
                m.matched(),
                l.droppedStale(),
                l.failed(),
                l.unanswered(),
                l.drained() ? "" : " (the pipeline had not drained when the drain timeout passed)");
        out.printf(
                Locale.ROOT,
                "  model requests %d (asked again: %d, abandoned streams %d), most at once %d%n",
                m.requests(),
                m.repeatedRequests(),
                m.abandonedStreams(),
                m.peakConcurrentRequests());
        LoadScenario.Intake in = l.intake();
        out.printf(
                Locale.ROOT,
                "  llm-processor intake: in flight peak %d, mean %.0f (llm_in_flight every %d ms%s)%s%n",
                in.peakInFlight(),
                in.meanInFlight(),
                in.sampleMs(),
                re.deploy().equals("processes") ? ", from its /metrics" : "",
                in.shareFetches().fetches() > 0
                        ? String.format(
                                Locale.ROOT,
                                "; share fetches %.1f/s bringing " + "%.2f records each",
                                in.shareFetches().fetches() / l.windowSeconds(),
                                in.shareFetches().recordsPerFetch())
                        : re.deploy().equals("processes") && re.mode().equals("share")
                                ? "; share fetches n/a (not on the services' /metrics)"
                                : "");
        out.printf(
                Locale.ROOT,
                "  throughput over %.0f s: %.1f messages/s offered, %.1f ingested, %.1f thoughts/s, "
                        + "%.1f parts sent/s%n",
                l.windowSeconds(),
                l.offeredPerSecond(),
                l.ingestedPerSecond(),
                l.thoughtsPerSecond(),
                l.partsSentPerSecond());
        printBacklog(l, o, out);
        out.println("  lateness closed:  " + l.latenessClosed().format());
        out.println("  lateness visible: " + l.latenessVisible().format());
        printUsage(l, out);
    }

    private static void printStreaming(
            StreamingScenario.Result st, KafkaFloor.Result f, E2eOptions o, PrintStream out) {
        out.printf(
                Locale.ROOT,
                "== 5. streaming model at %.0f tokens/s: first part vs full reply (from the model " + "request)%n",
                o.streamTokensPerSecond());
        out.println("  model has the first part:     " + st.modelFirstPart().format());
        out.println("  first part sent:              " + st.toFirstPart().format());
        out.println("  model has the full reply:     " + st.modelFull().format());
        out.println("  last part sent:               " + st.toFullReply().format());
        out.println("  first part produced (chat.replies createdAtMs) behind the model: "
                + st.firstPartProduced().format());
        out.println(
                "  first part sent behind the model:  " + st.firstPartOverhead().formatAgainst(f.hop(1)));
        out.println(
                "  last part sent behind the model:   " + st.fullReplyOverhead().formatAgainst(f.hop(1)));
        out.println("  person's wait for part 1 (after the gap): "
                + st.personFirstPart().format());
        out.printf(Locale.ROOT, "  chats %d, replies measured %d%n", st.chats(), st.measured());
    }

    private static String percent(double value, double of) {
        if (!Double.isFinite(value) || !Double.isFinite(of) || of <= 0) {
            return "n/a";
        }
        return String.format(Locale.ROOT, "%.1f%%", 100 * value / of);
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            List<Path> all = paths.sorted(Comparator.reverseOrder()).toList();
            for (Path p : all) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            LOG.warn("could not delete the work directory {}: {}", dir, e.toString());
        }
    }
}
