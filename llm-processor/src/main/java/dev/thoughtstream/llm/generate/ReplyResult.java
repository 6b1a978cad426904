package dev.thoughtstream.llm.generate;

import java.util.Objects;
import java.util.Optional;

/**
 * How a generation ended; {@link ReplyGeneration#result()} completes with it once every part it will ever send was
 * handed to the sink.
 *
 * <p>The contract for the consumer of a generation:
 * <ul>
 *   <li>{@link Outcome#ANSWERED}, {@link Outcome#TRUNCATED}, {@link Outcome#TIMED_OUT}, {@link Outcome#APOLOGISED}:
 *       the reply is complete (its final part has {@code last = true}); {@link #error()} is empty. Commit.
 *   <li>{@link Outcome#FAILED}: the model call failed for good (an error that is not retried, the last allowed
 *       call failed, a failure after parts had been sent, or no answer by the reply timeout). The apology part was
 *       sent last ({@code last = true}), possibly after complete parts of the answer that had already been sent.
 *       {@link #error()} says why, in one line without the API key: meant for the dead letter of the thought.
 *   <li>{@link Outcome#CANCELLED}: {@link ReplyGeneration#cancel()} stopped it; the reply has no last part and
 *       nothing more will be sent.
 * </ul>
 * If the sink threw, {@link ReplyGeneration#result()} completes exceptionally instead.
 *
 * @param thoughtId the thought answered
 * @param replyId   the reply's id
 * @param outcome   what happened
 * @param parts     how many parts were handed to the sink (the apology included)
 * @param chars     the total length of their text
 * @param calls     model calls made (1 without retries; 0 when cancelled before the first call)
 * @param error     for {@link Outcome#FAILED}: the final error's description; empty otherwise
 */
public record ReplyResult(
        String thoughtId, String replyId, Outcome outcome, int parts, int chars, int calls, Optional<String> error) {

    public ReplyResult {
        Objects.requireNonNull(thoughtId, "thoughtId");
        Objects.requireNonNull(replyId, "replyId");
        Objects.requireNonNull(outcome, "outcome");
        Objects.requireNonNull(error, "error");
    }

    /** A result without retries or error, as before those existed. */
    public ReplyResult(String thoughtId, String replyId, Outcome outcome, int parts, int chars) {
        this(thoughtId, replyId, outcome, parts, chars, 1, Optional.empty());
    }

    public boolean failed() {
        return outcome == Outcome.FAILED;
    }

    public enum Outcome {
        /** The model finished normally. */
        ANSWERED,
        /** The stream ended without a normal finish reason (at the length limit, say); what arrived was sent. */
        TRUNCATED,
        /** The reply timeout cut a stream off that had produced text; what had arrived was sent, the last part last. */
        TIMED_OUT,
        /** The model finished without any text: the apology part was sent. Not an error. */
        APOLOGISED,
        /** The model failed for good: the apology was sent last and {@link ReplyResult#error()} says why. */
        FAILED,
        /** {@link ReplyGeneration#cancel()} stopped it; the reply has no last part. */
        CANCELLED
    }
}
