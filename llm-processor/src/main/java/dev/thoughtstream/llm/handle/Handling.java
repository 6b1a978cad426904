package dev.thoughtstream.llm.handle;

import java.util.concurrent.CompletableFuture;

/**
 * One handling of one delivery of a thought (made by {@link ThoughtHandler#start}): the staleness check, the claim,
 * the generation, the wait for Kafka and the done mark. A delivery may be handled more than once (a claim held
 * elsewhere, a reply Kafka did not take), each time by a new handling.
 */
public interface Handling {
    /** Completes once the handling ended, with what it means for the thought; never exceptionally. */
    CompletableFuture<Disposition> result();

    /** Stops the handling for a reason other than staleness (shutdown, rebalance): the thought comes back. */
    void cancel();
}
