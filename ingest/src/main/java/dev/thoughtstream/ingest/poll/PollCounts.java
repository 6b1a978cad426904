package dev.thoughtstream.ingest.poll;

import dev.thoughtstream.common.metrics.Metrics;

/**
 * The getUpdates calls the poller made, by outcome ({@code ingest_polls_total}): a live poller makes one at least
 * every long-poll timeout even when nobody writes to the bot, so a count that stops growing tells a stopped poller
 * from a quiet bot. All three series exist from the first term on, at 0, so an alert can see them not growing.
 */
final class PollCounts {
    static final String NAME = "ingest_polls_total";
    private static final String HELP = "getUpdates calls the poller made, by outcome: updates (a batch came back), "
            + "empty (the long poll ended with none), failed (Telegram refused or could not be reached)";

    private final Metrics.Counter updates;
    private final Metrics.Counter empty;
    private final Metrics.Counter failed;

    PollCounts(Metrics metrics) {
        this.updates = metrics.counter(NAME, HELP, "outcome", "updates");
        this.empty = metrics.counter(NAME, HELP, "outcome", "empty");
        this.failed = metrics.counter(NAME, HELP, "outcome", "failed");
    }

    /** A getUpdates answered: with updates, or empty once its long poll ended. */
    void answered(int updateCount) {
        (updateCount > 0 ? updates : empty).increment();
    }

    /** A getUpdates that Telegram refused or that could not reach it (not one abandoned because polling stopped). */
    void failed() {
        failed.increment();
    }
}
