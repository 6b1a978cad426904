package dev.thoughtstream.ops.replay;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Which recorded thoughts a replay answers again: those whose record on {@code chat.thoughts} was written in
 * [{@code since}, {@code until}), of the chosen chats only when {@code chats} is not empty. At least one of
 * {@code since} and {@code chats} is given, so that a replay never answers a whole topic by accident.
 *
 * @param since the earliest record time; empty: from the start of what is retained (only with chats)
 * @param until the record time the window ends before; empty: up to the topic's current end
 * @param chats the chats to replay, in the order given; empty: every chat
 */
public record ReplayWindow(Optional<Instant> since, Optional<Instant> until, List<Long> chats) {
    public ReplayWindow {
        Objects.requireNonNull(since, "since");
        Objects.requireNonNull(until, "until");
        chats = List.copyOf(chats);
        if (since.isEmpty() && chats.isEmpty()) {
            throw new IllegalArgumentException("a replay needs a start time or a list of chats");
        }
        if (since.isPresent() && until.isPresent() && !until.get().isAfter(since.get())) {
            throw new IllegalArgumentException("until (" + until.get() + ") must be after since (" + since.get() + ")");
        }
    }

    public boolean contains(long recordTimestampMs) {
        return since.map(s -> recordTimestampMs >= s.toEpochMilli()).orElse(true)
                && until.map(u -> recordTimestampMs < u.toEpochMilli()).orElse(true);
    }

    /** For the report's heading: {@code 2026-01-01T10:00:00Z … 2026-01-01T11:00:00Z, chats 42, 43}. */
    public String describe() {
        String from = since.map(Instant::toString).orElse("the start of the topic");
        String to = until.map(Instant::toString).orElse("its end");
        return from + " … " + to
                + (chats.isEmpty()
                        ? ", every chat"
                        : ", chat" + (chats.size() == 1 ? " " : "s ")
                                + String.join(
                                        ", ",
                                        chats.stream().map(String::valueOf).toList()));
    }
}
