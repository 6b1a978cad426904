package dev.thoughtstream.emitter.pace;

/**
 * A token bucket: refills continuously at {@code ratePerSecond} up to {@code capacity} tokens, and a send takes one.
 * It starts full, so a quiet chat may send {@code capacity} messages at once (the burst Telegram tolerates in a
 * chat), and about {@code ratePerSecond} a second after that.
 *
 * <p>Not thread-safe: {@link SendPacer} guards it. Times are epoch millis from the pacer's clock.
 */
final class TokenBucket {
    private final double ratePerMs;
    private final double capacity;
    private double tokens;
    private long refilledAtMs;

    TokenBucket(double ratePerSecond, int capacity, long nowMs) {
        if (ratePerSecond <= 0 || capacity < 1) {
            throw new IllegalArgumentException("a token bucket needs a positive rate and a capacity of at least 1");
        }
        this.ratePerMs = ratePerSecond / 1000.0;
        this.capacity = capacity;
        this.tokens = capacity;
        this.refilledAtMs = nowMs;
    }

    private void refill(long nowMs) {
        if (nowMs > refilledAtMs) {
            tokens = Math.min(capacity, tokens + (nowMs - refilledAtMs) * ratePerMs);
            refilledAtMs = nowMs;
        }
    }

    /** Milliseconds until a token is there; 0 when one is there now. */
    long millisUntilToken(long nowMs) {
        refill(nowMs);
        if (tokens >= 1) {
            return 0;
        }
        return Math.max(1, (long) Math.ceil((1 - tokens) / ratePerMs));
    }

    /** Takes a token; the caller checked {@link #millisUntilToken} first. */
    void take(long nowMs) {
        refill(nowMs);
        tokens -= 1;
    }

    /** Gives back a token that was taken for a message that was never sent. */
    void refund(long nowMs) {
        refill(nowMs);
        tokens = Math.min(capacity, tokens + 1);
    }

    /** True when the bucket is full again, i.e. it holds no memory of earlier sends and can be forgotten. */
    boolean atRest(long nowMs) {
        refill(nowMs);
        return tokens >= capacity;
    }
}
