package dev.thoughtstream.testkit.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.testkit.Await;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Exit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Start, restart and stop of brokers of their own (not the shared one), each on a {@code @TempDir}. */
class EmbeddedKafkaLifecycleTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String TOPIC = "kept.across.restarts";

    @TempDir
    Path dataDir;

    @Test
    void aBrokerRestartedOnTheSameDataDirKeepsItsClusterTopicsAndRecords() throws Exception {
        // given a broker that created a topic and took two records, then stopped
        String clusterId;
        int controllerPort;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dataDir, 0)) {
            clusterId = clusterId(kafka);
            controllerPort = kafka.controllerPort();
            createTopic(kafka);
            produce(kafka, "before-restart-1", "before-restart-2");
        }
        assertTrue(
                Files.isRegularFile(dataDir.resolve(EmbeddedKafka.LOG_DIR).resolve("meta.properties")),
                "close keeps the data directory");

        // when a new broker starts on the same directory
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dataDir, 0)) {
            // then it is the same cluster (not reformatted), on the remembered controller port
            assertEquals(clusterId, clusterId(kafka));
            assertEquals(controllerPort, kafka.controllerPort());
            // and the topic and its records are still there, and it takes new ones
            produce(kafka, "after-restart");
            assertEquals(List.of("before-restart-1", "before-restart-2", "after-restart"), readAll(kafka, 3));
        }
    }

    @Test
    void aRestartMovesToAnotherControllerPortWhenTheRememberedOneIsTaken() throws Exception {
        // given a stopped broker whose controller port is now held by someone else
        String clusterId;
        int oldControllerPort;
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dataDir, 0)) {
            clusterId = clusterId(kafka);
            oldControllerPort = kafka.controllerPort();
            createTopic(kafka);
            produce(kafka, "kept");
        }
        try (ServerSocket squatter = new ServerSocket(oldControllerPort, 1, InetAddress.getLoopbackAddress())) {
            assertEquals(oldControllerPort, squatter.getLocalPort());
            // when it restarts on the same directory
            try (EmbeddedKafka kafka = EmbeddedKafka.start(dataDir, 0)) {
                // then KRaft accepts the single voter's new endpoint and the data is intact
                assertNotEquals(oldControllerPort, kafka.controllerPort());
                assertEquals(clusterId, clusterId(kafka));
                assertEquals(List.of("kept"), readAll(kafka, 1));
            }
        }
    }

    @Test
    void closeStopsEveryNonDaemonThreadTheBrokerStarted() throws Exception {
        // given the non-daemon threads before any broker of this test ran
        Set<Thread> before = nonDaemonThreads();

        // when a broker starts, serves a client, and closes
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dataDir, 0)) {
            createTopic(kafka);
            produce(kafka, "x");
        }

        // then none of its non-daemon threads remain, so the JVM can exit
        awaitNoNewNonDaemonThreads(before);
    }

    private static void awaitNoNewNonDaemonThreads(Set<Thread> before) {
        try {
            Await.until(
                    "the broker's non-daemon threads to end",
                    TIMEOUT,
                    () -> newNonDaemonThreads(before).isEmpty());
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + "; still running: " + newNonDaemonThreads(before), e);
        }
    }

    private static Set<Thread> nonDaemonThreads() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> !t.isDaemon() && t.isAlive())
                .collect(Collectors.toSet());
    }

    private static List<String> newNonDaemonThreads(Set<Thread> before) {
        return nonDaemonThreads().stream()
                .filter(t -> !before.contains(t))
                .map(Thread::getName)
                .toList();
    }

    @Test
    void aTakenBrokerPortFailsTheStartWithAMessageNamingThePortAndLeavesNoThreads() throws Exception {
        Set<Thread> before = nonDaemonThreads();
        try (ServerSocket squatter = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = squatter.getLocalPort();

            // when a broker is asked to listen on a port someone else holds
            IllegalStateException failure =
                    assertThrows(IllegalStateException.class, () -> EmbeddedKafka.start(dataDir, port));

            // then the start fails naming the port, and the half-started server was shut down
            assertTrue(failure.getMessage().contains("127.0.0.1:" + port), failure.getMessage());
            assertTrue(failure.getMessage().contains("in use"), failure.getMessage());
            awaitNoNewNonDaemonThreads(before);
        }
    }

    @Test
    void whileABrokerRunsKafkaCannotHaltOrExitTheJvm() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dataDir, 0)) {
            // when Kafka's fatal-fault path asks to halt (as ProcessTerminatingFaultHandler does)
            IllegalStateException halt =
                    assertThrows(IllegalStateException.class, () -> Exit.halt(1, "simulated fatal fault"));
            IllegalStateException exit = assertThrows(IllegalStateException.class, () -> Exit.exit(1));

            // then it is refused with an exception, and this JVM and the broker live on
            assertTrue(halt.getMessage().contains("simulated fatal fault"), halt.getMessage());
            assertTrue(exit.getMessage().contains("exit the JVM with status 1"), exit.getMessage());
            assertFalse(clusterId(kafka).isBlank(), "the broker still serves clients");
        }
    }

    private static String clusterId(EmbeddedKafka kafka) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            return admin.describeCluster().clusterId().get(30, TimeUnit.SECONDS);
        }
    }

    private static void createTopic(EmbeddedKafka kafka) throws Exception {
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        }
    }

    private static void produce(EmbeddedKafka kafka, String... values) throws Exception {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        props.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, String> producer =
                new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            for (String v : values) {
                producer.send(new ProducerRecord<>(TOPIC, "k", v)).get(30, TimeUnit.SECONDS);
            }
        }
    }

    private static List<String> readAll(EmbeddedKafka kafka, int count) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        List<String> values = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer =
                new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            TopicPartition partition = new TopicPartition(TOPIC, 0);
            consumer.assign(List.of(partition));
            consumer.seekToBeginning(List.of(partition));
            Await.until(count + " records on " + TOPIC, TIMEOUT, () -> {
                consumer.poll(Duration.ofMillis(100)).forEach(r -> values.add(r.value()));
                return values.size() >= count;
            });
        }
        return values;
    }
}
