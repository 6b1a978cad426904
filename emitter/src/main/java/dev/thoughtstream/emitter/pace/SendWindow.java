package dev.thoughtstream.emitter.pace;

import java.util.ArrayDeque;

/**
 * At most {@code limit} messages in any {@code period}, counted the way Telegram counts them: by when they reach
 * it. A send holds its slot from the moment it is allowed to start until one period after its answer came back,
 * so however long a request takes on the way, no window of {@code period} at Telegram's end can hold more than
 * {@code limit} of them. (A token bucket with a burst cannot promise that: it lets {@code burst + rate} through
 * within one period, and network jitter can bunch arrivals further.)
 *
 * <p>Used for the global limit (30 a second) and for each group chat (20 a minute). Not thread-safe:
 * {@link SendPacer} guards it. Times are epoch millis from the pacer's clock.
 */
final class SendWindow {
    private int limit;
    private final long periodMs;
    private final ArrayDeque<Long> answeredAt = new ArrayDeque<>();
    private int inFlight;

    SendWindow(int limit, long periodMs) {
        if (limit < 1 || periodMs < 1) {
            throw new IllegalArgumentException("a send window needs a limit and a period of at least 1");
        }
        this.limit = limit;
        this.periodMs = periodMs;
    }

    /**
     * Changes the limit from now on (an instance falling back to its share of a shared limit, or back): slots already
     * taken stay taken, so a lower limit only frees fewer.
     */
    void limit(int newLimit) {
        if (newLimit < 1) {
            throw new IllegalArgumentException("a send window needs a limit of at least 1");
        }
        this.limit = newLimit;
    }

    private void prune(long nowMs) {
        while (!answeredAt.isEmpty() && answeredAt.peekFirst() <= nowMs - periodMs) {
            answeredAt.removeFirst();
        }
    }

    boolean hasSlot(long nowMs) {
        prune(nowMs);
        return inFlight + answeredAt.size() < limit;
    }

    /**
     * When the next slot frees by time alone (epoch millis), or -1 when every slot is held by a send still on its
     * way (one frees when an answer comes back).
     */
    long nextFreeAt(long nowMs) {
        prune(nowMs);
        return answeredAt.isEmpty() ? -1 : answeredAt.peekFirst() + periodMs;
    }

    /** A send starts; the caller checked {@link #hasSlot} first. */
    void acquire() {
        inFlight++;
    }

    /**
     * A send ended. When it reached Telegram ({@code reached}: any answer, or no answer at all) its slot stays taken
     * for one more period; when it never went out, the slot is free at once.
     */
    void release(long nowMs, boolean reached) {
        inFlight--;
        if (reached) {
            answeredAt.addLast(Math.max(nowMs, answeredAt.isEmpty() ? nowMs : answeredAt.peekLast()));
        }
    }

    /** True when nothing is on its way and the last period is empty: the window can be forgotten. */
    boolean atRest(long nowMs) {
        prune(nowMs);
        return inFlight == 0 && answeredAt.isEmpty();
    }
}
