package dev.thoughtstream.bench.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What one e2e run does. Every option has a default that reproduces the documented run; {@link #parse} reads
 * {@code --name value} pairs and fails naming the option on a bad value.
 *
 * @param chats              concurrent chats of the load scenario
 * @param duration           the measured window of the load scenario
 * @param warmup             load before the window (not measured): JIT, connections, RocksDB
 * @param rate               offered inbound messages per second, over all chats
 * @param messagesPerThought messages each chat sends back to back per turn (one thought)
 * @param gapMs              {@code CHUNK_GAP_MS} of every stack (subtracted from the overhead and the lateness)
 * @param partitions         {@code TOPIC_PARTITIONS}, also used by the floor's topics
 * @param lagInterval        how often consumer lag is sampled
 * @param drainTimeout       how long to wait after the load for the pipeline to finish what it was given
 * @param staleChats         chats of the stale-drop scenario (one stale reply each)
 * @param staleTypingMs      the typing delay of every part in the stale-drop scenario
 * @param streamChats        chats of the streaming scenario (one reply each)
 * @param streamTokensPerSecond the streaming fake model's pace
 * @param floorDuration      the floor's measured latency run (after {@code floorWarmup})
 * @param floorWarmup        the floor's unmeasured start
 * @param floorThroughputFor how long the floor's throughput run produces
 * @param restoreChats       chats of the context store restore (item 6; 0 skips it)
 * @param restoreMessages    context messages per chat of the restore
 * @param workDir            where the broker, Redis and the chunker keep their data (a fresh temp dir by default)
 * @param overrides          {@code --set NAME=VALUE}: any service variable, applied to every stack last
 * @param scenarios          which parts run ({@link #SCENARIOS}); the default is every part but {@code ingest}
 * @param ingestUpdates      updates of the ingest-only throughput run, waiting at the emulator before ingest starts
 * @param ingestChats        chats those updates are spread over
 * @param ingestModes        {@code polling} and/or {@code webhook}: one ingest-only run each
 * @param real               item 7, the realistic load with a paced model over HTTP
 * @param capacity           item 8, one llm-processor's capacity with a 2 s model
 */
public record E2eOptions(
        int chats,
        Duration duration,
        Duration warmup,
        double rate,
        int messagesPerThought,
        long gapMs,
        int partitions,
        Duration lagInterval,
        Duration drainTimeout,
        int staleChats,
        long staleTypingMs,
        int streamChats,
        double streamTokensPerSecond,
        Duration floorDuration,
        Duration floorWarmup,
        Duration floorThroughputFor,
        int restoreChats,
        int restoreMessages,
        Path workDir,
        Map<String, String> overrides,
        Set<String> scenarios,
        int ingestUpdates,
        int ingestChats,
        List<String> ingestModes,
        Realistic real,
        Capacity capacity) {

    /**
     * The parts of a run, in the order they run: items 1–3, 4, 5, 7, 8, the floor, item 6, the ingest-only runs.
     */
    public static final List<String> SCENARIOS =
            List.of("load", "stale", "stream", "real", "capacity", "floor", "restore", "ingest");
    /** What runs without {@code --scenarios}: the documented run (item 6 unless {@code --restore-chats 0}). */
    public static final Set<String> DEFAULT_SCENARIOS =
            Set.of("load", "stale", "stream", "real", "capacity", "floor", "restore");

    private static final List<String> LLM_MODES = List.of("share", "group");
    /** Item 8's model writes the tokens due every this many ms: a few tokens per write at 100 tokens/s. */
    static final long DEFAULT_CAPACITY_MODEL_TICK_MS = 25;

    private static final List<String> DEPLOYS = List.of("jvm", "processes");

    /**
     * Item 7: a real bot's load. {@code chats} chats each write a turn of {@link #messagesPerThought} messages
     * every {@code turnEvery}; the model answers after {@code ttft} at {@code tokensPerSecond}; one run per mode.
     * {@code deploy} says where the four services run: {@code jvm}, in the bench's JVM (devstack), or
     * {@code processes}, each a JVM process of its own from the distribution in {@code dist}, with the image's JVM
     * options and then {@code javaOpts}. The model writes the tokens due together every {@code modelTick} (zero: each
     * token alone when due).
     */
    public record Realistic(
            int chats,
            Duration turnEvery,
            Duration ttft,
            double tokensPerSecond,
            List<String> modes,
            Duration warmup,
            Duration duration,
            String deploy,
            List<String> javaOpts,
            Path dist,
            Duration modelTick) {
        public Realistic {
            modes = List.copyOf(modes);
            javaOpts = List.copyOf(javaOpts);
            require(DEPLOYS.contains(deploy), "--real-deploy must be jvm or processes");
            require(chats >= 1, "--real-chats must be at least 1");
            require(turnEvery.toMillis() >= 1, "--real-turn-every must be positive");
            require(!ttft.isNegative(), "--real-ttft must not be negative");
            require(tokensPerSecond > 0, "--real-tokens-per-second must be positive");
            require(!modes.isEmpty() && LLM_MODES.containsAll(modes), "--real-modes must name share and/or group");
            require(!warmup.isNegative(), "--real-warmup must not be negative");
            require(!duration.isNegative() && !duration.isZero(), "--real-duration must be positive");
            require(!modelTick.isNegative(), "--real-model-tick must not be negative");
        }
    }

    /**
     * Item 8: one llm-processor alone, fed {@code rate} thoughts/s (each with {@code contextMessages} messages of
     * context) for {@code warmup + duration}, with {@code LLM_MAX_IN_FLIGHT=maxInFlight} and a model that answers
     * after {@code ttft} at {@code tokensPerSecond}, writing the tokens due together every {@code modelTick} (zero:
     * each token alone when due); one run per mode.
     */
    public record Capacity(
            double rate,
            Duration ttft,
            double tokensPerSecond,
            List<String> modes,
            int maxInFlight,
            int contextMessages,
            Duration warmup,
            Duration duration,
            Duration modelTick) {
        public Capacity {
            modes = List.copyOf(modes);
            require(rate > 0, "--capacity-rate must be positive");
            require(!ttft.isNegative(), "--capacity-ttft must not be negative");
            require(tokensPerSecond > 0, "--capacity-tokens-per-second must be positive");
            require(!modes.isEmpty() && LLM_MODES.containsAll(modes), "--capacity-modes must name share and/or group");
            require(maxInFlight >= 1 && maxInFlight <= 4096, "--capacity-max-in-flight must be 1-4096");
            require(contextMessages >= 0, "--capacity-context-messages must not be negative");
            require(!warmup.isNegative(), "--capacity-warmup must not be negative");
            require(!duration.isNegative() && !duration.isZero(), "--capacity-duration must be positive");
            require(!modelTick.isNegative(), "--capacity-model-tick must not be negative");
        }
    }

    public E2eOptions {
        overrides = Map.copyOf(overrides);
        scenarios = Set.copyOf(scenarios);
        ingestModes = List.copyOf(ingestModes);
        require(
                !scenarios.isEmpty() && SCENARIOS.containsAll(scenarios),
                "--scenarios must name some of " + String.join(",", SCENARIOS));
        require(
                !ingestModes.isEmpty() && List.of("polling", "webhook").containsAll(ingestModes),
                "--ingest-modes must name polling and/or webhook");
        require(ingestUpdates >= 1, "--ingest-updates must be at least 1");
        require(ingestChats >= 1, "--ingest-chats must be at least 1");
        require(chats >= 1, "--chats must be at least 1");
        require(!duration.isNegative() && !duration.isZero(), "--duration must be positive");
        require(!warmup.isNegative(), "--warmup must not be negative");
        require(rate > 0, "--rate must be positive");
        require(messagesPerThought >= 1 && messagesPerThought <= 20, "--messages-per-thought must be 1-20");
        require(gapMs >= 1, "--gap-ms must be at least 1");
        require(partitions >= 1, "--partitions must be at least 1");
        require(lagInterval.toMillis() >= 50, "--lag-interval must be at least 50ms");
        require(staleChats >= 1 && streamChats >= 1, "--stale-chats and --stream-chats must be at least 1");
        require(staleTypingMs >= 500, "--stale-typing-ms must be at least 500 (parts must be waiting)");
        require(streamTokensPerSecond > 0, "--stream-tokens-per-second must be positive");
        require(restoreChats >= 0, "--restore-chats must not be negative (0 skips the restore)");
        require(restoreMessages >= 1, "--restore-messages must be at least 1");
    }

    /** The documented defaults: 1,000 chats, 60 s measured, 1,000 messages/s offered in 3-message thoughts. */
    public static E2eOptions defaults() {
        return new E2eOptions(
                1000,
                Duration.ofSeconds(60),
                Duration.ofSeconds(15),
                1000,
                3,
                1500,
                6,
                Duration.ofSeconds(1),
                Duration.ofSeconds(120),
                100,
                2000,
                50,
                30,
                Duration.ofSeconds(20),
                Duration.ofSeconds(5),
                Duration.ofSeconds(5),
                100_000,
                100,
                null,
                Map.of(),
                DEFAULT_SCENARIOS,
                60_000,
                1000,
                List.of("polling", "webhook"),
                new Realistic(
                        1000,
                        Duration.ofSeconds(15),
                        Duration.ofSeconds(1),
                        50,
                        LLM_MODES,
                        Duration.ofSeconds(30),
                        Duration.ofSeconds(60),
                        "jvm",
                        List.of(),
                        Path.of("launcher/target/thoughtstream"),
                        Duration.ZERO),
                new Capacity(
                        400,
                        Duration.ofSeconds(1),
                        100,
                        List.of("share"),
                        1024,
                        20,
                        Duration.ofSeconds(20),
                        Duration.ofSeconds(40),
                        Duration.ofMillis(DEFAULT_CAPACITY_MODEL_TICK_MS)));
    }

    /** The load of items 1–3. */
    LoadScenario.Shape load() {
        return new LoadScenario.Shape(
                chats, LoadScenario.FIRST_CHAT, messagesPerThought, turnPeriod(), warmup, duration);
    }

    /** The load of item 7. */
    LoadScenario.Shape realLoad() {
        return new LoadScenario.Shape(
                real.chats(),
                LoadScenario.FIRST_REAL_CHAT,
                messagesPerThought,
                real.turnEvery(),
                real.warmup(),
                real.duration());
    }

    /** True when {@code scenario} (one of {@link #SCENARIOS}) is part of this run. */
    public boolean runs(String scenario) {
        return scenarios.contains(scenario);
    }

    /** How long one chat waits between its turns so that all chats together offer {@link #rate}. */
    public Duration turnPeriod() {
        return Duration.ofNanos(Math.round(chats * (double) messagesPerThought / rate * 1e9));
    }

    public static String usage() {
        return String.join(
                "\n",
                "usage: java -jar thoughtstream-bench.jar e2e [options]",
                "  --chats N                   concurrent chats (1000)",
                "  --duration D                measured window, e.g. 60s, 2m, 500ms (60s)",
                "  --warmup D                  load before the window (15s)",
                "  --rate R                    offered inbound messages/s over all chats (1000)",
                "  --messages-per-thought K    messages per turn, sent back to back (3)",
                "  --gap-ms MS                 CHUNK_GAP_MS (1500)",
                "  --partitions P              TOPIC_PARTITIONS, also for the floor (6)",
                "  --lag-interval D            consumer-lag sampling interval (1s)",
                "  --drain-timeout D           wait for the pipeline to finish after the load (120s)",
                "  --stale-chats N             chats of the stale-drop scenario (100)",
                "  --stale-typing-ms MS        typing delay per part in that scenario (2000)",
                "  --stream-chats N            chats of the streaming scenario (50)",
                "  --stream-tokens-per-second T  the streaming model's pace (30)",
                "  --floor-duration D          the floor's measured latency run (20s)",
                "  --floor-warmup D            the floor's unmeasured start (5s)",
                "  --floor-throughput-for D    the floor's throughput run (5s)",
                "  --restore-chats N           chats of the context store restore, item 6 (100000; 0 skips it)",
                "  --restore-messages M        context messages per chat of the restore (100)",
                "  --work-dir PATH             data of broker, Redis, chunker (a new temp dir)",
                "  --set NAME=VALUE            any service variable, for every stack (repeatable)",
                "  --scenarios LIST            which parts run, of " + String.join(",", SCENARIOS)
                        + " (all but ingest); figures whose floor was skipped print no ratio",
                "  --ingest-updates N          ingest-only run: updates waiting at the emulator (60000)",
                "  --ingest-chats N            ingest-only run: chats they are spread over (1000)",
                "  --ingest-modes LIST         ingest-only run: polling and/or webhook (polling,webhook)",
                "  --real-chats N              item 7: chats of the realistic load (1000)",
                "  --real-turn-every D         item 7: each chat writes a turn this often (15s)",
                "  --real-ttft D               item 7: the model's time to its first token (1s)",
                "  --real-tokens-per-second T  item 7: the model's pace after it (50)",
                "  --real-modes LIST           item 7: LLM_MODE of each run, share and/or group (share,group)",
                "  --real-warmup D             item 7: load before the window (30s)",
                "  --real-duration D           item 7: measured window (60s)",
                "  --real-deploy jvm|processes item 7: the four services in this JVM (devstack), or each a JVM",
                "                              process of its own from the distribution (jvm)",
                "  --real-java-opts OPTS       item 7, processes: JVM options after the image's",
                "                              (-XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError), as JAVA_OPTS",
                "  --real-dist DIR             item 7, processes: the built distribution (launcher/target/thoughtstream)",
                "  --real-model-tick D         item 7: the model writes the tokens due together this often; 0 writes",
                "                              each token alone when due (0)",
                "  --capacity-rate R           item 8: thoughts/s offered to the one llm-processor (400)",
                "  --capacity-ttft D           item 8: the model's time to its first token (1s)",
                "  --capacity-tokens-per-second T  item 8: the model's pace after it (100)",
                "  --capacity-modes LIST       item 8: LLM_MODE of each run, share and/or group (share)",
                "  --capacity-max-in-flight N  item 8: LLM_MAX_IN_FLIGHT of that llm-processor (1024)",
                "  --capacity-context-messages N  item 8: context messages each thought carries (20)",
                "  --capacity-warmup D         item 8: feeding before the window (20s)",
                "  --capacity-duration D       item 8: measured window (40s)",
                "  --capacity-model-tick D     item 8: the model writes the tokens due together this often; 0 writes"
                        + " each token alone when due (" + DEFAULT_CAPACITY_MODEL_TICK_MS + "ms)");
    }

    /** Reads {@code --name value} pairs over the defaults. */
    public static E2eOptions parse(String[] args) {
        E2eOptions d = defaults();
        int chats = d.chats;
        Duration duration = d.duration;
        Duration warmup = d.warmup;
        double rate = d.rate;
        int perThought = d.messagesPerThought;
        long gap = d.gapMs;
        int partitions = d.partitions;
        Duration lagInterval = d.lagInterval;
        Duration drain = d.drainTimeout;
        int staleChats = d.staleChats;
        long staleTyping = d.staleTypingMs;
        int streamChats = d.streamChats;
        double tps = d.streamTokensPerSecond;
        Duration floorDuration = d.floorDuration;
        Duration floorWarmup = d.floorWarmup;
        Duration floorThroughput = d.floorThroughputFor;
        int restoreChats = d.restoreChats;
        int restoreMessages = d.restoreMessages;
        Path workDir = null;
        Map<String, String> overrides = new LinkedHashMap<>();
        Set<String> scenarios = d.scenarios;
        int ingestUpdates = d.ingestUpdates;
        int ingestChats = d.ingestChats;
        List<String> ingestModes = d.ingestModes;
        int realChats = d.real.chats();
        Duration realTurn = d.real.turnEvery();
        Duration realTtft = d.real.ttft();
        double realTps = d.real.tokensPerSecond();
        List<String> realModes = d.real.modes();
        Duration realWarmup = d.real.warmup();
        Duration realDuration = d.real.duration();
        String realDeploy = d.real.deploy();
        List<String> realJavaOpts = d.real.javaOpts();
        Path realDist = d.real.dist();
        Duration realTick = d.real.modelTick();
        double capRate = d.capacity.rate();
        Duration capTtft = d.capacity.ttft();
        double capTps = d.capacity.tokensPerSecond();
        List<String> capModes = d.capacity.modes();
        int capInFlight = d.capacity.maxInFlight();
        int capContext = d.capacity.contextMessages();
        Duration capWarmup = d.capacity.warmup();
        Duration capDuration = d.capacity.duration();
        Duration capTick = d.capacity.modelTick();
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException(name + " needs a value");
            }
            String v = args[++i];
            switch (name) {
                case "--chats" -> chats = integer(name, v);
                case "--duration" -> duration = duration(name, v);
                case "--warmup" -> warmup = duration(name, v);
                case "--rate" -> rate = decimal(name, v);
                case "--messages-per-thought" -> perThought = integer(name, v);
                case "--gap-ms" -> gap = integer(name, v);
                case "--partitions" -> partitions = integer(name, v);
                case "--lag-interval" -> lagInterval = duration(name, v);
                case "--drain-timeout" -> drain = duration(name, v);
                case "--stale-chats" -> staleChats = integer(name, v);
                case "--stale-typing-ms" -> staleTyping = integer(name, v);
                case "--stream-chats" -> streamChats = integer(name, v);
                case "--stream-tokens-per-second" -> tps = decimal(name, v);
                case "--floor-duration" -> floorDuration = duration(name, v);
                case "--floor-warmup" -> floorWarmup = duration(name, v);
                case "--floor-throughput-for" -> floorThroughput = duration(name, v);
                case "--restore-chats" -> restoreChats = integer(name, v);
                case "--restore-messages" -> restoreMessages = integer(name, v);
                case "--work-dir" -> workDir = Path.of(v);
                case "--scenarios" -> scenarios = list(v);
                case "--ingest-updates" -> ingestUpdates = integer(name, v);
                case "--ingest-chats" -> ingestChats = integer(name, v);
                case "--ingest-modes" -> ingestModes = List.copyOf(list(v));
                case "--real-chats" -> realChats = integer(name, v);
                case "--real-turn-every" -> realTurn = duration(name, v);
                case "--real-ttft" -> realTtft = duration(name, v);
                case "--real-tokens-per-second" -> realTps = decimal(name, v);
                case "--real-modes" -> realModes = List.copyOf(list(v));
                case "--real-warmup" -> realWarmup = duration(name, v);
                case "--real-duration" -> realDuration = duration(name, v);
                case "--real-deploy" -> realDeploy = v.strip().toLowerCase(Locale.ROOT);
                case "--real-java-opts" ->
                    realJavaOpts = v.isBlank() ? List.of() : List.of(v.strip().split("\\s+"));
                case "--real-dist" -> realDist = Path.of(v);
                case "--real-model-tick" -> realTick = duration(name, v);
                case "--capacity-rate" -> capRate = decimal(name, v);
                case "--capacity-ttft" -> capTtft = duration(name, v);
                case "--capacity-tokens-per-second" -> capTps = decimal(name, v);
                case "--capacity-modes" -> capModes = List.copyOf(list(v));
                case "--capacity-max-in-flight" -> capInFlight = integer(name, v);
                case "--capacity-context-messages" -> capContext = integer(name, v);
                case "--capacity-warmup" -> capWarmup = duration(name, v);
                case "--capacity-duration" -> capDuration = duration(name, v);
                case "--capacity-model-tick" -> capTick = duration(name, v);
                case "--set" -> {
                    int eq = v.indexOf('=');
                    if (eq < 1) {
                        throw new IllegalArgumentException("--set needs NAME=VALUE, was '" + v + "'");
                    }
                    overrides.put(v.substring(0, eq), v.substring(eq + 1));
                }
                default -> throw new IllegalArgumentException("unknown option " + name);
            }
        }
        return new E2eOptions(
                chats,
                duration,
                warmup,
                rate,
                perThought,
                gap,
                partitions,
                lagInterval,
                drain,
                staleChats,
                staleTyping,
                streamChats,
                tps,
                floorDuration,
                floorWarmup,
                floorThroughput,
                restoreChats,
                restoreMessages,
                workDir,
                overrides,
                scenarios,
                ingestUpdates,
                ingestChats,
                ingestModes,
                new Realistic(
                        realChats,
                        realTurn,
                        realTtft,
                        realTps,
                        realModes,
                        realWarmup,
                        realDuration,
                        realDeploy,
                        realJavaOpts,
                        realDist,
                        realTick),
                new Capacity(
                        capRate, capTtft, capTps, capModes, capInFlight, capContext, capWarmup, capDuration, capTick));
    }

    private static Set<String> list(String v) {
        Set<String> names = new LinkedHashSet<>();
        Arrays.stream(v.split(","))
                .map(String::strip)
                .filter(n -> !n.isEmpty())
                .forEach(n -> names.add(n.toLowerCase(Locale.ROOT)));
        return names;
    }

    /** {@code 60s}, {@code 2m}, {@code 500ms}, or plain seconds. */
    static Duration duration(String name, String v) {
        String s = v.trim().toLowerCase(Locale.ROOT);
        try {
            if (s.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
            }
            if (s.endsWith("s")) {
                return Duration.ofMillis(Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 1000));
            }
            if (s.endsWith("m")) {
                return Duration.ofMillis(Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 60_000));
            }
            return Duration.ofMillis(Math.round(Double.parseDouble(s) * 1000));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": not a duration (60s, 2m, 500ms): '" + v + "'", e);
        }
    }

    private static int integer(String name, String v) {
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": not an integer: '" + v + "'", e);
        }
    }

    private static double decimal(String name, String v) {
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + ": not a number: '" + v + "'", e);
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
