package dev.thoughtstream.llm.generate;

import dev.thoughtstream.common.event.ReplyPart;

/**
 * Where a {@link ReplyGeneration} delivers its parts: called once per part, in {@code seq} order, never concurrently
 * for one generation (possibly from a model's callback thread). An exception ends the generation with that failure.
 */
@FunctionalInterface
public interface PartSink {
    void send(ReplyPart part);
}
