package dev.thoughtstream.chunker;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The chunker's settings, read once at startup. Every value is validated here, so a bad variable stops the
 * service before it touches Kafka, with a {@link ConfigException} naming the variable.
 *
 * @param chunkGap                 {@code CHUNK_GAP_MS}: a thought closes after this long without a new message
 * @param punctuateInterval        {@code CHUNK_PUNCTUATE_INTERVAL_MS}: how often due thoughts are looked for
 * @param context                  {@code CONTEXT_WINDOW_MS}, {@code CONTEXT_MIN_MESSAGES}, {@code CONTEXT_MAX_CHARS},
 *                                 {@code CONTEXT_MAX_BYTES}, {@code CONTEXT_IDLE_TTL_MS},
 *                                 {@code CONTEXT_PRUNE_INTERVAL_MS}, {@code CONTEXT_PRUNE_MAX_CHATS}
 * @param applicationId            {@code CHUNKER_APPLICATION_ID}: Kafka Streams application id (group and
 *                                 internal topic names derive from it)
 * @param stateDir                 {@code STREAMS_STATE_DIR}: where RocksDB keeps the local stores
 * @param numThreads               {@code STREAMS_NUM_THREADS}
 * @param numStandbyReplicas       {@code STREAMS_NUM_STANDBY_REPLICAS}
 * @param commitInterval           {@code STREAMS_COMMIT_INTERVAL_MS}: under exactly-once, output becomes visible
 *                                 to read_committed consumers only at commit, so this is added latency
 * @param closeTimeout             {@code STREAMS_CLOSE_TIMEOUT_MS}: how long {@code close()} waits for the threads
 */
public record ChunkerConfig(
        Duration chunkGap,
        Duration punctuateInterval,
        ContextPolicy context,
        String applicationId,
        Path stateDir,
        int numThreads,
        int numStandbyReplicas,
        Duration commitInterval,
        Duration closeTimeout) {

    public static final String CHUNK_GAP_MS = "CHUNK_GAP_MS";
    public static final String CHUNK_PUNCTUATE_INTERVAL_MS = "CHUNK_PUNCTUATE_INTERVAL_MS";
    public static final String CONTEXT_WINDOW_MS = "CONTEXT_WINDOW_MS";
    public static final String CONTEXT_MIN_MESSAGES = "CONTEXT_MIN_MESSAGES";
    public static final String CONTEXT_MAX_CHARS = "CONTEXT_MAX_CHARS";
    public static final String CONTEXT_MAX_BYTES = "CONTEXT_MAX_BYTES";
    public static final String CONTEXT_IDLE_TTL_MS = "CONTEXT_IDLE_TTL_MS";
    public static final String CONTEXT_PRUNE_INTERVAL_MS = "CONTEXT_PRUNE_INTERVAL_MS";
    public static final String CONTEXT_PRUNE_MAX_CHATS = "CONTEXT_PRUNE_MAX_CHATS";
    public static final String CHUNKER_APPLICATION_ID = "CHUNKER_APPLICATION_ID";
    public static final String STREAMS_STATE_DIR = "STREAMS_STATE_DIR";
    public static final String STREAMS_NUM_THREADS = "STREAMS_NUM_THREADS";
    public static final String STREAMS_NUM_STANDBY_REPLICAS = "STREAMS_NUM_STANDBY_REPLICAS";
    public static final String STREAMS_COMMIT_INTERVAL_MS = "STREAMS_COMMIT_INTERVAL_MS";
    public static final String STREAMS_CLOSE_TIMEOUT_MS = "STREAMS_CLOSE_TIMEOUT_MS";

    public static final String DEFAULT_APPLICATION_ID = "thoughtstream-chunker";

    private static final long HOUR_MS = 3_600_000L;
    private static final long DAY_MS = 24 * HOUR_MS;
    // application.id ends up in consumer group and internal topic names; Kafka allows only these characters.
    private static final Pattern LEGAL_APPLICATION_ID = Pattern.compile("[a-zA-Z0-9._-]{1,200}");

    public ChunkerConfig {
        Objects.requireNonNull(chunkGap, "chunkGap");
        Objects.requireNonNull(punctuateInterval, "punctuateInterval");
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(applicationId, "applicationId");
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(commitInterval, "commitInterval");
        Objects.requireNonNull(closeTimeout, "closeTimeout");
    }

    public static ChunkerConfig from(Config config) {
        Duration gap = config.millis(CHUNK_GAP_MS, 1500, 1, DAY_MS);
        Duration punctuate = config.millis(CHUNK_PUNCTUATE_INTERVAL_MS, 50, 1, 60_000);
        ContextPolicy context = new ContextPolicy(
                config.millis(CONTEXT_WINDOW_MS, 6 * HOUR_MS, 0, 365 * DAY_MS),
                config.integer(CONTEXT_MIN_MESSAGES, 100, 0, 100_000),
                config.integer(CONTEXT_MAX_CHARS, 12_000, 0, 10_000_000),
                config.integer(CONTEXT_MAX_BYTES, ContextPolicy.DEFAULT_MAX_BYTES, ContextPolicy.MIN_MAX_BYTES,
                        ContextPolicy.MAX_MAX_BYTES),
                config.millis(CONTEXT_IDLE_TTL_MS, ContextPolicy.DEFAULT_IDLE_TTL.toMillis(), 60_000,
                        3650 * DAY_MS),
                config.millis(CONTEXT_PRUNE_INTERVAL_MS, ContextPolicy.DEFAULT_PRUNE_INTERVAL.toMillis(), 10,
                        DAY_MS),
                config.integer(CONTEXT_PRUNE_MAX_CHATS, ContextPolicy.DEFAULT_PRUNE_MAX_CHATS, 1, 1_000_000));
        String applicationId = config.string(CHUNKER_APPLICATION_ID, DEFAULT_APPLICATION_ID);
        if (!LEGAL_APPLICATION_ID.matcher(applicationId).matches()) {
            throw new ConfigException(CHUNKER_APPLICATION_ID,
                    "expected 1-200 characters of [a-zA-Z0-9._-] but was '" + applicationId + "'");
        }
        Path stateDir;
        try {
            stateDir = Path.of(config.string(STREAMS_STATE_DIR, defaultStateDir().toString()));
        } catch (InvalidPathException e) {
            throw new ConfigException(STREAMS_STATE_DIR, "is not a valid path: " + e.getMessage());
        }
        return new ChunkerConfig(
                gap,
                punctuate,
                context,
                applicationId,
                stateDir,
                config.integer(STREAMS_NUM_THREADS, 1, 1, 64),
                config.integer(STREAMS_NUM_STANDBY_REPLICAS, 0, 0, 16),
                config.millis(STREAMS_COMMIT_INTERVAL_MS, 50, 0, 600_000),
                config.millis(STREAMS_CLOSE_TIMEOUT_MS, 30_000, 0, 600_000));
    }

    /**
     * Under the user's home rather than the temporary directory: OS cleaners may empty a temporary directory under
     * a running instance (Kafka Streams warns about it), and the stores would then be restored from their
     * changelogs on every reboot. Deployments point {@code STREAMS_STATE_DIR} at a persistent volume.
     */
    static Path defaultStateDir() {
        return Path.of(System.getProperty("user.home"), ".thoughtstream", "chunker-state");
    }

    /** The effective settings for the startup log; nothing here is secret. */
    @Override
    public String toString() {
        return "ChunkerConfig[" + CHUNK_GAP_MS + "=" + chunkGap.toMillis()
                + ", " + CHUNK_PUNCTUATE_INTERVAL_MS + "=" + punctuateInterval.toMillis()
                + ", " + CONTEXT_WINDOW_MS + "=" + context.window().toMillis()
                + ", " + CONTEXT_MIN_MESSAGES + "=" + context.minMessages()
                + ", " + CONTEXT_MAX_CHARS + "=" + context.maxChars()
                + ", " + CONTEXT_MAX_BYTES + "=" + context.maxBytes()
                + ", " + CONTEXT_IDLE_TTL_MS + "=" + context.idleTtl().toMillis()
                + ", " + CONTEXT_PRUNE_INTERVAL_MS + "=" + context.pruneInterval().toMillis()
                + ", " + CONTEXT_PRUNE_MAX_CHATS + "=" + context.pruneMaxChats()
                + ", " + CHUNKER_APPLICATION_ID + "=" + applicationId
                + ", " + STREAMS_STATE_DIR + "=" + stateDir
                + ", " + STREAMS_NUM_THREADS + "=" + numThreads
                + ", " + STREAMS_NUM_STANDBY_REPLICAS + "=" + numStandbyReplicas
                + ", " + STREAMS_COMMIT_INTERVAL_MS + "=" + commitInterval.toMillis()
                + ", " + STREAMS_CLOSE_TIMEOUT_MS + "=" + closeTimeout.toMillis() + "]";
    }
}
