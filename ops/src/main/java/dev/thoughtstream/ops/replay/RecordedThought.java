package dev.thoughtstream.ops.replay;

import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import java.util.List;
import java.util.Objects;

/**
 * A thought as the pipeline recorded it, with the reply it was given.
 *
 * @param thought  the thought, with the context snapshot it was answered with
 * @param original the parts of its reply found on {@code chat.replies}, in seq order, one per seq; empty when none
 */
public record RecordedThought(Thought thought, List<ReplyPart> original) {
    public RecordedThought {
        Objects.requireNonNull(thought, "thought");
        original = List.copyOf(original);
    }
}
