package dev.thoughtstream.llm.handle;

/**
 * How one handling of a thought ended, from the consumer's point of view: whether the thought is finished here (its
 * offset may be committed, its share record accepted or rejected) or must come back.
 */
public enum Disposition {
    /** The reply's parts are on the replies topic (complete, cut off or timed out: what arrived was sent). */
    ANSWERED("answered", true),
    /** The chat had a newer message before the model was called; no call was made. */
    SKIPPED_STALE("skipped_stale", true),
    /** A newer message of the chat cancelled the generation; the parts already produced stay. */
    CANCELLED_STALE("cancelled_stale", true),
    /** The thought was answered before (its claim says done); no call was made. */
    DUPLICATE("duplicate", true),
    /** The generation failed for good (the apology was sent); the thought is on the dead-letter topic. */
    FAILED("failed", true),
    /** Unreadable, or delivered too often: on the dead-letter topic without a model call. */
    DEAD_LETTERED("dead_lettered", true),
    /** Not finished: stopped by shutdown or rebalance, or its reply could not be produced. Try again. */
    RETRY(null, false),
    /** Not started: another live handling holds the claim, or Redis cannot tell (fail-closed). Look again later. */
    WAIT(null, false);

    private final String outcomeLabel;
    private final boolean finished;

    Disposition(String outcomeLabel, boolean finished) {
        this.outcomeLabel = outcomeLabel;
        this.finished = finished;
    }

    /** The {@code outcome} label of {@code llm_thoughts_total}; null for handlings that do not finish the thought. */
    public String outcomeLabel() {
        return outcomeLabel;
    }

    /** True when the thought is done with here: commit it (group) or acknowledge it (share). */
    public boolean finished() {
        return finished;
    }
}
