package dev.thoughtstream.testkit.llm;

import java.time.Instant;
import java.util.List;

/**
 * One reply being produced: everything a dialect needs to render it.
 *
 * @param startNanos   {@link System#nanoTime()} when the request arrived; Ollama reports durations from it
 * @param finishReason why it ends: {@code stop} (it is complete) or {@code length} (the output limit cut it); both
 *                     wire formats use these words (OpenAI's {@code finish_reason}, Ollama's {@code done_reason})
 */
record Reply(
        String id,
        String model,
        Instant created,
        String text,
        List<String> tokens,
        int promptTokens,
        boolean includeUsage,
        long startNanos,
        String finishReason) {

    Reply {
        tokens = List.copyOf(tokens);
    }

    int completionTokens() {
        return tokens.size();
    }
}
