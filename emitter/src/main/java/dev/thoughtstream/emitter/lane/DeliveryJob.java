package dev.thoughtstream.emitter.lane;

import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.retry.Backoff;
import dev.thoughtstream.emitter.lane.DeliverySteps.Event;
import dev.thoughtstream.emitter.lane.DeliverySteps.Step;
import dev.thoughtstream.emitter.pace.SendPacer;
import io.opentelemetry.context.Context;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledFuture;

/**
 * One part on its way through its lane: its step in {@link DeliverySteps}, its messages, its retries, what it has
 * heard meanwhile (stale, abandoned) and what it waits on. Guarded by the lanes' lock unless said otherwise.
 *
 * @param <W> the caller's handle for the part's record
 */
final class DeliveryJob<W> {
    final W work;
    final ReplyPart part;
    final PartMessages messages;
    /** The trace context current when the part was queued: its Telegram sends' spans are children of it. */
    final Context trace = Context.current();

    private Step step = Step.QUEUED;
    /** Bumped by every move; a timer or task planned at an earlier turn finds the part moved on and does nothing. */
    private int turn;

    /** Attempts at the current message (429s included). */
    int attempts;
    /** Waits after Telegram did not take the current message (without a {@code retry_after}). */
    final Backoff.Sequence retryWaits;
    /** Waits for Redis (fail-closed) for the current message. */
    final Backoff.Sequence redisWaits;

    /** Its partition went away while a blocking call of it ran. */
    boolean abandoned;
    /** Set when a newer message of the chat arrived; read by the attempt on a send thread. */
    volatile String staleReason;

    /** The timer of its step (a pause, a typing delay, a retry, a Redis wait). */
    ScheduledFuture<?> timer;
    /** The "typing..." indicator while TYPING. */
    final Typing typing = new Typing();
    /** Its request for a send permit while PACING. */
    SendPacer.Request pacing;
    /** Completes when a running check or attempt has been applied (and its outcomes stored). */
    CompletableFuture<Void> busy = CompletableFuture.completedFuture(null);

    DeliveryJob(W work, ReplyPart part, Backoff retryBackoff, Backoff redisBackoff) {
        this.work = work;
        this.part = part;
        this.messages = new PartMessages(part);
        this.retryWaits = retryBackoff.sequence();
        this.redisWaits = redisBackoff.sequence();
    }

    Step step() {
        return step;
    }

    int turn() {
        return turn;
    }

    /** True while the part is still at {@code turn} and on its way. */
    boolean at(int turn) {
        return this.turn == turn && !step.terminal();
    }

    /** Moves on by {@code event} as {@link DeliverySteps} says; returns the new step. */
    Step move(Event event) {
        step = DeliverySteps.next(step, event);
        turn++;
        return step;
    }

    /** Stays in its step but lets go of everything planned so far; returns the new turn. */
    int replan() {
        return ++turn;
    }

    /** On to its next message, with fresh attempts and backoffs. */
    void nextMessage() {
        messages.next();
        attempts = 0;
        retryWaits.reset();
        redisWaits.reset();
    }

    /** Cancels whatever it waits on: timers, the typing refresh, a permit request. */
    void cancelWaits() {
        cancel(timer);
        timer = null;
        typing.stopRefreshing();
        if (pacing != null) {
            pacing.cancel();
            pacing = null;
        }
    }

    private static void cancel(ScheduledFuture<?> future) {
        if (future != null) {
            future.cancel(false);
        }
    }

    /** The typing indicator of the current message: shown, and refreshed until the typing delay ends. */
    static final class Typing {
        /** When the typing delay ends (epoch millis). */
        long endsAtMs;
        /** The latest sendChatAction; the message waits for its answer. */
        CompletableFuture<Void> call;
        /** The next refresh of the indicator. */
        ScheduledFuture<?> refresh;

        void stopRefreshing() {
            cancel(refresh);
            refresh = null;
        }
    }
}
