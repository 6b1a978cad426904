package dev.thoughtstream.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.InMemoryChatActivity;
import dev.thoughtstream.common.redis.InMemoryClaimStore;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.llm.generate.ReplyGenerator;
import dev.thoughtstream.llm.model.ScriptedStreamingChatModel;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** What can be checked without a broker; the consumers are tested against a real one with testkit's Kafka. */
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
                "KAFKA_CLIENT_ISOLATION_LEVEL", "read_uncommitted",
                "KAFKA_CLIENT_ACKS", "0",
                "KAFKA_CLIENT_ENABLE_IDEMPOTENCE", "false",
                "LLM_GROUP_ID", "llm-test"));
        KafkaSettings kafka = KafkaSettings.from(config);

        Properties consumer = LlmProcessor.consumerProperties(kafka, LlmConfig.from(config));
        Properties producer = LlmProcessor.producerProperties(kafka);

        assertEquals("false", consumer.get(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG));
        assertEquals("llm-test", consumer.get(ConsumerConfig.GROUP_ID_CONFIG));
        assertEquals(
                "read_committed",
                consumer.get(ConsumerConfig.ISOLATION_LEVEL_CONFIG),
                "thoughts of aborted chunker transactions are never answered");
        assertEquals(
                ByteArrayDeserializer.class.getName(), consumer.get(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG));
        assertEquals("all", producer.get(ProducerConfig.ACKS_CONFIG));
        assertEquals("true", producer.get(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG));
        assertEquals("0", producer.get(ProducerConfig.LINGER_MS_CONFIG), "a reply part is sent at once");
    }

    @Test
    void anOperatorMayLetReplyPartsLingerToBatchThem() {
        Config config = Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1", "KAFKA_CLIENT_LINGER_MS", "20"));

        Properties producer = LlmProcessor.producerProperties(KafkaSettings.from(config));

        assertEquals("20", String.valueOf(producer.get(ProducerConfig.LINGER_MS_CONFIG)));
    }

    @Test
    void groupModeTunablesHaveSensibleDefaultsAndCanBeOverridden() {
        Config defaults = Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"));
        Config overridden = Config.of(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1",
                "KAFKA_CLIENT_AUTO_OFFSET_RESET", "latest",
                "KAFKA_CLIENT_MAX_POLL_RECORDS", "7"));

        Properties byDefault = LlmProcessor.consumerProperties(KafkaSettings.from(defaults), LlmConfig.from(defaults));
        Properties tuned = LlmProcessor.consumerProperties(KafkaSettings.from(overridden), LlmConfig.from(overridden));

        assertEquals("earliest", byDefault.get(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG));
        assertEquals(
                CooperativeStickyAssignor.class.getName(),
                byDefault.get(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG),
                "a rebalance revokes only the partitions that move");
        assertEquals(
                "100",
                byDefault.get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG),
                "a poll brings at most 100, however large the buffer");
        assertEquals("latest", tuned.get(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG));
        assertEquals("7", tuned.get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG));
    }

    @Test
    void aShareConsumerAcquiresBatchesOfItsShareOfTheInFlightBudgetWithoutPrefetching() {
        // given the default budget of 256, and a budget of 10
        Config defaults = Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"));
        Config ten = Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1", "LLM_MAX_IN_FLIGHT", "10"));

        // when the share consumers' settings are built
        Properties byDefault =
                LlmProcessor.shareConsumerProperties(KafkaSettings.from(defaults), LlmConfig.from(defaults));
        Properties small = LlmProcessor.shareConsumerProperties(KafkaSettings.from(ten), LlmConfig.from(ten));

        // then 16 consumers take batches of 16; 10 consumers take one record each: never more than the budget
        assertEquals(16, LlmConfig.from(defaults).scale().shareConsumers());
        assertEquals("16", byDefault.get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG));
        assertEquals(10, LlmConfig.from(ten).scale().shareConsumers());
        assertEquals("1", small.get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG));
        assertEquals("record_limit", byDefault.get(ConsumerConfig.SHARE_ACQUIRE_MODE_CONFIG));
        assertEquals("explicit", byDefault.get(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG));
    }

    @Test
    void withAnInstanceIdTheGroupModeConsumerIsAStaticMemberAndTheShareConsumersAreNot() {
        // given an instance id
        Config config = Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1", "INSTANCE_ID", "llm-3"));
        KafkaSettings kafka = KafkaSettings.from(config);

        // when the consumers' settings are built
        Properties group = LlmProcessor.consumerProperties(kafka, LlmConfig.from(config));
        Properties share = LlmProcessor.shareConsumerProperties(kafka, LlmConfig.from(config));

        // then the group consumer rejoins under the instance's id after a restart; share groups have no such thing
        assertEquals("llm-processor-llm-3", group.get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
        assertFalse(share.containsKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
        // and without an instance id the group consumer stays dynamic
        Config none = Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"));
        assertFalse(LlmProcessor.consumerProperties(KafkaSettings.from(none), LlmConfig.from(none))
                .containsKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
    }

    @Test
    void shareConsumersTakeTheirShareOfTheBudgetAcknowledgeExplicitlyAndDropClassicOnlySettings() {
        Config config = Config.of(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1",
                "KAFKA_CLIENT_AUTO_OFFSET_RESET", "latest",
                "KAFKA_CLIENT_ISOLATION_LEVEL", "read_committed",
                "KAFKA_CLIENT_SESSION_TIMEOUT_MS", "20000",
                "KAFKA_CLIENT_MAX_POLL_RECORDS", "50",
                "KAFKA_CLIENT_CLIENT_RACK", "rack-1",
                "LLM_GROUP_ID", "llm-share"));

        Properties share = LlmProcessor.shareConsumerProperties(KafkaSettings.from(config), LlmConfig.from(config));

        assertEquals("llm-share", share.get(ConsumerConfig.GROUP_ID_CONFIG));
        assertEquals("explicit", share.get(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG));
        assertEquals("record_limit", share.get(ConsumerConfig.SHARE_ACQUIRE_MODE_CONFIG));
        assertEquals(
                "16",
                share.get(ConsumerConfig.MAX_POLL_RECORDS_CONFIG),
                "the consumer's share of the in-flight budget, whatever KAFKA_CLIENT_* says");
        assertFalse(share.containsKey(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "a share consumer refuses it");
        assertFalse(share.containsKey(ConsumerConfig.ISOLATION_LEVEL_CONFIG), "a share consumer refuses it");
        assertFalse(share.containsKey(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), "a share consumer refuses it");
        assertEquals("rack-1", share.get(ConsumerConfig.CLIENT_RACK_CONFIG), "other settings pass through");
    }

    @Test
    void aProcessorThatNeverStartedClosesCleanlyAndCannotStartAfterwards() throws Exception {
        Config config = Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:1"));
        LlmConfig llm = LlmConfig.from(config);
        // Never started, so neither the claims nor the signal are ever used: the in-memory ones will do.
        try (InMemoryChatActivity activity = new InMemoryChatActivity();
                InMemoryClaimStore claims = new InMemoryClaimStore(Clock.systemUTC())) {
            LlmProcessor processor = new LlmProcessor(
                    KafkaSettings.from(config),
                    Topics.withPrefix("t."),
                    llm,
                    ReplyGenerator.from(
                            llm,
                            new ScriptedStreamingChatModel(Duration.ZERO, 0, scheduler),
                            scheduler,
                            Clock.systemUTC()),
                    activity,
                    claims,
                    new Metrics(),
                    Clock.systemUTC());

            processor.close();

            assertTrue(processor.awaitTermination(Duration.ofSeconds(30)));
            assertFalse(processor.isRunning());
            assertTrue(processor.failure().isEmpty());
            assertThrows(IllegalStateException.class, processor::start);
            processor.close(); // a second close is harmless
        }
    }
}
