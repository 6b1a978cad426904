package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * "Ready" means a part written now is taken at the next poll: an emitter whose loop runs but whose group has not yet
 * given it its partitions is not ready.
 */
class EmitterReadinessTest {
    private EmitterFixture fx;

    @BeforeEach
    void setUp() {
        fx = EmitterFixture.create("readiness");
    }

    @AfterEach
    void tearDown() {
        fx.close();
    }

    @Test
    void isNotReadyWhileItsGroupHasNotAssignedItsPartitionsAndIsOnceItHasThemAndHasPolled() throws Exception {
        try (Admin admin =
                        Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers()));
                KafkaConsumer<byte[], byte[]> holder = holder()) {
            // Given a member of the emitter's group that holds every partition and then stops polling, so that the
            // group's next rebalance waits for it
            holder.subscribe(List.of(fx.topics.replies().name()));
            Await.until("the holder's assignment", EmitterFixture.TIMEOUT, () -> {
                holder.poll(Duration.ofMillis(100));
                return holder.assignment().size() == TestKafka.PARTITIONS;
            });

            // When an emitter starts and asks to join
            EmitterService emitter = fx.startEmitter();
            Await.until(
                    "the group rebalancing for the emitter",
                    EmitterFixture.TIMEOUT,
                    () -> describe(admin).groupState() == GroupState.PREPARING_REBALANCE);

            // Then it runs, but is not ready: it holds no partition yet
            assertTrue(emitter.isRunning());
            assertFalse(emitter.isReady(), "not ready before its group has assigned it its partitions");

            // When the holder leaves the group
            holder.close();

            // Then the emitter becomes ready, and by then it holds every partition
            Await.until("the emitter ready", EmitterFixture.TIMEOUT, emitter::isReady);
            ConsumerGroupDescription group = describe(admin);
            assertEquals(GroupState.STABLE, group.groupState());
            assertEquals(1, group.members().size());
            assertEquals(
                    TestKafka.PARTITIONS,
                    group.members()
                            .iterator()
                            .next()
                            .assignment()
                            .topicPartitions()
                            .size(),
                    "the emitter holds every partition when it says ready");
        }
    }

    private ConsumerGroupDescription describe(Admin admin) {
        try {
            return admin.describeConsumerGroups(List.of(fx.groupId))
                    .all()
                    .get(10, TimeUnit.SECONDS)
                    .get(fx.groupId);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot describe group " + fx.groupId, e);
        }
    }

    private KafkaConsumer<byte[], byte[]> holder() {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, TestKafka.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, fx.groupId);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        return new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
