package dev.thoughtstream.ops;

import dev.thoughtstream.common.config.KafkaSettings;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** The commands' Kafka clients: the services' connection settings, no consumer group, nothing committed. */
public final class Kafka {
    /** How long one broker request may take before the command gives up. */
    public static final Duration TIMEOUT = Duration.ofSeconds(30);

    private Kafka() {}

    public static Admin admin(KafkaSettings settings, String clientId) {
        Properties p = settings.clientProperties();
        p.put(AdminClientConfig.CLIENT_ID_CONFIG, clientId);
        p.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) TIMEOUT.toMillis());
        return Admin.create(p);
    }

    /**
     * A reader of raw records that the command assigns partitions to itself: no group, so reading changes no
     * service's offsets. read_committed, like the services, so an aborted write is never shown.
     */
    public static KafkaConsumer<byte[], byte[]> reader(KafkaSettings settings, String clientId) {
        Properties p = settings.clientProperties();
        p.remove(ConsumerConfig.GROUP_ID_CONFIG);
        p.remove(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG);
        p.remove(ConsumerConfig.GROUP_PROTOCOL_CONFIG);
        p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * The future's value.
     *
     * @throws OpsException naming {@code what} when the broker refuses or does not answer in time
     */
    public static <T> T get(KafkaFuture<T> future, String what) {
        try {
            return future.get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new OpsException("cannot " + what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new OpsException("timed out after " + TIMEOUT.toSeconds() + " s trying to " + what, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new OpsException("interrupted while trying to " + what, e);
        }
    }
}
