package dev.thoughtstream.llm;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.Deprecations;
import dev.thoughtstream.common.config.RedisOutage;
import dev.thoughtstream.common.config.StageDefaults;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;

/**
 * How the llm-processor consumes thoughts: which kind of group, how much at once, and how it keeps a thought from
 * being answered twice. Read once at start-up, as part of {@link LlmConfig}.
 *
 * @param mode           {@code LLM_MODE}: {@code group} (the default), {@code share} or {@code auto} (share where
 *                       the broker supports share groups, otherwise group)
 * @param maxInFlight    {@code LLM_MAX_IN_FLIGHT} (formerly {@code LLM_CONCURRENCY}): most thoughts one instance
 *                       handles at once, generating or waiting for a claim; share mode acquires no more records than
 *                       this, group mode runs no more chats' generations than this
 * @param maxDeliveries  {@code LLM_MAX_DELIVERIES}: share mode: the delivery that reaches this count goes to the
 *                       dead-letter topic instead of the model (at most the group's
 *                       {@code share.delivery.count.limit}, or the broker archives it first)
 * @param claimTtl       {@code LLM_CLAIM_TTL_MS}: how long a claim on a thought protects a generation in progress;
 *                       longer than the reply timeout, so a live generation never loses its claim
 * @param doneTtl        {@code LLM_DONE_TTL_MS}: how long "this thought was answered" is remembered
 * @param redisOutage    {@code LLM_REDIS_OUTAGE} (formerly {@code LLM_REDIS_FAIL_OPEN}): when Redis cannot be asked
 *                       whether a thought is claimed, answer it anyway ({@code fail-open}, counted) or wait until Redis
 *                       is back ({@code fail-closed})
 * @param maxBuffered    {@code LLM_MAX_BUFFERED}: group mode: thoughts polled but not finished (queued per chat or in
 *                       flight) above which the instance pauses its partitions; at least {@code maxInFlight}
 */
public record ScaleConfig(
        Mode mode,
        int maxInFlight,
        int maxDeliveries,
        Duration claimTtl,
        Duration doneTtl,
        RedisOutage redisOutage,
        int maxBuffered) {

    public static final String MODE = "LLM_MODE";
    /** {@link StageDefaults#LLM_MODE} (group mode, and why), which the operators' commands read too. */
    public static final Mode DEFAULT_MODE = Mode.valueOf(StageDefaults.LLM_MODE.toUpperCase(Locale.ROOT));

    public static final String MAX_IN_FLIGHT = "LLM_MAX_IN_FLIGHT";
    /** The former name of {@link #MAX_IN_FLIGHT}, still read (with a WARN) while deployments move over. */
    public static final String CONCURRENCY = "LLM_CONCURRENCY";

    public static final String MAX_DELIVERIES = "LLM_MAX_DELIVERIES";
    public static final String CLAIM_TTL_MS = "LLM_CLAIM_TTL_MS";
    public static final String DONE_TTL_MS = "LLM_DONE_TTL_MS";
    public static final String REDIS_OUTAGE = "LLM_REDIS_OUTAGE";
    /** The former true/false spelling of {@link #REDIS_OUTAGE}, still read (with a WARN) while deployments move. */
    public static final String REDIS_FAIL_OPEN = "LLM_REDIS_FAIL_OPEN";

    public static final String MAX_BUFFERED = "LLM_MAX_BUFFERED";

    public static final int DEFAULT_MAX_IN_FLIGHT = 256;
    public static final int MAX_MAX_IN_FLIGHT = 4096;
    /**
     * At most this many share consumers per instance. Each takes a batch of records and can take the next batch only
     * once the whole batch is finished (docs/llm-processor.md, "Mode share"), so more consumers keep a slow reply
     * from holding up the instance's intake; each costs a Kafka network thread and a poll thread.
     */
    public static final int MAX_SHARE_CONSUMERS = 16;
    /**
     * One below the broker's default {@code share.delivery.count.limit} (5): if writing the dead letter fails on the
     * last delivery we allow, the record is released and comes back once more instead of being archived unseen.
     */
    public static final int DEFAULT_MAX_DELIVERIES = 4;
    /** Kafka's lowest allowed {@code group.share.delivery.count.limit}. */
    static final int MIN_DELIVERIES = 2;

    public static final Duration DEFAULT_DONE_TTL = Duration.ofHours(24);

    /** How the processor consumes. */
    public enum Mode {
        /** A Kafka share group: instances scale past the partition count; a chat's thoughts in any order. */
        SHARE,
        /** A classic consumer group: a chat's thoughts in order, instances up to the partition count. */
        GROUP,
        /** Share where the broker supports share groups, otherwise group. */
        AUTO;

        String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public ScaleConfig {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(claimTtl, "claimTtl");
        Objects.requireNonNull(doneTtl, "doneTtl");
        Objects.requireNonNull(redisOutage, "redisOutage");
        if (maxInFlight < 1 || maxBuffered < maxInFlight || maxDeliveries < MIN_DELIVERIES) {
            throw new IllegalArgumentException(
                    "maxInFlight >= 1, maxBuffered >= maxInFlight, maxDeliveries >= " + MIN_DELIVERIES);
        }
    }

    /** Share mode: the share consumers of one instance, {@code min(maxInFlight, MAX_SHARE_CONSUMERS)}. */
    public int shareConsumers() {
        return Math.min(maxInFlight, MAX_SHARE_CONSUMERS);
    }

    /**
     * Share mode: the most records one consumer acquires at once ({@code max.poll.records}): the in-flight budget
     * shared out, so that all consumers together never hold more than {@code maxInFlight}.
     */
    public int shareBatch() {
        return maxInFlight / shareConsumers();
    }

    /**
     * Reads the variables; {@code replyTimeout} is {@code LLM_REPLY_TIMEOUT_MS}, which the claim must outlast.
     *
     * @throws ConfigException naming the first invalid variable
     */
    public static ScaleConfig from(Config config, Duration replyTimeout) {
        Mode mode = config.enumValue(MODE, Mode.class, DEFAULT_MODE);
        int maxInFlight = maxInFlight(config);
        // Kafka allows 2..10 for the share delivery count limit; a larger value could never be reached.
        int maxDeliveries = config.integer(MAX_DELIVERIES, DEFAULT_MAX_DELIVERIES, MIN_DELIVERIES, 10);
        long defaultClaimMs = replyTimeout.multipliedBy(2).toMillis();
        Duration claimTtl = config.millis(CLAIM_TTL_MS, defaultClaimMs, 1, 86_400_000L);
        if (claimTtl.compareTo(replyTimeout) <= 0) {
            throw new ConfigException(
                    CLAIM_TTL_MS,
                    "is " + claimTtl.toMillis() + " ms but must be longer than "
                            + LlmConfig.REPLY_TIMEOUT_MS + "=" + replyTimeout.toMillis()
                            + ", or a generation still running could lose its claim and be started a second time");
        }
        Duration doneTtl = config.millis(DONE_TTL_MS, DEFAULT_DONE_TTL.toMillis(), 1_000, 30L * 86_400_000L);
        if (doneTtl.compareTo(claimTtl) < 0) {
            throw new ConfigException(
                    DONE_TTL_MS,
                    "is " + doneTtl.toMillis() + " ms but must be at least " + CLAIM_TTL_MS + "="
                            + claimTtl.toMillis());
        }
        RedisOutage redisOutage = RedisOutage.read(
                config,
                REDIS_OUTAGE,
                RedisOutage.FAIL_OPEN,
                RedisOutage.Legacy.bool(REDIS_FAIL_OPEN, RedisOutage.FAIL_OPEN));
        int maxBuffered = config.integer(MAX_BUFFERED, 2 * maxInFlight, 1, 100_000);
        if (maxBuffered < maxInFlight) {
            throw new ConfigException(
                    MAX_BUFFERED, "is " + maxBuffered + " but must be at least " + MAX_IN_FLIGHT + "=" + maxInFlight);
        }
        return new ScaleConfig(mode, maxInFlight, maxDeliveries, claimTtl, doneTtl, redisOutage, maxBuffered);
    }

    /** {@code LLM_MAX_IN_FLIGHT}, or the deprecated {@code LLM_CONCURRENCY} when only that is set (with a WARN). */
    private static int maxInFlight(Config config) {
        boolean legacy = config.isSet(CONCURRENCY);
        if (!legacy || config.isSet(MAX_IN_FLIGHT)) {
            if (legacy) {
                Deprecations.ignoredOldName(CONCURRENCY, MAX_IN_FLIGHT);
                // Read all the same, so a typo in it still fails the start rather than hide.
                config.integer(CONCURRENCY, DEFAULT_MAX_IN_FLIGHT, 1, MAX_MAX_IN_FLIGHT);
            }
            return config.integer(MAX_IN_FLIGHT, DEFAULT_MAX_IN_FLIGHT, 1, MAX_MAX_IN_FLIGHT);
        }
        int value = config.integer(CONCURRENCY, DEFAULT_MAX_IN_FLIGHT, 1, MAX_MAX_IN_FLIGHT);
        Deprecations.usedOldName(CONCURRENCY, MAX_IN_FLIGHT, Integer.toString(value));
        return value;
    }

    @Override
    public String toString() {
        return "mode=" + mode.label() + ", maxInFlight=" + maxInFlight + ", maxDeliveries=" + maxDeliveries
                + ", claimTtl=" + claimTtl + ", doneTtl=" + doneTtl + ", redisOutage=" + redisOutage.label()
                + ", maxBuffered=" + maxBuffered;
    }
}
