package dev.thoughtstream.chunker;

import static dev.thoughtstream.testkit.config.ConfigAssertions.assertRejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.chunker.context.ContextPolicy;
import dev.thoughtstream.chunker.deadletter.DeadLetteringHandler;
import dev.thoughtstream.chunker.thought.BotReplies;
import dev.thoughtstream.chunker.thought.ThoughtLimits;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.KafkaSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ChunkerConfigTest {

    @Test
    void defaultsMatchTheArchitecture() {
        ChunkerConfig config = ChunkerConfig.from(Config.of(Map.of()));

        assertEquals(Duration.ofMillis(1500), config.chunkGap());
        assertEquals(Duration.ofMillis(10), config.punctuateInterval());
        assertEquals(Duration.ofHours(6), config.context().window());
        assertEquals(100, config.context().minMessages());
        assertEquals(12_000, config.context().maxChars());
        assertEquals("thoughtstream-chunker", config.applicationId());
        assertEquals(ChunkerConfig.defaultStateDir(), config.stateDir());
        assertEquals(1, config.numThreads());
        assertEquals(0, config.numStandbyReplicas());
        assertEquals(Duration.ofMillis(20), config.commitInterval());
        assertEquals(0, config.earlyCommitBelowPerSecond(), "early commits are off");
        assertEquals(64L * 1024 * 1024, config.contextCacheMaxBytes());
        assertEquals(new ThoughtLimits(Duration.ofMillis(2500), Duration.ofSeconds(20), 20, 3000), config.limits());
        assertEquals(
                new BotReplies(
                        BotReplies.DEFAULT_GREETING,
                        BotReplies.DEFAULT_HELP,
                        BotReplies.DEFAULT_RESET,
                        BotReplies.DEFAULT_NON_TEXT,
                        ""),
                config.replies());
        assertTrue(
                config.replies().help().contains("/start")
                        && config.replies().help().contains("/help")
                        && config.replies().help().contains("/reset"),
                "the default help lists the commands");
    }

    @Test
    void everyVariableIsRead() {
        ChunkerConfig config = ChunkerConfig.from(Config.of(Map.ofEntries(
                Map.entry("CHUNK_GAP_MS", "2000"),
                Map.entry("CHUNK_PUNCTUATE_INTERVAL_MS", "25"),
                Map.entry("CONTEXT_WINDOW_MS", "60000"),
                Map.entry("CONTEXT_MIN_MESSAGES", "7"),
                Map.entry("CONTEXT_MAX_CHARS", "500"),
                Map.entry("CHUNKER_APPLICATION_ID", "chunker-blue"),
                Map.entry("STREAMS_STATE_DIR", "/var/lib/chunker"),
                Map.entry("STREAMS_NUM_THREADS", "3"),
                Map.entry("STREAMS_NUM_STANDBY_REPLICAS", "1"),
                Map.entry("STREAMS_COMMIT_INTERVAL_MS", "20"),
                Map.entry("CHUNK_EARLY_COMMIT_BELOW_PER_S", "50"),
                Map.entry("STREAMS_CLOSE_TIMEOUT_MS", "5000"),
                Map.entry("CHUNK_CONTINUATION_MS", "1000"),
                Map.entry("CHUNK_MAX_WAIT_MS", "9000"),
                Map.entry("CHUNK_MAX_MESSAGES", "5"),
                Map.entry("CHUNK_MAX_CHARS", "700"),
                Map.entry("CONTEXT_CACHE_MAX_BYTES", "1048576"),
                Map.entry("BOT_GREETING", "Hello!"),
                Map.entry("BOT_HELP_TEXT", "Line one\\nLine two"),
                Map.entry("BOT_RESET_TEXT", "Forgotten."),
                Map.entry("NON_TEXT_REPLY", "Words, please."),
                Map.entry("BOT_USERNAME", "@thoughtstream_bot"))));

        assertEquals(
                new ChunkerConfig(
                        Duration.ofMillis(2000),
                        Duration.ofMillis(25),
                        new ContextPolicy(Duration.ofMinutes(1), 7, 500),
                        1_048_576L,
                        "chunker-blue",
                        Path.of("/var/lib/chunker"),
                        3,
                        1,
                        Duration.ofMillis(20),
                        50,
                        Duration.ofSeconds(5),
                        new ThoughtLimits(Duration.ofSeconds(1), Duration.ofSeconds(9), 5, 700),
                        new BotReplies(
                                "Hello!", "Line one\nLine two", "Forgotten.", "Words, please.", "thoughtstream_bot")),
                config);
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({
        "CHUNK_GAP_MS, abc",
        "CHUNK_GAP_MS, 0",
        "CHUNK_GAP_MS, -5",
        "CHUNK_PUNCTUATE_INTERVAL_MS, 0",
        "CONTEXT_WINDOW_MS, soon",
        "CONTEXT_MIN_MESSAGES, -1",
        "CONTEXT_MAX_CHARS, many",
        "CONTEXT_CACHE_MAX_BYTES, -1",
        "CONTEXT_CACHE_MAX_BYTES, 64MB",
        "CHUNKER_APPLICATION_ID, has spaces",
        "STREAMS_NUM_THREADS, 0",
        "STREAMS_NUM_STANDBY_REPLICAS, -1",
        "STREAMS_COMMIT_INTERVAL_MS, 1.5",
        "STREAMS_COMMIT_INTERVAL_MS, 10001",
        "CHUNK_EARLY_COMMIT_BELOW_PER_S, -1",
        "CHUNK_EARLY_COMMIT_BELOW_PER_S, lots",
        "CHUNK_CONTINUATION_MS, -1",
        "CHUNK_CONTINUATION_MS, later",
        "CHUNK_MAX_WAIT_MS, 0",
        "CHUNK_MAX_WAIT_MS, 1000",
        "CHUNK_MAX_MESSAGES, 0",
        "CHUNK_MAX_MESSAGES, ten",
        "CHUNK_MAX_CHARS, 0",
        "CHUNK_MAX_CHARS, -3",
        "BOT_USERNAME, has space",
        "BOT_USERNAME, bot",
    })
    void anInvalidValueFailsFastNamingTheVariable(String variable, String value) {
        ConfigException e = assertRejects(variable, () -> read(variable, value));
        assertTrue(e.getMessage().startsWith(variable + ": "), e.getMessage());
    }

    @Test
    void maxWaitShorterThanTheGapFailsNamingMaxWaitAndTheGap() {
        ConfigException e =
                assertRejects("CHUNK_MAX_WAIT_MS", () -> read("CHUNK_GAP_MS", "3000", "CHUNK_MAX_WAIT_MS", "2999"));
        assertTrue(e.getMessage().contains("CHUNK_GAP_MS"), e.getMessage());
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"BOT_GREETING", "BOT_HELP_TEXT", "BOT_RESET_TEXT", "NON_TEXT_REPLY"})
    void aReplyTextLongerThanATelegramMessageFailsNamingTheVariable(String variable) {
        ConfigException e = assertRejects(variable, () -> read(variable, "x".repeat(4097)));
        assertTrue(e.getMessage().contains("4096"), e.getMessage());
        // and exactly a Telegram message's worth is accepted
        ChunkerConfig.from(Config.of(Map.of(variable, "x".repeat(4096))));
    }

    @Test
    void aBlankReplyTextFallsBackToItsDefault() {
        ChunkerConfig config = ChunkerConfig.from(Config.of(Map.of("BOT_GREETING", "   ")));

        assertEquals(BotReplies.DEFAULT_GREETING, config.replies().greeting());
    }

    @Test
    void streamsRunExactlyOnceWithTheConfiguredCommitIntervalAndDeadLetterHandlers() {
        Config source = Config.of(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "broker:9092",
                "TOPIC_PREFIX", "blue.",
                "TOPIC_REPLICATION_FACTOR", "3",
                "KAFKA_CLIENT_SECURITY_PROTOCOL", "SASL_SSL",
                "KAFKA_CLIENT_PROCESSING_GUARANTEE", "at_least_once",
                "STREAMS_COMMIT_INTERVAL_MS", "35",
                "STREAMS_STATE_DIR", "/data/chunker"));

        Properties props = ChunkerTopology.streamsProperties(ChunkerConfig.from(source), KafkaSettings.from(source));

        assertEquals("thoughtstream-chunker", props.get(StreamsConfig.APPLICATION_ID_CONFIG));
        assertEquals("broker:9092", props.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG));
        assertEquals(
                StreamsConfig.EXACTLY_ONCE_V2,
                props.get(StreamsConfig.PROCESSING_GUARANTEE_CONFIG),
                "a pass-through property must not weaken the processing guarantee");
        assertEquals("35", props.get(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG));
        assertEquals(
                "10",
                props.get(StreamsConfig.POLL_MS_CONFIG),
                "a quiet thread polls as often as it punctuates, or thoughts close up to poll.ms late");
        assertEquals("/data/chunker", props.get(StreamsConfig.STATE_DIR_CONFIG));
        assertEquals("1", props.get(StreamsConfig.NUM_STREAM_THREADS_CONFIG));
        assertEquals("0", props.get(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG));
        assertEquals("3", props.get(StreamsConfig.REPLICATION_FACTOR_CONFIG));
        assertEquals("blue.pipeline.dead-letters", props.get(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG));
        assertEquals(
                DeadLetteringHandler.class.getName(),
                props.get(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG));
        assertEquals(
                DeadLetteringHandler.class.getName(),
                props.get(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG));
        assertEquals("SASL_SSL", props.get("security.protocol"));
        // and Kafka Streams accepts the whole set
        new StreamsConfig(props);
    }

    @Test
    void withAnInstanceIdEachStreamThreadIsAStaticMemberUnderItsOwnId() {
        // given an instance id and two stream threads
        Config source = Config.of(
                Map.of("KAFKA_BOOTSTRAP_SERVERS", "broker:9092", "INSTANCE_ID", "node-7", "STREAMS_NUM_THREADS", "2"));

        // when Kafka Streams derives each thread's main consumer
        StreamsConfig streams = new StreamsConfig(
                ChunkerTopology.streamsProperties(ChunkerConfig.from(source), KafkaSettings.from(source)));

        // then each joins under the instance's id, suffixed with its thread index, and the restore consumer not at all
        assertEquals(
                "chunker-node-7-1",
                streams.getMainConsumerConfigs("g", "c", 1).get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
        assertEquals(
                "chunker-node-7-2",
                streams.getMainConsumerConfigs("g", "c", 2).get(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
        assertFalse(streams.getRestoreConsumerConfigs("c").containsKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
    }

    @Test
    void withoutAnInstanceIdTheChunkerStaysADynamicMember() {
        // given no instance id
        Config source = Config.of(Map.of("KAFKA_BOOTSTRAP_SERVERS", "broker:9092"));

        // when the streams settings are built
        Properties props = ChunkerTopology.streamsProperties(ChunkerConfig.from(source), KafkaSettings.from(source));

        // then no thread is a static member
        assertFalse(new StreamsConfig(props)
                .getMainConsumerConfigs("g", "c", 1)
                .containsKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
    }

    @Test
    void theStreamsGroupProtocolWhichRefusesStaticMembershipKeepsTheChunkerDynamic() {
        // given an instance id and the streams group protocol (KIP-1071) chosen through KAFKA_CLIENT_*
        Config source = Config.of(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS",
                "broker:9092",
                "INSTANCE_ID",
                "node-7",
                "KAFKA_CLIENT_GROUP_PROTOCOL",
                "streams"));

        // when the streams settings are built
        Properties props = ChunkerTopology.streamsProperties(ChunkerConfig.from(source), KafkaSettings.from(source));

        // then no group.instance.id is set, which Kafka Streams would refuse with that protocol
        assertFalse(props.containsKey(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG));
        new StreamsConfig(props);
    }

    @Test
    void theStartupLogLineNamesEveryVariable() {
        String line = ChunkerConfig.from(Config.of(Map.of())).toString();

        for (String variable : new String[] {
            "CHUNK_GAP_MS",
            "CHUNK_PUNCTUATE_INTERVAL_MS",
            "CONTEXT_WINDOW_MS",
            "CONTEXT_MIN_MESSAGES",
            "CONTEXT_MAX_CHARS",
            "CHUNKER_APPLICATION_ID",
            "STREAMS_STATE_DIR",
            "STREAMS_NUM_THREADS",
            "STREAMS_NUM_STANDBY_REPLICAS",
            "STREAMS_COMMIT_INTERVAL_MS",
            "STREAMS_CLOSE_TIMEOUT_MS",
            "CHUNK_CONTINUATION_MS",
            "CHUNK_MAX_WAIT_MS",
            "CHUNK_MAX_MESSAGES",
            "CHUNK_MAX_CHARS",
            "BOT_GREETING",
            "BOT_HELP_TEXT",
            "BOT_RESET_TEXT",
            "NON_TEXT_REPLY",
            "BOT_USERNAME"
        }) {
            assertTrue(line.contains(variable + "="), variable);
        }
        assertFalse(line.contains("Secret"));
        assertFalse(line.contains("\n"), "one line, although the help text has line breaks");
    }

    /** The settings read from exactly these variables: name, value, name, value... */
    private static ChunkerConfig read(String... namesAndValues) {
        Map<String, String> variables = new HashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            variables.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return ChunkerConfig.from(Config.of(variables));
    }
}
