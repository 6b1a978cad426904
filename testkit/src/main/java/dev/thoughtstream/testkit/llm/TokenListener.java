package dev.thoughtstream.testkit.llm;

import java.time.Instant;
import java.util.List;

/**
 * Told of every token {@link FakeLlmServer} writes to a stream, as it writes it: for a benchmark that needs the
 * model's own timing (when the token that completes a paragraph left the server), which a paced stream on a busy
 * machine does not keep exactly.
 */
@FunctionalInterface
public interface TokenListener {

    /**
     * Token {@code index} of {@code tokens} (the whole reply) has just been written and flushed to the client.
     * Called once per token, in order for each stream: on the stream's handler thread, or with a
     * {@link FakeLlmServer.Builder#pacingTick pacing tick} on the server's one pacing thread, for all streams in
     * turn, once per token of each write (the tokens written together share {@code at}). Must be quick,
     * thread-safe and must not throw.
     *
     * @param request the chat request being answered, as recorded
     * @param at      when the token was flushed, by the server's clock (with a pacing tick: the write that carried it)
     */
    void written(RecordedRequest request, List<String> tokens, int index, Instant at);
}
