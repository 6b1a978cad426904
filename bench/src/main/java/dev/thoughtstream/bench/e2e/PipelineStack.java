package dev.thoughtstream.bench.e2e;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.devstack.DevStack;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The four services as devstack runs them (one {@link DevStack}), on the bench's shared broker and Redis, with
 * their own topics, groups, Redis keys and Telegram emulator, so that the scenarios of one run do not see each
 * other's records.
 */
final class PipelineStack implements Pipeline {
    private static final Logger LOG = LoggerFactory.getLogger(PipelineStack.class);

    private final DevStack stack;
    private final String name;
    private final Topics topics;
    private final Map<String, String> config;

    private PipelineStack(DevStack stack, String name, Topics topics, Map<String, String> config) {
        this.stack = stack;
        this.name = name;
        this.topics = topics;
        this.config = config;
    }

    /**
     * The bench's settings for every stack: no human-like delays, no rate limits of our own (Telegram pacing, the
     * flood guard's limit), the scripted model at zero latency; then the scenario's {@code settings}; then the user's overrides.
     *
     * @param redisUrl null: devstack decides (its in-memory fallback when no redis-server is installed)
     */
    static PipelineStack start(
            String name,
            String bootstrap,
            String redisUrl,
            Path dataDir,
            E2eOptions options,
            Map<String, String> settings) {
        Map<String, String> env = environment(name, bootstrap, redisUrl, dataDir, options, settings);
        String id = env.get("CHUNKER_APPLICATION_ID").replaceFirst("-chunker$", "");
        LOG.info("starting stack {} (topics {}*)", name, id + ".");
        DevStack stack = DevStack.start(Config.of(env));
        return new PipelineStack(stack, name, Topics.withPrefix(id + "."), Map.copyOf(env));
    }

    /**
     * The variables of a stack named {@code name}: its own topics, groups and Redis keys, the bench's settings, the
     * scenario's {@code settings}, then the user's overrides (see {@link #start}). Also what {@link ServiceProcesses}
     * gives every process, so both deployments run the same configuration.
     */
    static Map<String, String> environment(
            String name,
            String bootstrap,
            String redisUrl,
            Path dataDir,
            E2eOptions options,
            Map<String, String> settings) {
        String id = "bench-" + name + "-" + Long.toString(System.currentTimeMillis(), 36);
        Map<String, String> env = new HashMap<>();
        env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
        if (redisUrl != null) {
            env.put("REDIS_URL", redisUrl);
        }
        env.put("REDIS_KEY_PREFIX", id + ":");
        env.put("TOPIC_PREFIX", id + ".");
        env.put("TOPIC_PARTITIONS", Integer.toString(options.partitions()));
        env.put("CHUNKER_APPLICATION_ID", id + "-chunker");
        env.put("LLM_GROUP_ID", id + "-llm");
        env.put("EMITTER_GROUP_ID", id + "-emitter");
        env.put("DEVSTACK_DATA_DIR", dataDir.resolve(name).toString());
        env.put("DEVSTACK_KAFKA_PORT", "0");
        env.put("EMULATOR_PORT", "0");
        // Several stacks may share this JVM; the bench reads their registries, not an endpoint.
        env.put("HTTP_PORT", "0");
        env.put("CHUNK_GAP_MS", Long.toString(options.gapMs()));
        env.put("LLM_PROVIDER", "scripted");
        env.put("SCRIPTED_LATENCY_MS", "0");
        env.put("SCRIPTED_TOKENS_PER_SECOND", "0");
        env.put("TYPING_MIN_MS", "0");
        env.put("TYPING_MAX_MS", "0");
        env.put("READING_PAUSE_MS", "0");
        // Telegram's limits are the emitter's own pacing, not pipeline cost: off, so the figures measure the pipeline.
        env.put("EMITTER_CHAT_RATE_PER_S", "0");
        env.put("EMITTER_GROUP_RATE_PER_MIN", "0");
        env.put("EMITTER_GLOBAL_RATE_PER_S", "0");
        // The flood guard still runs (its Redis round trip is pipeline cost) but never holds a simulated person back:
        // the load's pace is the bench's parameter, not abuse.
        env.put("INGEST_MAX_MSGS_PER_MIN", "100000");
        env.putAll(settings);
        env.putAll(options.overrides());
        return env;
    }

    @Override
    public TelegramEmulator emulator() {
        return stack.emulator().orElseThrow(() -> new IllegalStateException("stack " + name + " has no emulator"));
    }

    /** The stack's Redis client, for {@code INFO cpu}; empty on devstack's in-memory fallback. */
    @Override
    public java.util.Optional<redis.clients.jedis.RedisClient> redis() {
        return stack.infra().redis();
    }

    dev.thoughtstream.common.metrics.Metrics metrics() {
        return stack.metrics();
    }

    @Override
    public long llmInFlight() {
        return LlmIntake.inFlight(stack.metrics());
    }

    /** A registry read in this JVM, on the bench's own thread: every 100 ms. */
    @Override
    public long inFlightSampleMs() {
        return 100;
    }

    /** Every share consumer of this JVM: only the llm-processor's in a stack of this JVM. */
    @Override
    public LlmIntake.ShareFetches shareFetches() {
        return LlmIntake.shareFetches();
    }

    /** None: the services are threads of this JVM (see {@link JvmUsage#pipelinePart}). */
    @Override
    public Map<String, Long> processes() {
        return Map.of();
    }

    @Override
    public Topics topics() {
        return topics;
    }

    String setting(String name) {
        return config.get(name);
    }

    @Override
    public String readyLine() {
        return stack.readyLine();
    }

    @Override
    public List<LagSampler.Group> groups() {
        return groups(config, topics);
    }

    /** Consumer and share groups of the services configured by {@code config}, with the topic each reads. */
    static List<LagSampler.Group> groups(Map<String, String> config, Topics topics) {
        return List.of(
                new LagSampler.Group(
                        "chunker",
                        config.get("CHUNKER_APPLICATION_ID"),
                        topics.updates().name()),
                new LagSampler.Group(
                        "llm-processor",
                        config.get("LLM_GROUP_ID"),
                        topics.thoughts().name()),
                new LagSampler.Group(
                        "emitter",
                        config.get("EMITTER_GROUP_ID"),
                        topics.replies().name()),
                new LagSampler.Group(
                        "chunker(delivered)",
                        config.get("CHUNKER_APPLICATION_ID"),
                        topics.delivered().name()));
    }

    @Override
    public void close() {
        stack.close();
    }
}
