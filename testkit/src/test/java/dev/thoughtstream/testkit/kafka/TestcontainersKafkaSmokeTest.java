package dev.thoughtstream.testkit.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

/**
 * The embedded broker's smoke test against Apache Kafka's own container image. Runs only where Docker exists;
 * elsewhere the whole class is reported as skipped (the annotation sits on the class: on a method it errors
 * under JUnit 5.13).
 */
@Testcontainers(disabledWithoutDocker = true)
class TestcontainersKafkaSmokeTest {

    @Container
    static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.3.1");

    @Test
    void recordsProducedToAContainerisedBrokerAreConsumedInOrder() throws Exception {
        assertEquals(KafkaSmoke.expected(5), KafkaSmoke.produceAndConsumeInAGroup(KAFKA.getBootstrapServers(), 5));
    }
}
