package dev.thoughtstream.llm.generate;

import dev.thoughtstream.common.retry.Backoff;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.model.ErrorKind;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.DoubleSupplier;

/**
 * How often and after how long a failed model call is tried again: at most {@link #maxCalls()} calls per thought;
 * before retry {@code n} (1, 2, ...) a wait of {@code step = min(backoffMax, backoff * 2^(n-1))} (the project's
 * {@link Backoff}), of which a random half is jitter ({@code step/2 + jitter * step/2}, jitter in {@code [0, 1)}) so
 * that instances that failed together do not come back together, while the wait still grows with every retry. A
 * server's {@code Retry-After} is a minimum: the wait is the longer of the two.
 *
 * <p>Which errors are retried is {@link ErrorKind#retryable()}; whether a retry is still allowed at all (nothing
 * sent yet, the reply timeout not passed) is the {@link ReplyGeneration}'s decision.
 */
public final class RetryPolicy {
    private final int maxCalls;
    private final Duration backoff;
    private final Duration backoffMax;
    /** The steps; empty for a zero backoff, which never grows. */
    private final Optional<Backoff> steps;

    private final DoubleSupplier jitter;

    /**
     * @param maxCalls calls at most, the first included (1 = no retries)
     * @param backoff     the step before the first retry
     * @param backoffMax  the step stops doubling here; at least {@code backoff}
     * @param jitter      values in {@code [0, 1)}; inject a fixed or seeded one in tests
     */
    public RetryPolicy(int maxCalls, Duration backoff, Duration backoffMax, DoubleSupplier jitter) {
        if (maxCalls < 1) {
            throw new IllegalArgumentException("maxCalls must be >= 1 but was " + maxCalls);
        }
        this.maxCalls = maxCalls;
        this.backoff = Objects.requireNonNull(backoff, "backoff");
        this.backoffMax = Objects.requireNonNull(backoffMax, "backoffMax");
        if (backoff.isNegative() || backoffMax.compareTo(backoff) < 0) {
            throw new IllegalArgumentException(
                    "need 0 <= backoff <= backoffMax but was " + backoff + ", " + backoffMax);
        }
        this.steps = backoff.isZero() ? Optional.empty() : Optional.of(Backoff.exponential(backoff, backoffMax));
        this.jitter = Objects.requireNonNull(jitter, "jitter");
    }

    /** One call, no retries. */
    public static RetryPolicy none() {
        return new RetryPolicy(1, Duration.ZERO, Duration.ZERO, () -> 0);
    }

    /** From {@code LLM_MAX_ATTEMPTS}, {@code LLM_RETRY_BACKOFF_MS}, {@code LLM_RETRY_BACKOFF_MAX_MS}. */
    public static RetryPolicy from(LlmConfig config, DoubleSupplier jitter) {
        LlmConfig.Retries retries = config.retries();
        return new RetryPolicy(retries.maxAttempts(), retries.backoff(), retries.backoffMax(), jitter);
    }

    /** {@link #from(LlmConfig, DoubleSupplier)} with a thread-local random jitter. */
    public static RetryPolicy from(LlmConfig config) {
        return from(config, () -> ThreadLocalRandom.current().nextDouble());
    }

    public int maxCalls() {
        return maxCalls;
    }

    /** The step before the first retry ({@code LLM_RETRY_BACKOFF_MS}): also how long a 429 without Retry-After pauses. */
    public Duration firstBackoff() {
        return backoff;
    }

    /** Whether another call may follow {@code callsMade} calls. */
    public boolean allowsAnotherAfter(int callsMade) {
        return callsMade < maxCalls;
    }

    /** The wait before retry number {@code retry} (1 = the second call), at least {@code retryAfter}. */
    public Duration delayBefore(int retry, Optional<Duration> retryAfter) {
        if (retry < 1) {
            throw new IllegalArgumentException("retry numbers start at 1 but was " + retry);
        }
        long stepNanos = steps.map(b -> b.delay(retry).toNanos()).orElse(0L);
        double j = jitter.getAsDouble();
        if (!(j >= 0 && j < 1)) {
            throw new IllegalStateException("jitter must be in [0, 1) but was " + j);
        }
        Duration wait = Duration.ofNanos(stepNanos / 2 + (long) (j * (stepNanos - stepNanos / 2)));
        return retryAfter.filter(ra -> ra.compareTo(wait) > 0).orElse(wait);
    }

    @Override
    public String toString() {
        return "RetryPolicy[maxCalls=" + maxCalls + ", backoff=" + backoff + ", backoffMax=" + backoffMax + "]";
    }
}
