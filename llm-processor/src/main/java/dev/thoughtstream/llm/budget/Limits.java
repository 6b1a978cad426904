package dev.thoughtstream.llm.budget;

import java.util.Collection;

/**
 * Where the budget is kept: in Redis for the whole cluster ({@link RedisLimits}) or in this process for its share
 * ({@link LocalLimits}). Only {@link ClusterBudget}'s pump calls these, one call at a time; the Redis side throws
 * Jedis exceptions when Redis cannot be reached.
 */
interface Limits {

    /**
     * Takes one request and {@code tokens} from the per-minute buckets now, into debt if need be (a reservation:
     * the order of reservations is the order in which requests may start).
     *
     * @return nanoseconds until the debt is paid, 0 when the request may start at once
     */
    long reserve(long tokens);

    /** Gives back a reservation whose request never started: one request and {@code tokens}. */
    void refund(long tokens);

    /** Charges {@code tokenDifference} (actual minus estimated) into debt when positive, gives it back when negative. */
    void settle(long tokenDifference);

    /**
     * Asks to start a request: refused while a 429 pause holds, or when the requests in flight are at the limit;
     * otherwise the request holds a permit named {@code permitId} until {@link #finish}.
     *
     * @param heldHere the permits this instance holds now (what its local share is compared with)
     */
    Admission admit(String permitId, long nowMillis, int heldHere);

    /** The permit's request ended. */
    void finish(String permitId);

    /** The permits' requests are still running (renews their leases, records them again if they were lost). */
    void renew(Collection<String> permitIds, long nowMillis);

    /** A 429: nobody starts a request before {@code untilMillis}, and the per-minute buckets are emptied. */
    void pause(long untilMillis, long nowMillis);

    /** The answer of {@link #admit}. */
    record Admission(Outcome outcome, long retryAtMillis) {
        static final Admission GRANTED = new Admission(Outcome.GRANTED, 0);

        /** Full and nothing to wait for but a release in this process. */
        static final Admission FULL_UNTIL_RELEASE = new Admission(Outcome.FULL, Long.MAX_VALUE);

        static Admission full(long retryAtMillis) {
            return new Admission(Outcome.FULL, retryAtMillis);
        }

        static Admission paused(long untilMillis) {
            return new Admission(Outcome.PAUSED, untilMillis);
        }
    }

    enum Outcome {
        GRANTED,
        FULL,
        PAUSED
    }
}
