package dev.thoughtstream.llm.consume;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.kafka.ShareGroupLag;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.NamedThreads;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Share mode's lag ({@code llm_share_group_lag}, per partition of the thoughts topic): a share consumer has no
 * Micrometer binder, and a share group's backlog is the group's, not a consumer's, so it is read from the Admin API
 * ({@link ShareGroupLag}, as {@code thoughtstream lag} reads it) every {@link Metrics#refresh()}, on a thread and an
 * admin client of its own. Every instance of the group shows the same figures (take their max). NaN before the first
 * reading, while the broker does not answer, and once closed.
 */
public final class ShareLagGauge implements Metrics.Binding {
    static final String NAME = "llm_share_group_lag";
    private static final Logger LOG = LoggerFactory.getLogger(ShareLagGauge.class);
    /** How long one reading may take; the next starts a refresh interval after it ended, so none pile up. */
    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    private static final String HELP = "records of the thoughts topic the share group has not processed, per partition "
            + "(the broker's count, else from the share-partition start offset to the end), read every refresh "
            + "interval; NaN when unknown";

    private final Admin admin;
    private final String group;
    private final String topic;
    private final Metrics metrics;
    private final ScheduledExecutorService refresher;
    private final Map<TopicPartition, Double> lag = new ConcurrentHashMap<>();
    private volatile boolean closed;
    /** Whether the last reading failed: a failure is logged once, not at every refresh. */
    private boolean failing;

    /** Starts reading share group {@code group}'s lag on {@code topic} at once, then every refresh interval. */
    public ShareLagGauge(KafkaSettings kafka, String group, String topic, Metrics metrics) {
        Properties props = kafka.clientProperties();
        props.put("client.id", "thoughtstream-llm-share-lag");
        this.admin = Admin.create(props);
        this.group = group;
        this.topic = topic;
        this.metrics = metrics;
        Duration every = metrics.refresh();
        this.refresher = Executors.newSingleThreadScheduledExecutor(NamedThreads.daemon("llm-share-lag"));
        refresher.scheduleWithFixedDelay(this::refresh, 0, every.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The last reading of {@code partition}; NaN when unknown. */
    double lag(int partition) {
        Double l = lag.get(new TopicPartition(topic, partition));
        return closed || l == null ? Double.NaN : l;
    }

    private void refresh() {
        try {
            TopicDescription described = admin.describeTopics(List.of(topic))
                    .allTopicNames()
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .get(topic);
            List<TopicPartition> partitions = described.partitions().stream()
                    .map(p -> new TopicPartition(topic, p.partition()))
                    .toList();
            Map<TopicPartition, Long> read = ShareGroupLag.of(admin, group, partitions, TIMEOUT);
            read.forEach((tp, records) -> {
                if (lag.put(tp, (double) records) == null) {
                    int partition = tp.partition();
                    metrics.gauge(NAME, HELP, () -> lag(partition), "topic", topic, "partition", "" + partition);
                }
            });
            if (failing) {
                LOG.info("share group {}'s lag can be read again", group);
            }
            failing = false;
        } catch (ExecutionException | TimeoutException | RuntimeException e) {
            lag.replaceAll((tp, l) -> Double.NaN);
            Throwable cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
            if (!failing) {
                LOG.warn(
                        "cannot read share group {}'s lag ({}); the gauge has no value until it can",
                        group,
                        cause.toString());
            } else {
                LOG.debug("share group {}'s lag still unknown: {}", group, cause.toString());
            }
            failing = true;
        } catch (InterruptedException e) {
            // Closing stops the refresher by interrupting it.
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closed = true;
        refresher.shutdownNow();
        try {
            if (!refresher.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("the share lag reader did not stop within 5 s");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        admin.close(Duration.ofSeconds(5));
    }
}
