package dev.thoughtstream.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.topic.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What can be checked without a broker; the poll loop is tested against a real one with testkit's Kafka. */
class LlmProcessorTest {
    private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);

    @AfterEach
    void stopScheduler() {
        scheduler.shutdownNow();
    }

    @Test
    void settingsTheProcessorReliesOnCannotBeOverridden() {
        Config config = Config.of(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1",
                "KAFKA_CLIENT_ENABLE_AUTO_COMMIT", "true",
                "KAFKA_CLIENT_GROUP_ID", "someone-else",
                "KAFKA_CLIENT_ACKS", "0",
                "KAFKA_CLIENT_ENABLE_IDEMPOTENCE", "false",
                "LLM_GROUP_ID", "llm-test"));
        KafkaSettings kafka = KafkaSettings.from(config);

        Properties consumer = LlmProcessor.consumerProperties(kafka, LlmConfig.from(config));
        Properties producer = LlmProcessor.producerProperties(kafka);

        assertEquals("false", consumer.get(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG));
        assertEquals("llm-test", consumer.get(ConsumerConfig.GROUP_ID_CONFIG));
        assertEquals(ByteArrayDeserializer.class.getName(), consumer.get(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG));
        assertEquals("all", producer.get(ProducerConfig.ACKS_CONFIG));
        assertEquals("true", producer.get(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG));
    }

    @Test
    void tunablesCanBeOverriddenAndThePollIntervalOutlastsAReply() {
        Config config = Config.of(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1",
                "KAFKA_CLIENT_AUTO_OFFSET_RESET", "latest",
                "LLM_REPLY_TIMEOUT_MS", "600000"));

        Properties consumer = LlmProcessor.consumerProperties(KafkaSettings.from(config), LlmConfig.from(config));

        assertEquals("latest", consumer.get(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG));
        assertEquals("1", consumer.get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG));
        assertTrue(Long.parseLong((String) consumer.get(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG)) > 600_000);
    }

    @Test
    void aProcessorThatNeverStartedClosesCleanlyAndCannotStartAfterwards() throws Exception {
        Config config = Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"));
        LlmConfig llm = LlmConfig.from(config);
        LlmProcessor processor = new LlmProcessor(KafkaSettings.from(config), Topics.withPrefix("t."), llm,
                new ScriptedStreamingChatModel(Duration.ZERO, 0, scheduler), scheduler, Clock.systemUTC());

        processor.close();

        assertTrue(processor.awaitTermination(Duration.ofSeconds(30)));
        assertFalse(processor.isRunning());
        assertTrue(processor.failure().isEmpty());
        assertThrows(IllegalStateException.class, processor::start);
        processor.close(); // a second close is harmless
    }
}
