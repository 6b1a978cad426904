package dev.thoughtstream.llm.generate;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Says loudly, at most once a minute, that the provider stopped answering for billing reasons (OpenAI's
 * {@code insufficient_quota}): every thought gets the apology until someone raises the quota, and a log line per
 * thought would bury the cause. The count per thought is {@code llm_errors_total{kind="quota_exhausted"}}.
 */
final class QuotaAlarm {
    private static final Logger LOG = LoggerFactory.getLogger(QuotaAlarm.class);
    static final Duration EVERY = Duration.ofMinutes(1);

    private final Clock clock;
    private final AtomicLong nextAtMs = new AtomicLong(Long.MIN_VALUE);

    QuotaAlarm(Clock clock) {
        this.clock = clock;
    }

    /** The provider refused a call for its quota; logs an ERROR unless one was logged within the last minute. */
    boolean raise(String provider, String description) {
        long now = clock.millis();
        long next = nextAtMs.get();
        if (now < next || !nextAtMs.compareAndSet(next, now + EVERY.toMillis())) {
            return false;
        }
        LOG.error(
                "The {} account's quota is exhausted ({}): every thought is answered with the apology and"
                        + " dead-lettered until the quota or the billing plan is raised; this is said once a minute",
                provider,
                description);
        return true;
    }
}
