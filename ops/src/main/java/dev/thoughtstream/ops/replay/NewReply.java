package dev.thoughtstream.ops.replay;

import dev.thoughtstream.common.event.ReplyPart;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A thought's reply from the replay's model.
 *
 * @param outcome        how the generation ended, as the llm-processor names it ({@code ANSWERED}, {@code FAILED}, ...)
 * @param parts          the parts produced, in seq order (for a failure: the apology last)
 * @param firstPartMs    from the start of the generation to its first part; empty without parts
 * @param latencyMs      from the start of the generation to its end
 * @param inputTokens    the prompt's tokens as the model reported them; empty when it did not
 * @param outputTokens   the answer's tokens as the model reported them; empty when it did not
 * @param error          why it failed, in one line without secrets; empty unless it failed
 */
public record NewReply(
        String outcome,
        List<ReplyPart> parts,
        Optional<Long> firstPartMs,
        long latencyMs,
        Optional<Long> inputTokens,
        Optional<Long> outputTokens,
        Optional<String> error) {
    public NewReply {
        Objects.requireNonNull(outcome, "outcome");
        parts = List.copyOf(parts);
        Objects.requireNonNull(firstPartMs, "firstPartMs");
        Objects.requireNonNull(inputTokens, "inputTokens");
        Objects.requireNonNull(outputTokens, "outputTokens");
        Objects.requireNonNull(error, "error");
    }

    /** A reply that never came: the answerer itself failed. */
    public static NewReply failed(String error, long latencyMs) {
        return new NewReply(
                "FAILED",
                List.of(),
                Optional.empty(),
                latencyMs,
                Optional.empty(),
                Optional.empty(),
                Optional.of(error));
    }

    public boolean failed() {
        return error.isPresent() || outcome.equals("FAILED") || outcome.equals("CANCELLED");
    }

    public Optional<Long> totalTokens() {
        if (inputTokens.isEmpty() && outputTokens.isEmpty()) {
            return Optional.empty();
        }
        return Optional.of(inputTokens.orElse(0L) + outputTokens.orElse(0L));
    }
}
