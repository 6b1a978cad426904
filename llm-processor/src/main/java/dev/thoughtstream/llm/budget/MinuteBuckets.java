package dev.thoughtstream.llm.budget;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import java.time.Duration;

/**
 * The requests-per-minute and tokens-per-minute token buckets (Bucket4j), local or proxies of buckets in Redis.
 * Either may be absent (no limit in that dimension). Each refills greedily, i.e. continuously at limit/minute, and
 * holds at most one minute's worth: a burst after a quiet minute is the limit, not more.
 */
final class MinuteBuckets {
    private final Bucket requests;
    private final Bucket tokens;

    /** Makes the bucket of one dimension ({@code requests} or {@code tokens}) for a per-minute limit above 0. */
    interface Maker {
        Bucket make(String dimension, long limit);
    }

    MinuteBuckets(long requestsPerMinute, long tokensPerMinute, Maker maker) {
        this.requests = requestsPerMinute > 0 ? maker.make("requests", requestsPerMinute) : null;
        this.tokens = tokensPerMinute > 0 ? maker.make("tokens", tokensPerMinute) : null;
    }

    static Bandwidth perMinute(long limit) {
        return Bandwidth.builder()
                .capacity(limit)
                .refillGreedy(limit, Duration.ofMinutes(1))
                .build();
    }

    /**
     * Bucket4j's {@code consumeIgnoringRateLimits} is a reservation: the tokens are taken now, the balance may go
     * below zero, and the answer is how long until it is back at zero; the caller waits that long without blocking.
     */
    long reserve(long tokenCount) {
        long wait = 0;
        if (requests != null) {
            wait = requests.consumeIgnoringRateLimits(1);
        }
        if (tokens != null && tokenCount > 0) {
            wait = Math.max(wait, tokens.consumeIgnoringRateLimits(tokenCount));
        }
        return wait;
    }

    void refund(long tokenCount) {
        if (requests != null) {
            requests.addTokens(1);
        }
        if (tokens != null && tokenCount > 0) {
            tokens.addTokens(tokenCount);
        }
    }

    void settle(long tokenDifference) {
        if (tokens == null || tokenDifference == 0) {
            return;
        }
        if (tokenDifference > 0) {
            tokens.consumeIgnoringRateLimits(tokenDifference);
        } else {
            tokens.addTokens(-tokenDifference);
        }
    }

    /** Takes whatever is available, so that after a 429 only what refills from now on can be spent. */
    void drain() {
        if (requests != null) {
            requests.tryConsumeAsMuchAsPossible();
        }
        if (tokens != null) {
            tokens.tryConsumeAsMuchAsPossible();
        }
    }
}
