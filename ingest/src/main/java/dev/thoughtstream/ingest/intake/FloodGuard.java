package dev.thoughtstream.ingest.intake;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * At most {@code maxPerWindow} messages per person per fixed minute ({@code INGEST_MAX_MSGS_PER_MIN}), counted in
 * a {@link FloodWindow} shared by every instance. Fixed windows (minute boundaries of the injected clock) keep the
 * count to one Redis round trip and make the notice "once per window" well defined; a burst across a boundary may
 * pass up to twice the limit, which is still a bound.
 */
public final class FloodGuard {
    public static final Duration WINDOW = Duration.ofMinutes(1);

    /** The judgement on one message: over the limit or not, and in which window (notices are once per window). */
    record Check(boolean excess, long window) {}

    private final FloodWindow counts;
    private final int maxPerWindow;
    private final Clock clock;

    /** @param maxPerWindow 0 turns the guard off */
    FloodGuard(FloodWindow counts, int maxPerWindow, Clock clock) {
        this.counts = counts;
        this.maxPerWindow = maxPerWindow;
        this.clock = clock;
    }

    boolean isOn() {
        return maxPerWindow > 0;
    }

    /**
     * Counts the message and judges it.
     *
     * @throws RuntimeException when the window store cannot be reached (the caller fails open)
     */
    Check check(long userId, long updateId) {
        long window = clock.millis() / WINDOW.toMillis();
        if (!isOn()) {
            return new Check(false, window);
        }
        return new Check(counts.position(userId, window, updateId) >= maxPerWindow, window);
    }

    /**
     * {@link #check} for several messages at once, in their order, with one call of the window (one round trip on
     * Redis for a whole batch).
     *
     * @throws RuntimeException when the window store cannot be reached (the caller fails open for all of them)
     */
    List<Check> checkAll(List<FloodWindow.Entry> messages) {
        long window = clock.millis() / WINDOW.toMillis();
        List<Check> checks = new ArrayList<>(messages.size());
        if (!isOn() || messages.isEmpty()) {
            messages.forEach(m -> checks.add(new Check(false, window)));
            return checks;
        }
        for (long position : counts.positions(window, messages)) {
            checks.add(new Check(position >= maxPerWindow, window));
        }
        return checks;
    }
}
