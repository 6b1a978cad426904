package dev.thoughtstream.llm;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.thoughtstream.common.event.Thought;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Turns one thought into reply parts: builds the prompt, streams the model's answer through a
 * {@link StreamingPartSplitter} and hands every part to a {@link PartSink} as soon as it is complete. Knows nothing
 * about Kafka, so the whole answer path can be tested with any {@link StreamingChatModel}.
 *
 * <p>Thread-safe: each call to {@link #generate} gets its own {@link ReplyGeneration}.
 */
public final class ReplyGenerator {
    private final StreamingChatModel model;
    private final PromptBuilder prompts;
    private final int maxPartChars;
    private final String apologyText;
    private final Duration replyTimeout;
    private final ScheduledExecutorService timer;
    private final Clock clock;

    /**
     * @param model        answers the prompt
     * @param prompts      builds the prompt of a thought
     * @param maxPartChars no part is longer
     * @param apologyText  the part sent when the model fails; at most {@code maxPartChars} long
     * @param replyTimeout a generation still running after this long is cancelled
     * @param timer        runs the reply timeouts; not owned
     * @param clock        stamps the parts' {@code createdAtMs}
     */
    public ReplyGenerator(StreamingChatModel model, PromptBuilder prompts, int maxPartChars, String apologyText,
            Duration replyTimeout, ScheduledExecutorService timer, Clock clock) {
        this.model = Objects.requireNonNull(model, "model");
        this.prompts = Objects.requireNonNull(prompts, "prompts");
        if (maxPartChars < 1) {
            throw new IllegalArgumentException("maxPartChars must be >= 1");
        }
        this.maxPartChars = maxPartChars;
        this.apologyText = Objects.requireNonNull(apologyText, "apologyText").strip();
        if (this.apologyText.isEmpty() || this.apologyText.length() > maxPartChars) {
            throw new IllegalArgumentException("apologyText must be 1.." + maxPartChars + " characters");
        }
        this.replyTimeout = Objects.requireNonNull(replyTimeout, "replyTimeout");
        this.timer = Objects.requireNonNull(timer, "timer");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    public static ReplyGenerator from(LlmConfig config, StreamingChatModel model, ScheduledExecutorService timer,
            Clock clock) {
        return new ReplyGenerator(model, new PromptBuilder(config.systemPrompt()), config.maxPartChars(),
                config.apologyText(), config.replyTimeout(), timer, clock);
    }

    /**
     * Starts answering {@code thought}; returns at once. Parts go to {@code sink} in order, the final one with
     * {@code last = true} (unless the generation is cancelled), and {@link ReplyGeneration#result()} completes
     * after the final part was handed over.
     */
    public ReplyGeneration generate(Thought thought, PartSink sink) {
        ReplyGeneration generation = new ReplyGeneration(thought, sink, maxPartChars, apologyText, clock);
        generation.start(model, prompts, timer, replyTimeout);
        return generation;
    }
}
