package dev.thoughtstream.bench.e2e;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.LongSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Samples the backlog of every stage at a fixed interval: each consumer group's (or share group's) lag on the
 * topic it reads, plus the updates the emulator holds that ingest has not fetched yet. A backlog that keeps
 * growing means the offered load is above what the pipeline sustains, whatever the throughput figure says.
 */
final class LagSampler implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(LagSampler.class);
    private static final Duration CALL_TIMEOUT = Duration.ofSeconds(5);
    static final String INGEST = "ingest(getUpdates backlog)";

    /** One service's group and the topic whose lag it owns. */
    record Group(String label, String groupId, String topic) {}

    /** The backlog of every stage at one moment. */
    record Sample(long atMs, Map<String, Long> lag) {
        long total() {
            return lag.values().stream().mapToLong(Long::longValue).sum();
        }
    }

    private final Admin admin;
    private final List<Group> groups;
    private final int partitions;
    private final LongSupplier ingestBacklog;
    private final ScheduledExecutorService scheduler;
    private final List<Sample> samples = new ArrayList<>();
    private final Map<String, Boolean> isShareGroup = new HashMap<>();

    /** @param ingestBacklog the updates waiting for ingest; null when there is no ingest stage */
    LagSampler(String bootstrap, List<Group> groups, int partitions, LongSupplier ingestBacklog) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, "bench-lag-sampler");
        this.admin = Admin.create(p);
        this.groups = List.copyOf(groups);
        this.partitions = partitions;
        this.ingestBacklog = ingestBacklog;
        ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "bench-lag-sampler");
            t.setDaemon(true);
            return t;
        });
        this.scheduler = s;
    }

    void start(Duration interval) {
        scheduler.scheduleWithFixedDelay(this::sampleQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    synchronized List<Sample> samples() {
        return List.copyOf(samples);
    }

    /** Samples taken within {@code [fromMs, toMs]}. */
    List<Sample> samplesBetween(long fromMs, long toMs) {
        return samples().stream()
                .filter(s -> s.atMs() >= fromMs && s.atMs() <= toMs)
                .toList();
    }

    private void sampleQuietly() {
        try {
            Sample s = sample();
            synchronized (this) {
                samples.add(s);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            LOG.warn("lag sample failed (skipped): {}", e.toString());
        }
    }

    Sample sample() throws InterruptedException, ExecutionException, TimeoutException {
        Map<String, Long> lag = new LinkedHashMap<>();
        if (ingestBacklog != null) {
            lag.put(INGEST, ingestBacklog.getAsLong());
        }
        for (Group g : groups) {
            lag.put(g.label(), lagOf(g));
        }
        return new Sample(System.currentTimeMillis(), lag);
    }

    private long lagOf(Group g) throws InterruptedException, ExecutionException, TimeoutException {
        List<TopicPartition> tps = new ArrayList<>();
        for (int i = 0; i < partitions; i++) {
            tps.add(new TopicPartition(g.topic(), i));
        }
        Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
        tps.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
        Map<TopicPartition, Long> end = new HashMap<>();
        admin.listOffsets(latest, new ListOffsetsOptions(IsolationLevel.READ_COMMITTED))
                .all()
                .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .forEach((tp, info) -> end.put(tp, info.offset()));

        Boolean share = isShareGroup.get(g.groupId());
        if (share == null || !share) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(g.groupId())
                    .partitionsToOffsetAndMetadata()
                    .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (!committed.isEmpty() || Boolean.FALSE.equals(share)) {
                isShareGroup.put(g.groupId(), false);
                long lag = 0;
                for (TopicPartition tp : tps) {
                    OffsetAndMetadata c = committed.get(tp);
                    lag += Math.max(0, end.getOrDefault(tp, 0L) - (c == null ? 0 : c.offset()));
                }
                return lag;
            }
        }
        Map<TopicPartition, SharePartitionOffsetInfo> shareOffsets = admin.listShareGroupOffsets(
                        Map.of(g.groupId(), new ListShareGroupOffsetsSpec().topicPartitions(tps)))
                .partitionsToOffsetInfo(g.groupId())
                .get(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        boolean known = shareOffsets.values().stream().anyMatch(java.util.Objects::nonNull);
        if (known) {
            isShareGroup.put(g.groupId(), true);
        }
        long lag = 0;
        for (TopicPartition tp : tps) {
            SharePartitionOffsetInfo info = shareOffsets.get(tp);
            if (info == null) {
                lag += end.getOrDefault(tp, 0L);
            } else {
                lag += info.lag().orElse(Math.max(0, end.getOrDefault(tp, 0L) - info.startOffset()));
            }
        }
        return lag;
    }

    /** The backlog of one stage over the window: where it started, ended, peaked, and which way it went. */
    record Trend(String label, long first, long last, long max, double slopePerSecond, boolean growing) {}

    /**
     * One trend per stage and one for their total. A stage is growing when its least-squares slope exceeds
     * {@code tolerancePerSecond} (records/s) and it ends above where it began.
     */
    static List<Trend> trends(List<Sample> window, double tolerancePerSecond) {
        List<Trend> result = new ArrayList<>();
        if (window.isEmpty()) {
            return result;
        }
        List<String> labels = new ArrayList<>(window.get(0).lag().keySet());
        labels.add("total");
        for (String label : labels) {
            long[] t = new long[window.size()];
            long[] v = new long[window.size()];
            for (int i = 0; i < window.size(); i++) {
                Sample s = window.get(i);
                t[i] = s.atMs();
                v[i] = label.equals("total") ? s.total() : s.lag().getOrDefault(label, 0L);
            }
            long max = 0;
            for (long x : v) {
                max = Math.max(max, x);
            }
            double slope = slopePerSecond(t, v);
            boolean growing = slope > tolerancePerSecond && v[v.length - 1] > v[0];
            result.add(new Trend(label, v[0], v[v.length - 1], max, slope, growing));
        }
        return result;
    }

    private static double slopePerSecond(long[] t, long[] v) {
        int n = t.length;
        if (n < 2) {
            return 0;
        }
        double mt = 0;
        double mv = 0;
        for (int i = 0; i < n; i++) {
            mt += (t[i] - t[0]) / 1000.0;
            mv += v[i];
        }
        mt /= n;
        mv /= n;
        double num = 0;
        double den = 0;
        for (int i = 0; i < n; i++) {
            double dt = (t[i] - t[0]) / 1000.0 - mt;
            num += dt * (v[i] - mv);
            den += dt * dt;
        }
        return den == 0 ? 0 : num / den;
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            if (!scheduler.awaitTermination(10, TimeUnit.SECONDS)) {
                LOG.warn("lag sampler did not stop within 10 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        admin.close(Duration.ofSeconds(5));
    }
}
