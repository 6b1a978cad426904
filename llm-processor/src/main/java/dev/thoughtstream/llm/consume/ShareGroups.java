package dev.thoughtstream.llm.consume;

import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.llm.ScaleConfig;
import dev.thoughtstream.llm.ScaleConfig.Mode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.FinalizedVersionRange;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What share mode needs from the broker: the feature, and the group's settings. */
public final class ShareGroups {
    private static final Logger LOG = LoggerFactory.getLogger(ShareGroups.class);
    static final String SHARE_VERSION = "share.version";
    static final String AUTO_OFFSET_RESET = "share.auto.offset.reset";
    static final String ISOLATION_LEVEL = "share.isolation.level";
    static final String DELIVERY_COUNT_LIMIT = "share.delivery.count.limit";

    private ShareGroups() {}

    /**
     * The mode to run in. {@code auto} becomes share when the broker has finalized {@code share.version >= 1}, group
     * when it positively lacks it (WARN); a broker that cannot be asked fails the start rather than guess, because a
     * group id cannot be a share group and a consumer group at once.
     */
    public static Mode resolve(Mode configured, Admin admin, Duration timeout) {
        if (configured == Mode.GROUP) {
            return Mode.GROUP;
        }
        Optional<Short> level = shareVersion(admin, timeout);
        boolean supported = level.orElse((short) 0) >= 1;
        if (configured == Mode.SHARE) {
            if (!supported) {
                throw new ConfigException(
                        ScaleConfig.MODE,
                        "is share, but the broker does not support share groups ("
                                + SHARE_VERSION + " "
                                + level.map(String::valueOf).orElse("absent")
                                + "); use group, or auto to fall back by itself");
            }
            return Mode.SHARE;
        }
        if (supported) {
            LOG.info("the broker supports share groups ({}={}): mode share", SHARE_VERSION, level.orElseThrow());
            return Mode.SHARE;
        }
        LOG.warn(
                "the broker does not support share groups ({} {}): falling back to a classic consumer group "
                        + "(instances up to the partition count)",
                SHARE_VERSION,
                level.map(String::valueOf).orElse("absent"));
        return Mode.GROUP;
    }

    /** The finalized {@code share.version}; empty when the broker does not know it or cannot describe features. */
    public static Optional<Short> shareVersion(Admin admin, Duration timeout) {
        try {
            Map<String, FinalizedVersionRange> features = admin.describeFeatures()
                    .featureMetadata()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .finalizedFeatures();
            FinalizedVersionRange range = features.get(SHARE_VERSION);
            return range == null ? Optional.empty() : Optional.of(range.maxVersionLevel());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof UnsupportedVersionException) {
                return Optional.empty();
            }
            throw new IllegalStateException(
                    "cannot ask the broker whether it supports share groups: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException(
                    "the broker did not say within " + timeout + " whether it supports share groups", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while describing the broker's features", e);
        }
    }

    /**
     * Prepares the share group: it reads {@code read_committed} (the chunker writes thoughts in transactions; an
     * aborted one must never be answered), and a new group starts from the earliest offset like group mode does,
     * unless an operator chose otherwise. Checks that {@code LLM_MAX_DELIVERIES} is within the group's delivery
     * count limit, or the broker would archive a poison thought before it could be dead-lettered.
     *
     * @throws ConfigException when {@code LLM_MAX_DELIVERIES} is above the group's limit
     */
    public static void prepare(Admin admin, String groupId, int maxDeliveries, Duration timeout) {
        ConfigResource group = new ConfigResource(ConfigResource.Type.GROUP, groupId);
        Config current;
        try {
            current = admin.describeConfigs(List.of(group))
                    .all()
                    .get(timeout.toMillis(), TimeUnit.MILLISECONDS)
                    .get(group);
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn(
                    "cannot read share group {}'s settings ({}); make sure it has {}=read_committed, and that "
                            + "{} <= its {}",
                    groupId,
                    e.toString(),
                    ISOLATION_LEVEL,
                    ScaleConfig.MAX_DELIVERIES,
                    DELIVERY_COUNT_LIMIT);
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading share group settings", e);
        }
        ConfigEntry limit = current == null ? null : current.get(DELIVERY_COUNT_LIMIT);
        if (limit != null && limit.value() != null && maxDeliveries > Integer.parseInt(limit.value())) {
            throw new ConfigException(
                    ScaleConfig.MAX_DELIVERIES,
                    "is " + maxDeliveries + " but share group " + groupId
                            + " has " + DELIVERY_COUNT_LIMIT + "=" + limit.value()
                            + ": Kafka would archive a poison thought before it reached the dead-letter topic");
        }
        List<AlterConfigOp> changes = new ArrayList<>();
        ConfigEntry isolation = current == null ? null : current.get(ISOLATION_LEVEL);
        if (isolation == null || !"read_committed".equals(isolation.value())) {
            changes.add(
                    new AlterConfigOp(new ConfigEntry(ISOLATION_LEVEL, "read_committed"), AlterConfigOp.OpType.SET));
        }
        ConfigEntry reset = current == null ? null : current.get(AUTO_OFFSET_RESET);
        if (reset == null || reset.source() == ConfigEntry.ConfigSource.DEFAULT_CONFIG) {
            changes.add(new AlterConfigOp(new ConfigEntry(AUTO_OFFSET_RESET, "earliest"), AlterConfigOp.OpType.SET));
        }
        if (changes.isEmpty()) {
            return;
        }
        try {
            admin.incrementalAlterConfigs(Map.of(group, changes)).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            LOG.info(
                    "share group {}: set {}",
                    groupId,
                    changes.stream()
                            .map(c -> c.configEntry().name() + "="
                                    + c.configEntry().value())
                            .toList());
        } catch (ExecutionException | TimeoutException e) {
            LOG.warn(
                    "cannot set {} on share group {} ({}); set them yourself (kafka-configs --entity-type groups)",
                    changes,
                    groupId,
                    e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while setting share group settings", e);
        }
    }
}
