package dev.thoughtstream.bench.e2e;

import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.lang.management.ThreadInfo;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import redis.clients.jedis.RedisClient;

/**
 * What this JVM (and redis-server) spent between two moments: process CPU, each live thread's CPU and allocated
 * bytes, garbage collections, and the heap left after the last collection. Every service of a bench run shares
 * this JVM, so a service's share is found by its threads' names (see {@link #byPart}); what no live thread
 * accounts for (GC and JIT threads, threads that ended in between) is reported as such, never guessed.
 */
final class JvmUsage {

    /** One moment. */
    record Snapshot(
            long atNanos,
            long processCpuNanos,
            Map<Long, ThreadUse> threads,
            long gcCount,
            long gcMillis,
            long heapAfterGcBytes,
            double redisCpuSeconds) {}

    /** One thread's totals so far. */
    record ThreadUse(String name, long cpuNanos, long allocatedBytes) {}

    /** CPU and allocation of one part between two snapshots. */
    record Use(double cpuMs, double allocatedMb) {
        Use plus(Use o) {
            return new Use(cpuMs + o.cpuMs, allocatedMb + o.allocatedMb);
        }
    }

    /** Everything spent between two snapshots. */
    record Spent(
            double seconds,
            double processCpuMs,
            Map<String, Use> byPart,
            double unattributedCpuMs,
            long gcCount,
            long gcMillis,
            long heapAfterGcStartBytes,
            long heapAfterGcEndBytes,
            double redisCpuMs) {
        /** Cores of this JVM busy on average over the interval. */
        double cores() {
            return seconds <= 0 ? Double.NaN : processCpuMs / 1000.0 / seconds;
        }

        Use part(String name) {
            return byPart.getOrDefault(name, new Use(0, 0));
        }

        /** {@code part 412 ms (1.2%), …} in descending CPU, each part's share of the process's CPU. */
        String formatParts(double per, String unit) {
            StringBuilder s = new StringBuilder();
            byPart.entrySet().stream()
                    .sorted((a, b) ->
                            Double.compare(b.getValue().cpuMs(), a.getValue().cpuMs()))
                    .forEach(e -> s.append(s.length() == 0 ? "" : ", ")
                            .append(String.format(
                                    Locale.ROOT,
                                    "%s %.1f",
                                    e.getKey(),
                                    e.getValue().cpuMs() / per)));
            s.append(String.format(
                    Locale.ROOT, ", not in a live thread (GC, JIT, ended threads) %.1f", unattributedCpuMs / per));
            return s + " " + unit;
        }
    }

    private JvmUsage() {}

    /** Now; {@code redis} may be null (then no redis-server CPU). */
    static Snapshot take(RedisClient redis) {
        var threadBean = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long[] ids = threadBean.getAllThreadIds();
        long[] cpu = threadBean.getThreadCpuTime(ids);
        long[] allocated = threadBean.getThreadAllocatedBytes(ids);
        ThreadInfo[] infos = threadBean.getThreadInfo(ids);
        Map<Long, ThreadUse> threads = new HashMap<>();
        for (int i = 0; i < ids.length; i++) {
            if (infos[i] != null && cpu[i] >= 0) {
                threads.put(ids[i], new ThreadUse(infos[i].getThreadName(), cpu[i], Math.max(0, allocated[i])));
            }
        }
        long gcCount = 0;
        long gcMillis = 0;
        for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
            gcCount += Math.max(0, gc.getCollectionCount());
            gcMillis += Math.max(0, gc.getCollectionTime());
        }
        long heapAfterGc = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            MemoryUsage after = pool.getType() == MemoryType.HEAP ? pool.getCollectionUsage() : null;
            if (after != null) {
                heapAfterGc += after.getUsed();
            }
        }
        return new Snapshot(
                System.nanoTime(),
                processCpuNanos(),
                threads,
                gcCount,
                gcMillis,
                heapAfterGc,
                redis == null ? 0 : redisCpuSeconds(redis));
    }

    /**
     * What was spent from {@code a} to {@code b}, by part: each thread alive at {@code b} is counted from its value
     * at {@code a} (or from zero when it started in between) under {@code partOf(id, name)}; null leaves it out of
     * every part (it then counts as not attributed).
     */
    static Spent between(Snapshot a, Snapshot b, PartOf partOf) {
        Map<String, Use> parts = new TreeMap<>();
        double attributed = 0;
        for (Map.Entry<Long, ThreadUse> e : b.threads().entrySet()) {
            ThreadUse now = e.getValue();
            ThreadUse before = a.threads().get(e.getKey());
            double cpuMs = (now.cpuNanos() - (before == null ? 0 : before.cpuNanos())) / 1e6;
            double mb = (now.allocatedBytes() - (before == null ? 0 : before.allocatedBytes())) / (1024.0 * 1024);
            String part = partOf.part(e.getKey(), now.name());
            if (part == null) {
                continue;
            }
            attributed += cpuMs;
            parts.merge(part, new Use(cpuMs, mb), Use::plus);
        }
        double processMs = (b.processCpuNanos() - a.processCpuNanos()) / 1e6;
        return new Spent(
                (b.atNanos() - a.atNanos()) / 1e9,
                processMs,
                parts,
                processMs - attributed,
                b.gcCount() - a.gcCount(),
                b.gcMillis() - a.gcMillis(),
                a.heapAfterGcBytes(),
                b.heapAfterGcBytes(),
                (b.redisCpuSeconds() - a.redisCpuSeconds()) * 1000);
    }

    /** Names a thread's part, or null. */
    @FunctionalInterface
    interface PartOf {
        String part(long threadId, String name);

        static PartOf byName(Function<String, String> byName) {
            return (id, name) -> byName.apply(name);
        }
    }

    /**
     * The part of the pipeline a thread of a bench JVM belongs to, by the names the services, their Kafka clients
     * (named by their {@code client.id}, or the chunker's application id) and the harness give their threads.
     * JDK HTTP client selector threads ({@code HttpClient-N-SelectorManager}) serve the llm-processor's model
     * client, ingest's getUpdates and the emitter's sends alike, so they are a part of their own.
     */
    static String pipelinePart(String name) {
        if (name.startsWith("fake-llm-")) {
            return "fake model";
        }
        if (isHarness(name)) {
            return "bench";
        }
        if (name.startsWith("tg-emulator") || name.startsWith("emulator")) {
            return "emulator";
        }
        if (name.contains("chunker") || name.contains("StreamThread") || name.contains("rocksdb")) {
            return "chunker";
        }
        // The llm-processor's producer keeps Kafka's default client id (producer-N), and its share consumers'
        // background threads are unnamed; every other service, and the bench, name their Kafka clients, and none
        // of them uses a share consumer.
        if (name.startsWith("llm-")
                || name.contains("-llm-")
                || name.contains("-llm ")
                || name.endsWith("-llm")
                || name.contains("| producer-")
                || name.equals("consumer_background_thread")) {
            return "llm-processor";
        }
        if (name.contains("ingest")) {
            return "ingest";
        }
        if (name.contains("emitter")) {
            return "emitter";
        }
        if (isBroker(name)) {
            return "broker";
        }
        if (name.startsWith("HttpClient-")) {
            return "JDK HTTP clients";
        }
        return "other";
    }

    /**
     * The bench's own threads and Kafka clients, by the names it gives them. Not every {@code bench-} name: a stack's
     * topics, groups and application ids start with {@code bench-<stack>-} too, so its chunker's stream threads and
     * its consumers' heartbeat threads ({@code … | bench-real-group-…-emitter}) carry it and are the services'.
     */
    static boolean isHarness(String name) {
        String client = name.contains("| ") ? name.substring(name.indexOf("| ") + 2) : name;
        // Whole names: the load stack's ids start with "bench-load-", so "bench-load" alone is the load generator.
        if (HARNESS_NAMES.contains(client)) {
            return true;
        }
        for (String own : HARNESS_PREFIXES) {
            if (client.startsWith(own)) {
                return true;
            }
        }
        return name.contains("topic-reader-");
    }

    private static final java.util.Set<String> HARNESS_NAMES =
            java.util.Set.of("bench-load", "bench-usage", "bench-lag-sampler", "bench-capacity-feed");
    private static final java.util.List<String> HARNESS_PREFIXES = java.util.List.of("bench-watch-", "bench-floor-");

    static boolean isBroker(String name) {
        return name.startsWith("data-plane")
                || name.startsWith("kafka-") && !name.contains("|")
                || name.startsWith("broker-")
                || name.startsWith("controller-")
                || name.startsWith("quorum-")
                || name.contains("raft")
                || name.startsWith("group-coordinator")
                || name.startsWith("share-coordinator")
                || name.startsWith("ExpirationReaper")
                || name.startsWith("LogDirFailureHandler")
                || name.startsWith("kafka-scheduler")
                || name.startsWith("transaction-log-manager")
                || name.startsWith("TxnMarkerSenderThread")
                || name.startsWith("executor-")
                || name.startsWith("log-cleaner")
                || name.startsWith("ThrottledChannelReaper")
                || name.startsWith("persister-state-manager")
                || name.startsWith("share-group-lock-timeout-reaper")
                || name.startsWith("metadata-")
                || name.startsWith("event-process-thread");
    }

    /** {@code llm-http-2} → {@code llm-http-*}: a thread's pool, for a breakdown inside one part. */
    static String pool(String name) {
        String n = name.replaceAll("\\d+", "*");
        int bar = n.indexOf(" | ");
        return bar < 0 ? n : n.substring(0, bar) + " | " + n.substring(bar + 3).replaceAll("-[0-9a-f*-]{8,}", "-…");
    }

    private static long processCpuNanos() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            return os.getProcessCpuTime();
        }
        return 0;
    }

    /** {@code INFO cpu}: redis-server's user and system CPU seconds so far. */
    static double redisCpuSeconds(RedisClient redis) {
        double seconds = 0;
        for (String line : redis.info("cpu").split("\r?\n")) {
            if (line.startsWith("used_cpu_sys:") || line.startsWith("used_cpu_user:")) {
                seconds +=
                        Double.parseDouble(line.substring(line.indexOf(':') + 1).strip());
            }
        }
        return seconds;
    }
}
