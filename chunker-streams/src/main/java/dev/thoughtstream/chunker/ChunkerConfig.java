package dev.thoughtstream.chunker;

import dev.thoughtstream.chunker.context.ContextPolicy;
import dev.thoughtstream.chunker.thought.BotReplies;
import dev.thoughtstream.chunker.thought.ThoughtLimits;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.StageDefaults;
import dev.thoughtstream.common.telegram.TelegramLimits;
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
 * @param contextCacheMaxBytes     {@code CONTEXT_CACHE_MAX_BYTES}: the most heap the instance's cache of deserialized
 *                                 contexts may take ({@link dev.thoughtstream.chunker.context.ContextCache}); 0: off
 * @param applicationId            {@code CHUNKER_APPLICATION_ID}: Kafka Streams application id (group and
 *                                 internal topic names derive from it)
 * @param stateDir                 {@code STREAMS_STATE_DIR}: where RocksDB keeps the local stores
 * @param numThreads               {@code STREAMS_NUM_THREADS}
 * @param numStandbyReplicas       {@code STREAMS_NUM_STANDBY_REPLICAS}
 * @param commitInterval           {@code STREAMS_COMMIT_INTERVAL_MS}: under exactly-once, output becomes visible
 *                                 to read_committed consumers only at commit; the longest a thought waits for one
 * @param earlyCommitBelowPerSecond {@code CHUNK_EARLY_COMMIT_BELOW_PER_S}: while the instance's input is below this
 *                                 many updates a second, output is committed as soon as it is written
 *                                 ({@link dev.thoughtstream.chunker.thought.EarlyCommits}); 0: never
 * @param closeTimeout             {@code STREAMS_CLOSE_TIMEOUT_MS}: how long {@code close()} waits for the threads
 * @param limits                   {@code CHUNK_CONTINUATION_MS}, {@code CHUNK_MAX_WAIT_MS}, {@code CHUNK_MAX_MESSAGES},
 *                                 {@code CHUNK_MAX_CHARS}
 * @param replies                  {@code BOT_GREETING}, {@code BOT_HELP_TEXT}, {@code BOT_RESET_TEXT},
 *                                 {@code NON_TEXT_REPLY}, {@code BOT_USERNAME}
 */
public record ChunkerConfig(
        Duration chunkGap,
        Duration punctuateInterval,
        ContextPolicy context,
        long contextCacheMaxBytes,
        String applicationId,
        Path stateDir,
        int numThreads,
        int numStandbyReplicas,
        Duration commitInterval,
        int earlyCommitBelowPerSecond,
        Duration closeTimeout,
        ThoughtLimits limits,
        BotReplies replies) {

    public static final String CHUNK_GAP_MS = "CHUNK_GAP_MS";
    public static final String CHUNK_PUNCTUATE_INTERVAL_MS = "CHUNK_PUNCTUATE_INTERVAL_MS";
    public static final String CONTEXT_WINDOW_MS = "CONTEXT_WINDOW_MS";
    public static final String CONTEXT_MIN_MESSAGES = "CONTEXT_MIN_MESSAGES";
    public static final String CONTEXT_MAX_CHARS = "CONTEXT_MAX_CHARS";
    public static final String CONTEXT_MAX_BYTES = "CONTEXT_MAX_BYTES";
    public static final String CONTEXT_IDLE_TTL_MS = "CONTEXT_IDLE_TTL_MS";
    public static final String CONTEXT_PRUNE_INTERVAL_MS = "CONTEXT_PRUNE_INTERVAL_MS";
    public static final String CONTEXT_PRUNE_MAX_CHATS = "CONTEXT_PRUNE_MAX_CHATS";
    public static final String CONTEXT_CACHE_MAX_BYTES = "CONTEXT_CACHE_MAX_BYTES";
    public static final String CHUNKER_APPLICATION_ID = "CHUNKER_APPLICATION_ID";
    public static final String STREAMS_STATE_DIR = "STREAMS_STATE_DIR";
    public static final String STREAMS_NUM_THREADS = "STREAMS_NUM_THREADS";
    public static final String STREAMS_NUM_STANDBY_REPLICAS = "STREAMS_NUM_STANDBY_REPLICAS";
    public static final String STREAMS_COMMIT_INTERVAL_MS = "STREAMS_COMMIT_INTERVAL_MS";
    public static final String CHUNK_EARLY_COMMIT_BELOW_PER_S = "CHUNK_EARLY_COMMIT_BELOW_PER_S";
    public static final String STREAMS_CLOSE_TIMEOUT_MS = "STREAMS_CLOSE_TIMEOUT_MS";
    public static final String CHUNK_CONTINUATION_MS = "CHUNK_CONTINUATION_MS";
    public static final String CHUNK_MAX_WAIT_MS = "CHUNK_MAX_WAIT_MS";
    public static final String CHUNK_MAX_MESSAGES = "CHUNK_MAX_MESSAGES";
    public static final String CHUNK_MAX_CHARS = "CHUNK_MAX_CHARS";
    public static final String BOT_GREETING = "BOT_GREETING";
    public static final String BOT_HELP_TEXT = "BOT_HELP_TEXT";
    public static final String BOT_RESET_TEXT = "BOT_RESET_TEXT";
    public static final String NON_TEXT_REPLY = "NON_TEXT_REPLY";
    public static final String BOT_USERNAME = "BOT_USERNAME";

    /**
     * The extra wait after a message that looks unfinished. Typing a short follow-up ("the blue one") on a phone
     * takes about three to five seconds; the gap (1.5 s) plus this covers it, while a finished message is still
     * answered after the gap alone.
     */
    public static final long DEFAULT_CONTINUATION_MS = 2500;
    /** A person who keeps writing still gets an answer after this long: a chat, not a monologue. */
    public static final long DEFAULT_MAX_WAIT_MS = 20_000;

    public static final int DEFAULT_MAX_MESSAGES = 20;
    /**
     * A due thought waits for the next punctuation: 0 to this long, 5 ms on average. A punctuation that finds
     * nothing due is a range scan over the deadline index that ends at once (microseconds), and the poll it waits
     * in between costs a wake-up, so short is cheap.
     */
    public static final long DEFAULT_PUNCTUATE_INTERVAL_MS = 10;
    /**
     * Under exactly-once, a closed thought is visible downstream only at the next commit: 0 to this long, plus the
     * commit's own round trips. 20 ms keeps the p99 from the punctuation to a read_committed consumer near 40 ms on
     * two shared cores (50 ms: about 70–80 ms). At 1,000 messages/s on two shared cores a transaction every 20 ms
     * let the chunker fall behind where 100 ms kept it up; at 100 messages/s 100 ms made it late (docs/benchmarks.md).
     */
    public static final long DEFAULT_COMMIT_INTERVAL_MS = 20;
    /**
     * Early commits are off by default: with a 100 ms interval and an early commit after each thought (at most one
     * every 20 ms) while the input was below 300 updates/s, the chunker closed thoughts later at 100 messages/s on two
     * shared cores than with the 20 ms interval alone (docs/chunker.md).
     */
    public static final int DEFAULT_EARLY_COMMIT_BELOW_PER_S = 0;
    /**
     * Room for about a thousand chats with a hundred context messages each (a chat's weighs 10–30 KB on the heap),
     * a fraction of the image's heap; a chat that is not cached costs one deserialization of its stored context.
     */
    public static final long DEFAULT_CONTEXT_CACHE_MAX_BYTES = 64L * 1024 * 1024;
    /** The exactly-once producer's default transaction timeout, which Streams requires the interval not to exceed. */
    static final long MAX_COMMIT_INTERVAL_MS = 10_000;
    /** About a page of text, under one Telegram message (4096): more is better answered in parts. */
    public static final int DEFAULT_MAX_CHARS = 3000;

    private static final long HOUR_MS = 3_600_000L;
    private static final long DAY_MS = 24 * HOUR_MS;
    // application.id ends up in consumer group and internal topic names; Kafka allows only these characters.
    private static final Pattern LEGAL_APPLICATION_ID = Pattern.compile("[a-zA-Z0-9._-]{1,200}");
    private static final Pattern BOT_USERNAME_SYNTAX = Pattern.compile("[A-Za-z0-9_]{5,32}");

    public ChunkerConfig {
        Objects.requireNonNull(chunkGap, "chunkGap");
        Objects.requireNonNull(punctuateInterval, "punctuateInterval");
        Objects.requireNonNull(context, "context");
        Objects.requireNonNull(applicationId, "applicationId");
        Objects.requireNonNull(stateDir, "stateDir");
        Objects.requireNonNull(commitInterval, "commitInterval");
        Objects.requireNonNull(closeTimeout, "closeTimeout");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(replies, "replies");
    }

    public static ChunkerConfig from(Config config) {
        Duration gap = config.millis(CHUNK_GAP_MS, 1500, 1, DAY_MS);
        Duration punctuate = config.millis(CHUNK_PUNCTUATE_INTERVAL_MS, DEFAULT_PUNCTUATE_INTERVAL_MS, 1, 60_000);
        ContextPolicy context = new ContextPolicy(
                config.millis(CONTEXT_WINDOW_MS, 6 * HOUR_MS, 0, 365 * DAY_MS),
                config.integer(CONTEXT_MIN_MESSAGES, 100, 0, 100_000),
                config.integer(CONTEXT_MAX_CHARS, 12_000, 0, 10_000_000),
                config.integer(
                        CONTEXT_MAX_BYTES,
                        ContextPolicy.DEFAULT_MAX_BYTES,
                        ContextPolicy.MIN_MAX_BYTES,
                        ContextPolicy.MAX_MAX_BYTES),
                config.millis(CONTEXT_IDLE_TTL_MS, ContextPolicy.DEFAULT_IDLE_TTL.toMillis(), 60_000, 3650 * DAY_MS),
                config.millis(CONTEXT_PRUNE_INTERVAL_MS, ContextPolicy.DEFAULT_PRUNE_INTERVAL.toMillis(), 10, DAY_MS),
                config.integer(CONTEXT_PRUNE_MAX_CHATS, ContextPolicy.DEFAULT_PRUNE_MAX_CHATS, 1, 1_000_000));
        String applicationId = config.string(CHUNKER_APPLICATION_ID, StageDefaults.CHUNKER_APPLICATION_ID);
        if (!LEGAL_APPLICATION_ID.matcher(applicationId).matches()) {
            throw new ConfigException(
                    CHUNKER_APPLICATION_ID,
                    "expected 1-200 characters of [a-zA-Z0-9._-] but was '" + applicationId + "'");
        }
        Path stateDir;
        try {
            stateDir =
                    Path.of(config.string(STREAMS_STATE_DIR, defaultStateDir().toString()));
        } catch (InvalidPathException e) {
            throw new ConfigException(STREAMS_STATE_DIR, "is not a valid path: " + e.getMessage());
        }
        Duration maxWait = config.millis(CHUNK_MAX_WAIT_MS, DEFAULT_MAX_WAIT_MS, 1, DAY_MS);
        if (maxWait.compareTo(gap) < 0) {
            throw new ConfigException(
                    CHUNK_MAX_WAIT_MS,
                    "must be at least " + CHUNK_GAP_MS + " (" + gap.toMillis() + ") but was " + maxWait.toMillis());
        }
        ThoughtLimits limits = new ThoughtLimits(
                config.millis(CHUNK_CONTINUATION_MS, DEFAULT_CONTINUATION_MS, 0, DAY_MS),
                maxWait,
                config.integer(CHUNK_MAX_MESSAGES, DEFAULT_MAX_MESSAGES, 1, 100_000),
                config.integer(CHUNK_MAX_CHARS, DEFAULT_MAX_CHARS, 1, 10_000_000));
        BotReplies replies = new BotReplies(
                replyText(config, BOT_GREETING, BotReplies.DEFAULT_GREETING),
                replyText(config, BOT_HELP_TEXT, BotReplies.DEFAULT_HELP),
                replyText(config, BOT_RESET_TEXT, BotReplies.DEFAULT_RESET),
                replyText(config, NON_TEXT_REPLY, BotReplies.DEFAULT_NON_TEXT),
                botUsername(config));
        return new ChunkerConfig(
                gap,
                punctuate,
                context,
                config.longValue(CONTEXT_CACHE_MAX_BYTES, DEFAULT_CONTEXT_CACHE_MAX_BYTES, 0, 1L << 40),
                applicationId,
                stateDir,
                config.integer(STREAMS_NUM_THREADS, 1, 1, 64),
                config.integer(STREAMS_NUM_STANDBY_REPLICAS, 0, 0, 16),
                // Streams refuses a commit interval above the producer's transaction timeout, 10 s under
                // exactly-once (kept short so a crashed instance's open transaction holds readers back briefly).
                config.millis(STREAMS_COMMIT_INTERVAL_MS, DEFAULT_COMMIT_INTERVAL_MS, 0, MAX_COMMIT_INTERVAL_MS),
                config.integer(CHUNK_EARLY_COMMIT_BELOW_PER_S, DEFAULT_EARLY_COMMIT_BELOW_PER_S, 0, 1_000_000),
                config.millis(STREAMS_CLOSE_TIMEOUT_MS, 30_000, 0, 600_000),
                limits,
                replies);
    }

    /**
     * A text the bot sends as it is. The two characters {@code \n} stand for a line break, because a {@code .env}
     * line cannot hold one. Telegram refuses messages over 4096 characters, so a longer text fails here, at startup,
     * rather than at the emitter for every chat.
     */
    private static String replyText(Config config, String variable, String defaultText) {
        String text = config.string(variable, defaultText).replace("\\n", "\n");
        if (text.length() > TelegramLimits.MAX_MESSAGE_CHARS) {
            throw new ConfigException(
                    variable,
                    "is " + text.length() + " characters long; Telegram sends at most "
                            + TelegramLimits.MAX_MESSAGE_CHARS);
        }
        return text;
    }

    private static String botUsername(Config config) {
        String name = config.string(BOT_USERNAME, "");
        if (name.startsWith("@")) {
            name = name.substring(1);
        }
        if (!name.isEmpty() && !BOT_USERNAME_SYNTAX.matcher(name).matches()) {
            throw new ConfigException(
                    BOT_USERNAME, "expected a Telegram username (5-32 letters, digits or _) but was '" + name + "'");
        }
        return name;
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
                + ", " + CONTEXT_PRUNE_INTERVAL_MS + "="
                + context.pruneInterval().toMillis()
                + ", " + CONTEXT_PRUNE_MAX_CHATS + "=" + context.pruneMaxChats()
                + ", " + CONTEXT_CACHE_MAX_BYTES + "=" + contextCacheMaxBytes
                + ", " + CHUNKER_APPLICATION_ID + "=" + applicationId
                + ", " + STREAMS_STATE_DIR + "=" + stateDir
                + ", " + STREAMS_NUM_THREADS + "=" + numThreads
                + ", " + STREAMS_NUM_STANDBY_REPLICAS + "=" + numStandbyReplicas
                + ", " + STREAMS_COMMIT_INTERVAL_MS + "=" + commitInterval.toMillis()
                + ", " + CHUNK_EARLY_COMMIT_BELOW_PER_S + "=" + earlyCommitBelowPerSecond
                + ", " + STREAMS_CLOSE_TIMEOUT_MS + "=" + closeTimeout.toMillis()
                + ", " + CHUNK_CONTINUATION_MS + "=" + limits.continuation().toMillis()
                + ", " + CHUNK_MAX_WAIT_MS + "=" + limits.maxWait().toMillis()
                + ", " + CHUNK_MAX_MESSAGES + "=" + limits.maxMessages()
                + ", " + CHUNK_MAX_CHARS + "=" + limits.maxChars()
                + ", " + BOT_GREETING + "=" + quoted(replies.greeting())
                + ", " + BOT_HELP_TEXT + "=" + quoted(replies.help())
                + ", " + BOT_RESET_TEXT + "=" + quoted(replies.reset())
                + ", " + NON_TEXT_REPLY + "=" + quoted(replies.nonText())
                + ", " + BOT_USERNAME + "=" + (replies.botUsername().isEmpty() ? "(any)" : replies.botUsername())
                + "]";
    }

    /** A text on one log line. */
    private static String quoted(String text) {
        return "'" + text.replace("\n", "\\n") + "'";
    }
}
