package dev.thoughtstream.llm.budget;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/** {@link ProviderBudget#unlimited()}. */
enum Unlimited implements ProviderBudget {
    INSTANCE;

    private static final Permit NOTHING_TO_RELEASE = tokens -> {};
    private static final CompletableFuture<Permit> GRANTED = CompletableFuture.completedFuture(NOTHING_TO_RELEASE);

    @Override
    public CompletableFuture<Permit> acquire(String requestId, int estimatedTokens) {
        return GRANTED.copy();
    }

    @Override
    public void rateLimited(Duration retryAfter) {
        // Without a budget there is nothing to slow down; the generation's own retry honours Retry-After.
    }

    @Override
    public void close() {}
}
