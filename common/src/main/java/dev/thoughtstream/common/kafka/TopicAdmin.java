package dev.thoughtstream.common.kafka;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.retry.Backoff;
import dev.thoughtstream.common.topic.Topics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the pipeline's topics when they are missing, so a fresh cluster or a laptop works without a setup
 * step. Existing topics are left as they are, but a partition count that breaks co-partitioning is reported.
 */
public final class TopicAdmin {
    private static final Logger LOG = LoggerFactory.getLogger(TopicAdmin.class);
    /** Between describes of topics the broker does not know yet. */
    private static final Backoff DESCRIBE_BACKOFF = Backoff.exponential(Duration.ofMillis(20), Duration.ofMillis(500));

    private TopicAdmin() {}

    public static void ensureTopics(KafkaSettings settings, Topics topics, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(settings.clientProperties())) {
            Set<String> existing = admin.listTopics().names().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            List<NewTopic> missing = new ArrayList<>();
            for (String name : topics.allNames()) {
                if (!existing.contains(name)) {
                    missing.add(new NewTopic(name, Optional.of(settings.partitions()), settings.replicationFactor()));
                }
            }
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing).all().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
                    LOG.info(
                            "created topics {} with {} partitions",
                            missing.stream().map(NewTopic::name).toList(),
                            settings.partitions());
                } catch (ExecutionException e) {
                    // Another service may have created them between our list and create; that is fine.
                    if (!(e.getCause() instanceof TopicExistsException)) {
                        throw e;
                    }
                }
            }
            Map<String, TopicDescription> described = describeWhenKnown(admin, topics.allNames(), deadline);
            awaitServed(admin, described, deadline);
            int expected = described.get(topics.updates().name()).partitions().size();
            for (String chatKeyed : List.of(
                    topics.thoughts().name(),
                    topics.replies().name(),
                    topics.delivered().name())) {
                int n = described.get(chatKeyed).partitions().size();
                if (n != expected) {
                    LOG.warn(
                            "topic {} has {} partitions but {} has {}: chat-keyed topics must be co-partitioned",
                            chatKeyed,
                            n,
                            topics.updates().name(),
                            expected);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException(
                    "cannot create or describe topics at " + settings.bootstrapServers() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Metadata can name a partition's leader a moment before that broker serves it. An idempotent producer whose
     * first batch meets NOT_LEADER there while its later batches land can be left retrying OUT_OF_ORDER_SEQUENCE
     * forever, so nothing is produced until every partition answers a listing of its offsets.
     */
    private static void awaitServed(Admin admin, Map<String, TopicDescription> described, long deadline)
            throws InterruptedException, ExecutionException, TimeoutException {
        Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
        described.forEach((name, description) -> description
                .partitions()
                .forEach(p -> partitions.put(new TopicPartition(name, p.partition()), OffsetSpec.latest())));
        Backoff.Sequence retries = DESCRIBE_BACKOFF.sequence();
        while (true) {
            long leftMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            try {
                admin.listOffsets(partitions).all().get(leftMs, TimeUnit.MILLISECONDS);
                return;
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof RetriableException) || System.nanoTime() >= deadline) {
                    throw e;
                }
                long backoffMs = retries.nextMillis();
                LOG.debug(
                        "topics {} not served yet ({}); asking again in {} ms",
                        described.keySet(),
                        e.getCause().getClass().getSimpleName(),
                        backoffMs);
                TimeUnit.MILLISECONDS.sleep(backoffMs);
            }
        }
    }

    /**
     * A topic that was just created may not be known yet to the broker answering the describe (metadata
     * propagates asynchronously), so "unknown topic" is retried until the deadline; anything else is not.
     */
    private static Map<String, TopicDescription> describeWhenKnown(Admin admin, List<String> names, long deadline)
            throws InterruptedException, ExecutionException, TimeoutException {
        Backoff.Sequence retries = DESCRIBE_BACKOFF.sequence();
        while (true) {
            long leftMs = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            try {
                return admin.describeTopics(names).allTopicNames().get(leftMs, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() >= deadline) {
                    throw e;
                }
                long backoffMs = retries.nextMillis();
                LOG.debug("topics {} not known yet to the broker; describing again in {} ms", names, backoffMs);
                TimeUnit.MILLISECONDS.sleep(backoffMs);
            }
        }
    }
}
