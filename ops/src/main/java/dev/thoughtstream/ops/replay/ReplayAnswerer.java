package dev.thoughtstream.ops.replay;

import dev.thoughtstream.common.event.Thought;

/**
 * Answers a recorded thought again. The ops module depends on no pipeline stage, so the answerer that runs the
 * llm-processor's own reply generation is handed in by the launcher, which composes the stages.
 */
@FunctionalInterface
public interface ReplayAnswerer {
    /**
     * The new reply to {@code thought}; waits for it. A failure of the model is a reply with an error, not an
     * exception.
     */
    NewReply answer(Thought thought);
}
