package dev.thoughtstream.llm.budget;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * A model provider's limits, which belong to the API key and so to the whole cluster, not to one instance: requests
 * at once, requests per minute, tokens per minute. Every model call (each retry included) asks for a permit first
 * and gives it back when its stream ends. Nothing here blocks a thread: a call that must wait gets a future that
 * completes when the budget allows it.
 */
public interface ProviderBudget extends AutoCloseable {

    /**
     * Asks for one model request expected to use about {@code estimatedTokens} (prompt and answer).
     *
     * @param requestId names the request in logs and in the shared state (e.g. the generation's attempt id)
     * @return completes with the permit once the budget allows the request; cancelling the future withdraws the
     *         request (a thought that became stale while waiting), and a permit granted after that is given back
     */
    CompletableFuture<Permit> acquire(String requestId, int estimatedTokens);

    /**
     * The provider answered 429 with {@code retryAfter} (or a default when it gave none): every instance holds its
     * requests back that long, and the shared budget slows down.
     */
    void rateLimited(Duration retryAfter);

    @Override
    void close();

    /** One granted request. */
    interface Permit {
        /** The request ended (done, failed or cancelled) having used {@code actualTokens}; idempotent. */
        void release(long actualTokens);
    }

    /** No limits: every request is granted at once (the default when no limit is configured). */
    static ProviderBudget unlimited() {
        return Unlimited.INSTANCE;
    }
}
