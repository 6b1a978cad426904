package dev.thoughtstream.llm;

/**
 * How a generation ended.
 *
 * @param thoughtId the thought answered
 * @param replyId   the reply's id
 * @param outcome   what happened
 * @param parts     how many parts were handed to the sink
 * @param chars     the total length of their text
 */
public record ReplyResult(String thoughtId, String replyId, Outcome outcome, int parts, int chars) {
    public enum Outcome {
        /** The model finished normally. */
        ANSWERED,
        /** The stream ended without a finish reason (cut off) or at the length limit; what arrived was sent. */
        TRUNCATED,
        /** The reply timeout cut the model off; what had arrived was sent. */
        TIMED_OUT,
        /** The model failed, or produced nothing usable: the apology part was sent last. */
        APOLOGISED,
        /** {@link ReplyGeneration#cancel()} stopped it; the reply has no last part. */
        CANCELLED
    }
}
