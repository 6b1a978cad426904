package dev.thoughtstream.bench.e2e;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.devstack.DevStack;
import dev.thoughtstream.ingest.IngestFactory;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.redis.RedisServer;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import redis.clients.jedis.RedisClient;

/**
 * ingest alone, flat out: {@code --ingest-updates} user messages over {@code --ingest-chats} chats wait at the
 * emulator before ingest starts (long polling, or a webhook the emulator delivers to as Telegram does), and ingest
 * drains them into the updates topic with every guarantee on (dedup, rules with the flood guard, staleness signal,
 * the poller lease). Measured: updates/s written, from the first record's timestamp to the last's (ingest's own
 * clock when it built each record), and the Redis commands the run cost per update ({@code INFO commandstats},
 * before and after). Nothing downstream runs, so the figure is ingest's own ceiling on this machine.
 */
final class IngestThroughputScenario {
    static final long FIRST_CHAT = 3_000_001L;
    private static final Duration DRAIN_TIMEOUT = Duration.ofMinutes(5);

    /** What one mode's run printed. */
    record Result(
            String mode,
            int updates,
            int chats,
            double seconds,
            double perSecond,
            double warmPerSecond,
            double wallSeconds,
            long redisCommands,
            Map<String, Long> redisByCommand,
            boolean complete,
            double jvmCpuMs,
            double redisCpuMs,
            Map<String, Double> cpuMsByPart) {}

    private IngestThroughputScenario() {}

    static Result run(String mode, String bootstrap, RedisServer redis, E2eOptions o, PrintStream out)
            throws InterruptedException {
        if (redis == null) {
            throw new IllegalStateException("the ingest-only run needs a real redis-server (none is installed)");
        }
        String id = "bench-ingest-" + mode + "-" + Long.toString(System.currentTimeMillis(), 36);
        Topics topics = Topics.withPrefix(id + ".");
        try (TelegramEmulator emulator = TelegramEmulator.builder()
                .port(0)
                .botToken(DevStack.OFFLINE_TOKEN)
                .build()
                .start()) {
            for (int i = 0; i < o.ingestUpdates(); i++) {
                long chat = FIRST_CHAT + i % o.ingestChats();
                emulator.injectMessage(chat, LoadScenario.text(chat, i / o.ingestChats() + 1, 1, 1));
            }
            out.printf(
                    Locale.ROOT,
                    "  %d updates over %d chats waiting at the emulator; starting ingest (%s)%n",
                    o.ingestUpdates(),
                    o.ingestChats(),
                    mode);
            Map<String, String> env = new HashMap<>();
            env.put("KAFKA_BOOTSTRAP_SERVERS", bootstrap);
            env.put("REDIS_URL", redis.url().toString());
            env.put("REDIS_KEY_PREFIX", id + ":");
            env.put("TOPIC_PREFIX", id + ".");
            env.put("TOPIC_PARTITIONS", Integer.toString(o.partitions()));
            env.put("TG_BOT_TOKEN", DevStack.OFFLINE_TOKEN);
            env.put("TG_API_URL", emulator.baseUrl());
            // As in every stack of the bench: the guard runs (its Redis work is ingest's cost) but holds nobody back.
            env.put("INGEST_MAX_MSGS_PER_MIN", "100000");
            env.put("INGEST_MODE", mode);
            if (mode.equals("webhook")) {
                int port = freePort();
                env.put("INGEST_WEBHOOK_PORT", Integer.toString(port));
                env.put("INGEST_WEBHOOK_URL", "http://127.0.0.1:" + port);
                env.put("INGEST_WEBHOOK_SECRET", "bench-" + Long.toString(System.nanoTime(), 36));
            }
            env.putAll(o.overrides());
            Config config = Config.of(env);
            try (Infra infra = Infra.builder(KafkaSettings.from(config))
                    .redis(RedisSettings.from(config))
                    .metrics(new Metrics())
                    .build()) {
                RedisClient stats = infra.redis().orElseThrow();
                Service ingest = new IngestFactory().create(config, infra);
                Map<String, Long> before = commandStats(stats);
                double redisCpuBefore = redisCpuSeconds(stats);
                long cpuBefore = processCpuNanos();
                Map<Long, Long> threadsBefore = threadCpuNanos();
                long started = System.nanoTime();
                ingest.start();
                boolean complete;
                Map<String, Double> byPart;
                try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap))) {
                    complete = Poll.until(
                            DRAIN_TIMEOUT,
                            Duration.ofMillis(50),
                            () -> written(admin, topics.updates().name(), o.partitions()) >= o.ingestUpdates());
                    // Before ingest stops, while its threads are alive.
                    byPart = cpuMsByPart(threadsBefore);
                } finally {
                    ingest.close();
                }
                double wall = (System.nanoTime() - started) / 1e9;
                double jvmCpuMs = (processCpuNanos() - cpuBefore) / 1e6;
                double redisCpuMs = (redisCpuSeconds(stats) - redisCpuBefore) * 1000;
                Map<String, Long> after = commandStats(stats);
                Map<String, Long> used = new TreeMap<>();
                after.forEach((command, calls) -> {
                    long n = calls - before.getOrDefault(command, 0L);
                    if (n > 0 && !command.equals("info")) {
                        used.put(command, n);
                    }
                });
                List<ConsumerRecord<Long, StoredUpdate>> records =
                        TopicReader.readAll(bootstrap, topics.updates(), Duration.ofSeconds(60));
                long[] times = records.stream()
                        .mapToLong(ConsumerRecord::timestamp)
                        .sorted()
                        .toArray();
                int n = times.length;
                double seconds = n == 0 ? 0.001 : Math.max(0.001, (times[n - 1] - times[0]) / 1000.0);
                // The first quarter runs while the JIT still compiles ingest's code: the warm rate leaves it out.
                int q = n / 4;
                double warm =
                        n - q > 1 ? (n - 1 - q) / Math.max(0.001, (times[n - 1] - times[q]) / 1000.0) : Double.NaN;
                return new Result(
                        mode,
                        n,
                        o.ingestChats(),
                        seconds,
                        n > 1 ? (n - 1) / seconds : Double.NaN,
                        warm,
                        wall,
                        used.values().stream().mapToLong(Long::longValue).sum(),
                        used,
                        complete && records.size() >= o.ingestUpdates(),
                        jvmCpuMs,
                        redisCpuMs,
                        byPart);
            }
        }
    }

    static void print(Result r, KafkaFloor.Result floor, PrintStream out) {
        out.printf(
                Locale.ROOT,
                "== ingest alone, %s: %d updates over %d chats, every guarantee on%n",
                r.mode(),
                r.updates(),
                r.chats());
        out.printf(
                Locale.ROOT,
                "  %.0f updates/s written, %.0f/s after the first quarter (JIT warm) (first to last "
                        + "record: %.2f s; start to the last: %.2f s)%s%n",
                r.perSecond(),
                r.warmPerSecond(),
                r.seconds(),
                r.wallSeconds(),
                floor.ran()
                        ? String.format(
                                Locale.ROOT,
                                "; the floor's 3-hop throughput: %.0f records/s",
                                floor.throughputPerSecond())
                        : "");
        out.printf(
                Locale.ROOT,
                "  CPU per 1,000 updates: %.0f ms in this JVM (ingest, the emulator, the broker), "
                        + "%.0f ms in redis-server; less sensitive than updates/s to other load on the machine%n",
                1000 * r.jvmCpuMs() / r.updates(),
                1000 * r.redisCpuMs() / r.updates());
        StringBuilder parts = new StringBuilder();
        r.cpuMsByPart()
                .forEach((part, ms) -> parts.append(parts.length() == 0 ? "" : ", ")
                        .append(String.format(Locale.ROOT, "%s %.0f", part, 1000 * ms / r.updates())));
        out.println("    by part (ms per 1,000 updates, threads alive when the last update landed): " + parts);
        out.printf(
                Locale.ROOT,
                "  Redis: %d commands, %.2f per update: %s%n",
                r.redisCommands(),
                r.updates() == 0 ? Double.NaN : (double) r.redisCommands() / r.updates(),
                r.redisByCommand());
        if (!r.complete()) {
            out.println("  note: not every update reached the topic within " + DRAIN_TIMEOUT.toMinutes() + " min");
        }
    }

    private static long written(Admin admin, String topic, int partitions) {
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
        }
        try {
            long sum = 0;
            for (ListOffsetsResult.ListOffsetsResultInfo info :
                    admin.listOffsets(latest).all().get().values()) {
                sum += info.offset();
            }
            return sum;
        } catch (java.util.concurrent.ExecutionException e) {
            // The topic is created by ingest as it starts; until then there is nothing to count.
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }

    /** CPU time of this JVM so far (every thread: ingest, the emulator, the broker, the bench). */
    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return 0;
    }

    /** CPU time so far of every live thread, by thread id. */
    private static Map<Long, Long> threadCpuNanos() {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Map<Long, Long> cpu = new HashMap<>();
        for (long id : threads.getAllThreadIds()) {
            long t = threads.getThreadCpuTime(id);
            if (t >= 0) {
                cpu.put(id, t);
            }
        }
        return cpu;
    }

    /** CPU used since {@code before} by the threads alive now, summed by what they belong to (their names). */
    private static Map<String, Double> cpuMsByPart(Map<Long, Long> before) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        Map<String, Double> parts = new TreeMap<>();
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            long now = threads.getThreadCpuTime(info.getThreadId());
            if (now < 0) {
                continue;
            }
            double ms = (now - before.getOrDefault(info.getThreadId(), 0L)) / 1e6;
            parts.merge(partOf(info.getThreadName()), ms, Double::sum);
        }
        return parts;
    }

    private static String partOf(String thread) {
        if (thread.startsWith("ingest-") || thread.contains("thoughtstream-ingest")) {
            return "ingest";
        }
        if (thread.startsWith("tg-emulator") || thread.startsWith("HttpClient-")) {
            return "emulator";
        }
        if (thread.startsWith("data-plane")
                || thread.startsWith("kafka-")
                || thread.startsWith("broker-")
                || thread.startsWith("controller-")
                || thread.startsWith("quorum-")
                || thread.contains("raft")
                || thread.startsWith("group-coordinator")
                || thread.startsWith("share-coordinator")
                || thread.startsWith("ExpirationReaper")
                || thread.startsWith("LogDirFailureHandler")) {
            return "broker";
        }
        return "other";
    }

    /** {@code INFO cpu}: redis-server's user and system CPU seconds so far. */
    private static double redisCpuSeconds(RedisClient redis) {
        double seconds = 0;
        for (String line : redis.info("cpu").split("\r?\n")) {
            if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) {
                seconds +=
                        Double.parseDouble(line.substring(line.indexOf(':') + 1).strip());
            }
        }
        return seconds;
    }

    /** {@code INFO commandstats}: command → calls since the server started. */
    static Map<String, Long> commandStats(RedisClient redis) {
        Map<String, Long> calls = new TreeMap<>();
        for (String line : redis.info("commandstats").split("\r?\n")) {
            if (!line.startsWith("cmdstat_")) {
                continue;
            }
            int colon = line.indexOf(':');
            String command = line.substring("cmdstat_".length(), colon);
            for (String field : line.substring(colon + 1).split(",")) {
                if (field.startsWith("calls=")) {
                    calls.put(command, Long.parseLong(field.substring("calls=".length())));
                }
            }
        }
        return calls;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free port for the webhook endpoint", e);
        }
    }
}
