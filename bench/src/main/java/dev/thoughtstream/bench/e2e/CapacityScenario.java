package dev.thoughtstream.bench.e2e;

import dev.thoughtstream.bench.micro.Fixtures;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.kafka.TopicAdmin;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.llm.LlmProcessorFactory;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.redis.RedisServer;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Item 8: how many thoughts per second one llm-processor sustains with a 2 s model, and what each costs. One
 * llm-processor, built as {@link LlmProcessorFactory} builds it, runs alone on the bench's broker and Redis
 * against a {@link PacedModel} over HTTP, while a feeder writes thoughts to its topic at {@code --capacity-rate}
 * (open loop, each of its own chat, with a context of {@code --capacity-context-messages} messages), as the
 * chunker would. Offered above what the instance sustains, its backlog grows and the thoughts it finishes per
 * second are its capacity. Over the window the bench samples the instance's in-flight gauge and the model's open
 * requests, and measures the CPU and the allocations of the instance's threads (every thread it started; the
 * model's, the broker's and the bench's are counted apart).
 */
final class CapacityScenario {
    private static final Logger LOG = LoggerFactory.getLogger(CapacityScenario.class);
    static final long FIRST_CHAT = 10_000_001L;
    private static final long SAMPLE_EVERY_MS = 100;
    private static final long FEED_EVERY_MS = 10;
    private static final int CONTEXTS = 64;

    /** Everything item 8 prints for one mode. */
    record Result(
            String mode,
            int maxInFlight,
            String model,
            double windowSeconds,
            double offeredPerSecond,
            double fedPerSecond,
            double completedPerSecond,
            double requestsPerSecond,
            int peakInFlight,
            double meanInFlight,
            int peakAtModel,
            double meanAtModel,
            Summary modelTime,
            Summary replyTokens,
            List<LagSampler.Trend> trends,
            JvmUsage.Spent usage,
            Map<String, JvmUsage.Use> processorPools,
            long completed,
            int repeatedRequests,
            double avgThoughtBytes,
            LlmIntake.ShareFetches shareFetches) {

        JvmUsage.Use processor() {
            return usage.part("llm-processor");
        }
    }

    private CapacityScenario() {}

    static Result run(String mode, String bootstrap, RedisServer redis, E2eOptions o, PrintStream out)
            throws InterruptedException {
        if (redis == null) {
            throw new IllegalStateException("the capacity run needs a real redis-server (none is installed)");
        }
        E2eOptions.Capacity c = o.capacity();
        String id = "bench-capacity-" + mode + "-" + Long.toString(System.currentTimeMillis(), 36);
        Topics topics = Topics.withPrefix(id + ".");
        try (PacedModel model = PacedModel.start(c.ttft(), c.tokensPerSecond(), c.modelTick())) {
            Map<String, String> env = new HashMap<>();
            env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
            env.put("REDIS_URL", redis.url().toString());
            env.put("REDIS_KEY_PREFIX", id + ":");
            env.put("TOPIC_PREFIX", id + ".");
            env.put("TOPIC_PARTITIONS", Integer.toString(o.partitions()));
            env.put("LLM_GROUP_ID", id + "-llm");
            env.put("LLM_MODE", mode);
            env.put("LLM_MAX_IN_FLIGHT", Integer.toString(c.maxInFlight()));
            env.putAll(model.settings());
            env.putAll(o.overrides());
            Config config = Config.of(env);
            Metrics metrics = new Metrics();
            out.printf(
                    Locale.ROOT,
                    "  one llm-processor, LLM_MODE=%s, LLM_MAX_IN_FLIGHT=%d; model: %s%n",
                    mode,
                    c.maxInFlight(),
                    model.describe());
            out.printf(
                    Locale.ROOT,
                    "  fed %.0f thoughts/s (3 messages, %d context messages each), warm-up %d s, " + "measured %d s%n",
                    c.rate(),
                    c.contextMessages(),
                    c.warmup().toSeconds(),
                    c.duration().toSeconds());
            try (Infra infra = Infra.builder(KafkaSettings.from(config))
                    .redis(RedisSettings.from(config))
                    .metrics(metrics)
                    .build()) {
                TopicAdmin.ensureTopics(infra.kafka(), topics, Duration.ofSeconds(30));
                // Every thread started from here on is the processor's, unless named as the model's, the broker's
                // or the bench's: the instance's own Kafka clients, HTTP client, pools and Redis subscriber.
                long lastThreadBefore = maxThreadId();
                Service processor = new LlmProcessorFactory().create(config, infra);
                JvmUsage.PartOf partOf = (tid, name) -> {
                    if (name.startsWith("fake-llm-")) {
                        return "fake model";
                    }
                    // Not every bench- name: the processor's group and client ids start with bench-capacity- too.
                    if (JvmUsage.isHarness(name)) {
                        return "bench";
                    }
                    if (JvmUsage.isBroker(name)) {
                        return "broker";
                    }
                    return tid > lastThreadBefore ? "llm-processor" : "other";
                };
                JvmUsage.PartOf poolOf =
                        (tid, name) -> "llm-processor".equals(partOf.part(tid, name)) ? JvmUsage.pool(name) : null;
                processor.start();
                try (LagSampler lag = new LagSampler(
                                bootstrap,
                                List.of(new LagSampler.Group(
                                        "llm-processor",
                                        id + "-llm",
                                        topics.thoughts().name())),
                                o.partitions(),
                                null);
                        Feeder feeder = new Feeder(bootstrap, topics.thoughts(), c)) {
                    long start = System.currentTimeMillis();
                    long windowStart = start + c.warmup().toMillis();
                    long windowEnd = windowStart + c.duration().toMillis();
                    lag.start(o.lagInterval());
                    feeder.start();
                    List<long[]> samples = new ArrayList<>();
                    JvmUsage.Snapshot first = null;
                    LlmIntake.ShareFetches fetchesAtStart = null;
                    JvmUsage.Snapshot last = null;
                    long fedAtStart = 0;
                    long fedAtEnd = 0;
                    LlmIntake.ShareFetches shareFetches = null;
                    // Sampled from this thread: the gauge, the model's open requests, the window's edges.
                    while (true) {
                        long now = System.currentTimeMillis();
                        if (first == null && now >= windowStart) {
                            first = JvmUsage.take(infra.redis().orElse(null));
                            fetchesAtStart = LlmIntake.shareFetches();
                            fedAtStart = feeder.sent();
                        }
                        if (now >= windowEnd) {
                            last = JvmUsage.take(infra.redis().orElse(null));
                            shareFetches = LlmIntake.shareFetches().minus(fetchesAtStart);
                            fedAtEnd = feeder.sent();
                            break;
                        }
                        if (first != null) {
                            samples.add(new long[] {LlmIntake.inFlight(metrics), model.activeRequests()});
                        }
                        Thread.sleep(SAMPLE_EVERY_MS);
                    }
                    feeder.close();
                    double thoughtBytes = feeder.thoughtBytes();
                    JvmUsage.Spent spent = JvmUsage.between(first, last, partOf);
                    Map<String, JvmUsage.Use> pools =
                            JvmUsage.between(first, last, poolOf).byPart();
                    List<LagSampler.Trend> trends = LagSampler.trends(
                            lag.samplesBetween(windowStart, windowEnd), Math.max(1.0, 0.01 * c.rate()));
                    processor.close();
                    return analyse(
                            mode,
                            c,
                            model,
                            topics,
                            bootstrap,
                            windowStart,
                            windowEnd,
                            samples,
                            spent,
                            pools,
                            trends,
                            fedAtEnd - fedAtStart,
                            thoughtBytes,
                            shareFetches);
                } finally {
                    processor.close();
                }
            }
        }
    }

    private static Result analyse(
            String mode,
            E2eOptions.Capacity c,
            PacedModel model,
            Topics topics,
            String bootstrap,
            long windowStart,
            long windowEnd,
            List<long[]> samples,
            JvmUsage.Spent spent,
            Map<String, JvmUsage.Use> pools,
            List<LagSampler.Trend> trends,
            long fed,
            double thoughtBytes,
            LlmIntake.ShareFetches shareFetches) {
        double seconds = (windowEnd - windowStart) / 1000.0;
        List<ConsumerRecord<Long, ReplyPart>> parts =
                TopicReader.readAll(bootstrap, topics.replies(), Duration.ofSeconds(120));
        long completed = parts.stream()
                .map(ConsumerRecord::value)
                .filter(p -> p.last() && p.createdAtMs() >= windowStart && p.createdAtMs() < windowEnd)
                .count();
        List<Double> modelTime = new ArrayList<>();
        List<Double> tokens = new ArrayList<>();
        long requested = 0;
        for (PacedModel.Stream s : model.streams()) {
            if (s.requestAtMs >= windowStart && s.requestAtMs < windowEnd) {
                requested++;
                tokens.add((double) s.tokens);
                if (s.complete()) {
                    modelTime.add((double) (s.lastTokenAtMs - s.requestAtMs));
                }
            }
        }
        int peakInFlight = 0;
        int peakAtModel = 0;
        double sumInFlight = 0;
        double sumAtModel = 0;
        for (long[] s : samples) {
            peakInFlight = (int) Math.max(peakInFlight, s[0]);
            peakAtModel = (int) Math.max(peakAtModel, s[1]);
            sumInFlight += s[0];
            sumAtModel += s[1];
        }
        int n = Math.max(1, samples.size());
        return new Result(
                mode,
                c.maxInFlight(),
                model.describe(),
                seconds,
                c.rate(),
                fed / seconds,
                completed / seconds,
                requested / seconds,
                peakInFlight,
                sumInFlight / n,
                Math.max(peakAtModel, 0),
                sumAtModel / n,
                Summary.of(modelTime),
                Summary.of(tokens),
                trends,
                spent,
                pools,
                completed,
                model.repeatedRequests(),
                thoughtBytes,
                shareFetches);
    }

    static void print(Result r, PrintStream out) {
        out.printf(
                Locale.ROOT,
                "== 8. llm-processor capacity, LLM_MODE=%s, LLM_MAX_IN_FLIGHT=%d (target >= 200 "
                        + "thoughts/s, limited by CPU)%n",
                r.mode(),
                r.maxInFlight());
        out.println("  model: " + r.model());
        out.printf(
                Locale.ROOT,
                "  thoughts: %.1f/s offered (%.1f/s written), %.1f/s finished (all parts written), "
                        + "%.1f/s requests at the model; over %.0f s%n",
                r.offeredPerSecond(),
                r.fedPerSecond(),
                r.completedPerSecond(),
                r.requestsPerSecond(),
                r.windowSeconds());
        out.printf(
                Locale.ROOT,
                "  in flight: peak %d, mean %.0f (llm_in_flight, sampled every %d ms); open at the "
                        + "model: peak %d, mean %.0f%n",
                r.peakInFlight(),
                r.meanInFlight(),
                SAMPLE_EVERY_MS,
                r.peakAtModel(),
                r.meanAtModel());
        if (r.shareFetches().fetches() > 0) {
            out.printf(
                    Locale.ROOT,
                    "  share fetches: %.1f/s, bringing %.2f records each%n",
                    r.shareFetches().fetches() / r.windowSeconds(),
                    r.shareFetches().recordsPerFetch());
        }
        out.println("  model time per reply (request -> last token): "
                + r.modelTime().format());
        out.println("  reply tokens: " + r.replyTokens().format().replace(" ms", ""));
        for (LagSampler.Trend t : r.trends()) {
            if (!t.label().equals("total")) {
                out.printf(
                        Locale.ROOT,
                        "  backlog %-14s first %6d  last %6d  max %6d  slope %+8.1f/s  %s%n",
                        t.label(),
                        t.first(),
                        t.last(),
                        t.max(),
                        t.slopePerSecond(),
                        t.growing() ? "GROWING (saturated: the offered rate is above what it sustains)" : "stable");
            }
        }
        JvmUsage.Spent u = r.usage();
        double per = Math.max(1, r.completed());
        JvmUsage.Use p = r.processor();
        out.printf(
                Locale.ROOT,
                "  CPU: this JVM %.2f of %d cores busy; the llm-processor's threads %.0f ms/s = "
                        + "%.2f ms per thought finished; redis-server %.2f ms per thought%n",
                u.cores(),
                Runtime.getRuntime().availableProcessors(),
                p.cpuMs() / u.seconds(),
                p.cpuMs() / per,
                u.redisCpuMs() / per);
        out.println("    by part, ms per thought: " + u.formatParts(per, "ms"));
        StringBuilder pools = new StringBuilder();
        r.processorPools().entrySet().stream()
                .sorted((a, b) ->
                        Double.compare(b.getValue().cpuMs(), a.getValue().cpuMs()))
                .limit(10)
                .forEach(e -> pools.append(pools.length() == 0 ? "" : ", ")
                        .append(String.format(
                                Locale.ROOT, "%s %.2f", e.getKey(), e.getValue().cpuMs() / per)));
        out.println("    llm-processor by thread pool, ms per thought: " + pools);
        out.printf(
                Locale.ROOT,
                "  heap: the llm-processor's threads allocated %.0f KiB per thought (%.1f MiB/s); "
                        + "this JVM: %d collections, %d ms in GC; heap after GC %.0f -> %.0f MiB; thoughts of %.0f bytes%n",
                p.allocatedMb() * 1024 / per,
                p.allocatedMb() / u.seconds(),
                u.gcCount(),
                u.gcMillis(),
                u.heapAfterGcStartBytes() / 1048576.0,
                u.heapAfterGcEndBytes() / 1048576.0,
                r.avgThoughtBytes());
        if (r.repeatedRequests() > 0) {
            out.printf(
                    Locale.ROOT, "  note: %d thoughts were asked of the model more than once%n", r.repeatedRequests());
        }
    }

    private static long maxThreadId() {
        long max = 0;
        for (long id : ManagementFactory.getThreadMXBean().getAllThreadIds()) {
            max = Math.max(max, id);
        }
        return max;
    }

    /** Writes thoughts at a fixed rate, each of a chat of its own, as the chunker would close them. */
    private static final class Feeder implements AutoCloseable {
        private final KafkaProducer<Long, Thought> producer;
        private final Topic<Long, Thought> topic;
        private final double rate;
        private final List<List<ContextMessage>> contexts = new ArrayList<>();
        private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "bench-capacity-feed");
            t.setDaemon(true);
            return t;
        });
        private final AtomicLong sent = new AtomicLong();
        private final AtomicLong bytes = new AtomicLong();
        private long startNanos;

        Feeder(String bootstrap, Topic<Long, Thought> topic, E2eOptions.Capacity c) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.CLIENT_ID_CONFIG, "bench-capacity-feed");
            p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            this.producer = new KafkaProducer<>(
                    p, topic.keySerde().serializer(), topic.valueSerde().serializer());
            this.topic = topic;
            this.rate = c.rate();
            long now = System.currentTimeMillis();
            for (int i = 0; i < CONTEXTS; i++) {
                SplittableRandom random = new SplittableRandom(i);
                List<ContextMessage> context = new ArrayList<>();
                for (int m = 0; m < c.contextMessages(); m++) {
                    boolean user = m % 2 == 0;
                    context.add(new ContextMessage(
                            user ? ContextMessage.Role.USER : ContextMessage.Role.ASSISTANT,
                            user ? Fixtures.userText(random) : Fixtures.assistantText(random),
                            now - (c.contextMessages() - m) * 60_000L));
                }
                contexts.add(List.copyOf(context));
            }
        }

        void start() {
            startNanos = System.nanoTime();
            timer.scheduleAtFixedRate(this::feed, 0, FEED_EVERY_MS, TimeUnit.MILLISECONDS);
        }

        long sent() {
            return sent.get();
        }

        /** The average size of a thought written (of the first {@value CONTEXTS}, one per context). */
        double thoughtBytes() {
            return bytes.get() / (double) Math.max(1, Math.min(CONTEXTS, sent.get()));
        }

        private void feed() {
            try {
                long due = (long) (rate * (System.nanoTime() - startNanos) / 1e9);
                long now = System.currentTimeMillis();
                while (sent.get() < due) {
                    long n = sent.getAndIncrement();
                    long chat = FIRST_CHAT + n;
                    List<ThoughtMessage> messages = new ArrayList<>();
                    for (int m = 1; m <= 3; m++) {
                        messages.add(new ThoughtMessage(m, LoadScenario.text(chat, 1, m, 3), now));
                    }
                    Thought t = new Thought(
                            Thought.SCHEMA_VERSION,
                            Thought.idFor(chat, 1),
                            chat,
                            messages,
                            1,
                            3,
                            now,
                            now,
                            contexts.get((int) (n % CONTEXTS)));
                    if (n < CONTEXTS) {
                        bytes.addAndGet(topic.valueSerde().serializer().serialize(topic.name(), t).length);
                    }
                    producer.send(new ProducerRecord<>(topic.name(), chat, t));
                }
            } catch (RuntimeException e) {
                LOG.warn("the capacity feeder failed to write a thought (the run goes on): {}", e.toString());
            }
        }

        @Override
        public void close() {
            timer.shutdownNow();
            try {
                if (!timer.awaitTermination(10, TimeUnit.SECONDS)) {
                    LOG.warn("the capacity feeder did not stop within 10 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            producer.close(Duration.ofSeconds(10));
        }
    }
}
