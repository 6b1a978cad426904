package dev.thoughtstream.bench.e2e;

import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import redis.clients.jedis.RedisClient;

/**
 * The four services as a scenario sees them, wherever they run: in this JVM ({@link PipelineStack}) or each as a
 * process of its own ({@link ServiceProcesses}). The Telegram emulator is in this JVM either way, so every
 * injection and every sendMessage is timed on this JVM's clock.
 */
interface Pipeline extends AutoCloseable {

    TelegramEmulator emulator();

    Topics topics();

    /** Consumer and share groups of the services, with the topic each reads, for lag sampling. */
    List<LagSampler.Group> groups();

    String readyLine();

    /** A Redis client of the services' Redis for {@code INFO cpu}, when it runs in this JVM's reach; else empty. */
    Optional<RedisClient> redis();

    /** The llm-processor's thoughts in flight now ({@code llm_in_flight}; 0 before it registered the gauge). */
    long llmInFlight();

    /** How often {@link #llmInFlight()} is sampled: the reading's own cost decides. */
    long inFlightSampleMs();

    /** What the llm-processor's share consumers fetched so far (NaN when it cannot be read). */
    LlmIntake.ShareFetches shareFetches();

    /**
     * The operating-system processes whose CPU is measured apart from this JVM's, by name (the services and
     * redis-server); empty when the services run in this JVM and their CPU is found by thread names instead.
     */
    Map<String, Long> processes();

    @Override
    void close();
}
