package dev.thoughtstream.emitter.lane;

import java.util.Collections;
import java.util.EnumMap;
import java.util.Map;

/**
 * A part's delivery as a state machine: the steps of its way through its chat's lane, the events that move it on,
 * and the one table that says, for each step, where each event leads. {@link DeliveryLanes} does what a step does
 * (a timer, a blocking call, a permit request) and turns what happens into an event; only this table decides what
 * comes next. The way itself is described in docs/emitter.md ("Timing: a part's way through its lane").
 */
final class DeliverySteps {

    /** Where a part is. */
    enum Step {
        /** Behind an earlier part of its chat. */
        QUEUED,
        /** Looking for a newer message and for an earlier attempt's outcome (a blocking call). */
        CHECKING,
        /** The look-up found Redis down (fail-closed): waiting to look again. */
        CHECK_REDIS_WAIT,
        /** The silent pause before the first part of a reply (passed at once when there is none). */
        READING,
        /** "typing..." for the typing delay (passed at once when the delay is 0). */
        TYPING,
        /** Waiting for a send permit (the rate limits). */
        PACING,
        /** Claim, sendMessage, record (a blocking call). */
        SENDING,
        /** Telegram did not take the message: waiting for its {@code retry_after} or a backoff. */
        RETRY_WAIT,
        /** The claim found Redis down (fail-closed): waiting to try again. */
        SEND_REDIS_WAIT,
        /** Finished with an outcome, which is reported. */
        DONE,
        /** Let go without an outcome (its partition went away): the partition's next owner delivers it. */
        LEFT;

        /**
         * True while a blocking call of the part runs on a send thread: it cannot be called back, so news of the
         * part (stale, abandoned) is applied when the call returns.
         */
        boolean callRunning() {
            return this == CHECKING || this == SENDING;
        }

        boolean terminal() {
            return this == DONE || this == LEFT;
        }
    }

    /** What happens to a part. */
    enum Event {
        /** It reached the head of its lane. */
        START,
        /** Nothing stands in its way: not stale, no earlier outcome. */
        CLEAR,
        /** Redis did not answer and the mode is fail-closed. */
        REDIS_DOWN,
        /** The step's wait is over. */
        ELAPSED,
        /** A send permit came. */
        GRANTED,
        /** One of its messages went out (now or in an earlier attempt) and another one follows. */
        NEXT_MESSAGE,
        /** Telegram did not take the message (429, 5xx, no connection) and attempts are left. */
        NOT_TAKEN,
        /** It has its outcome: sent, refused, given up, or what an earlier attempt recorded. */
        FINISHED,
        /** Its chat has a newer message. */
        STALE,
        /** Its partition went away (rebalance, shutdown). */
        ABANDONED,
        /** A step failed unexpectedly (a bug): reported FAILED rather than left to hold its lane. */
        ERROR
    }

    private static final Map<Step, Map<Event, Step>> TABLE = new EnumMap<>(Step.class);

    static {
        on(Step.QUEUED, Event.START, Step.CHECKING);

        on(Step.CHECKING, Event.CLEAR, Step.READING);
        on(Step.CHECKING, Event.REDIS_DOWN, Step.CHECK_REDIS_WAIT);
        on(Step.CHECKING, Event.NEXT_MESSAGE, Step.CHECKING);
        on(Step.CHECKING, Event.FINISHED, Step.DONE);
        on(Step.CHECK_REDIS_WAIT, Event.ELAPSED, Step.CHECKING);

        on(Step.READING, Event.ELAPSED, Step.TYPING);
        on(Step.TYPING, Event.ELAPSED, Step.PACING);
        on(Step.PACING, Event.GRANTED, Step.SENDING);

        on(Step.SENDING, Event.NEXT_MESSAGE, Step.CHECKING);
        on(Step.SENDING, Event.FINISHED, Step.DONE);
        on(Step.SENDING, Event.NOT_TAKEN, Step.RETRY_WAIT);
        on(Step.SENDING, Event.REDIS_DOWN, Step.SEND_REDIS_WAIT);
        on(Step.RETRY_WAIT, Event.ELAPSED, Step.PACING);
        on(Step.SEND_REDIS_WAIT, Event.ELAPSED, Step.PACING);

        // From anywhere on the way: a newer message drops the part, a lost partition lets it go, a bug fails it.
        for (Step step : Step.values()) {
            if (!step.terminal()) {
                on(step, Event.STALE, Step.DONE);
                on(step, Event.ABANDONED, Step.LEFT);
                on(step, Event.ERROR, Step.DONE);
            }
        }
    }

    private DeliverySteps() {}

    private static void on(Step from, Event event, Step to) {
        Step earlier =
                TABLE.computeIfAbsent(from, s -> new EnumMap<>(Event.class)).put(event, to);
        if (earlier != null) {
            throw new IllegalStateException(from + " on " + event + " leads to both " + earlier + " and " + to);
        }
    }

    /** The step {@code event} leads to from {@code from}; an event the table does not expect there is a bug. */
    static Step next(Step from, Event event) {
        Step to = exits(from).get(event);
        if (to == null) {
            throw new IllegalStateException("a part in step " + from + " cannot take event " + event);
        }
        return to;
    }

    /** Every event {@code from} takes, and where it leads (empty for a terminal step). */
    static Map<Event, Step> exits(Step from) {
        return Collections.unmodifiableMap(TABLE.getOrDefault(from, Map.of()));
    }
}
