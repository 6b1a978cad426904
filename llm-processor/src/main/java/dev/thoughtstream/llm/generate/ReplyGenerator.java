package dev.thoughtstream.llm.generate;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.budget.ProviderBudget;
import io.opentelemetry.context.Context;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Turns one thought into reply parts: builds the prompt, streams the model's answer through a
 * {@link StreamingPartSplitter} and hands every part to a {@link PartSink} as soon as it is complete, with the
 * timeouts and retries of {@link ReplyGeneration}. Knows nothing about Kafka, so the whole answer path can be tested
 * with any {@link StreamingChatModel}.
 *
 * <p>Thread-safe: each call to {@link #generate} gets its own {@link ReplyGeneration}.
 */
public final class ReplyGenerator {
    /** The {@code provider} metric label when the constructor without {@link ReplySettings} is used. */
    static final String UNKNOWN_PROVIDER = "unknown";

    private final StreamingChatModel model;
    private final PromptBuilder prompts;
    private final ReplySettings settings;
    private final RetryPolicy retries;
    private final ScheduledExecutorService timer;
    private final Clock clock;
    private final LlmMetrics metrics;
    private final ProviderBudget budget;
    private final QuotaAlarm quotaAlarm;
    private final StageTracer tracer;
    /** The model's name, for the model-call spans ({@code gen_ai.request.model}). */
    private final String modelName;

    /**
     * @param model    answers the prompt
     * @param prompts  builds the prompt of a thought
     * @param settings part size, apology, timeouts
     * @param retries  how failed calls are retried
     * @param timer    runs the timeouts and the waits before retries (and retries start on it); not owned
     * @param clock    stamps the parts' {@code createdAtMs}; evaluates HTTP-date {@code Retry-After} headers
     * @param metrics  where the {@code llm_*} metrics go
     * @param budget   asked for a permit before every model call (each retry included); not owned
     */
    public ReplyGenerator(
            StreamingChatModel model,
            PromptBuilder prompts,
            ReplySettings settings,
            RetryPolicy retries,
            ScheduledExecutorService timer,
            Clock clock,
            Metrics metrics,
            ProviderBudget budget) {
        this(model, prompts, settings, retries, timer, clock, metrics, budget, StageTracer.noop(), "");
    }

    /**
     * As above, with every model call a span ("chat &lt;model&gt;") in the trace that is current when
     * {@link #generate} is called.
     *
     * @param tracer    records the model calls; {@link StageTracer#noop()} records nothing
     * @param modelName the model's name, on those spans
     */
    public ReplyGenerator(
            StreamingChatModel model,
            PromptBuilder prompts,
            ReplySettings settings,
            RetryPolicy retries,
            ScheduledExecutorService timer,
            Clock clock,
            Metrics metrics,
            ProviderBudget budget,
            StageTracer tracer,
            String modelName) {
        this.tracer = Objects.requireNonNull(tracer, "tracer");
        this.modelName = Objects.requireNonNull(modelName, "modelName");
        this.model = Objects.requireNonNull(model, "model");
        this.prompts = Objects.requireNonNull(prompts, "prompts");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.retries = Objects.requireNonNull(retries, "retries");
        this.timer = Objects.requireNonNull(timer, "timer");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.metrics = new LlmMetrics(Objects.requireNonNull(metrics, "metrics"), settings.provider());
        this.budget = Objects.requireNonNull(budget, "budget");
        this.quotaAlarm = new QuotaAlarm(clock);
    }

    /** Without a provider budget: every call starts at once. */
    public ReplyGenerator(
            StreamingChatModel model,
            PromptBuilder prompts,
            ReplySettings settings,
            RetryPolicy retries,
            ScheduledExecutorService timer,
            Clock clock,
            Metrics metrics) {
        this(model, prompts, settings, retries, timer, clock, metrics, ProviderBudget.unlimited());
    }

    /**
     * The generator as it was before first-token and idle timeouts and retries: one model call, only the reply
     * timeout, metrics into a fresh private {@link Metrics}.
     *
     * @param model        answers the prompt
     * @param prompts      builds the prompt of a thought
     * @param maxPartChars no part is longer
     * @param apologyText  the part sent when the model fails; at most {@code maxPartChars} long
     * @param replyTimeout a generation still running after this long is cancelled
     * @param timer        runs the reply timeouts; not owned
     * @param clock        stamps the parts' {@code createdAtMs}
     */
    public ReplyGenerator(
            StreamingChatModel model,
            PromptBuilder prompts,
            int maxPartChars,
            String apologyText,
            Duration replyTimeout,
            ScheduledExecutorService timer,
            Clock clock) {
        this(
                model,
                prompts,
                new ReplySettings(
                        UNKNOWN_PROVIDER,
                        maxPartChars,
                        apologyText,
                        replyTimeout,
                        Duration.ZERO,
                        Duration.ZERO,
                        Optional.empty()),
                RetryPolicy.none(),
                timer,
                clock,
                new Metrics());
    }

    /** Everything from configuration, metrics into {@code metrics}, retries with random jitter. */
    public static ReplyGenerator from(
            LlmConfig config,
            StreamingChatModel model,
            ScheduledExecutorService timer,
            Clock clock,
            Metrics metrics,
            ProviderBudget budget) {
        return from(config, model, timer, clock, metrics, budget, StageTracer.noop());
    }

    /** As above, the model calls traced by {@code tracer}. */
    public static ReplyGenerator from(
            LlmConfig config,
            StreamingChatModel model,
            ScheduledExecutorService timer,
            Clock clock,
            Metrics metrics,
            ProviderBudget budget,
            StageTracer tracer) {
        return new ReplyGenerator(
                model,
                new PromptBuilder(config.replies().systemPrompt()),
                ReplySettings.from(config),
                RetryPolicy.from(config),
                timer,
                clock,
                metrics,
                budget,
                tracer,
                config.model().name());
    }

    /** The tracer of the model calls; the handler of a thought traces with the same. */
    public StageTracer tracer() {
        return tracer;
    }

    /** {@link #from(LlmConfig, StreamingChatModel, ScheduledExecutorService, Clock, Metrics, ProviderBudget)} unlimited. */
    public static ReplyGenerator from(
            LlmConfig config, StreamingChatModel model, ScheduledExecutorService timer, Clock clock, Metrics metrics) {
        return from(config, model, timer, clock, metrics, ProviderBudget.unlimited());
    }

    /** {@link #from(LlmConfig, StreamingChatModel, ScheduledExecutorService, Clock, Metrics)} with a fresh Metrics. */
    public static ReplyGenerator from(
            LlmConfig config, StreamingChatModel model, ScheduledExecutorService timer, Clock clock) {
        return from(config, model, timer, clock, new Metrics());
    }

    /**
     * Starts answering {@code thought}; returns at once. Parts go to {@code sink} in order, the final one with
     * {@code last = true} (unless the generation is cancelled), and {@link ReplyGeneration#result()} completes
     * after the final part was handed over; see {@link ReplyResult} for the outcomes.
     */
    public ReplyGeneration generate(Thought thought, PartSink sink) {
        return generate(
                thought,
                sink,
                ReplyPart.replyIdFor(thought.thoughtId()) + "@"
                        + UUID.randomUUID().toString().substring(0, 8));
    }

    /**
     * {@link #generate(Thought, PartSink)}, naming the model calls to the provider budget {@code <callIdPrefix>/<n>}
     * (n = 1, 2, ... per retry); the prefix must be unique across processes, like a handling id. The model calls'
     * spans are children of the span current on the calling thread.
     */
    public ReplyGeneration generate(Thought thought, PartSink sink, String callIdPrefix) {
        ReplyGeneration generation = new ReplyGeneration(
                thought,
                sink,
                model,
                prompts,
                settings,
                retries,
                timer,
                clock,
                metrics,
                budget,
                quotaAlarm,
                Objects.requireNonNull(callIdPrefix, "callIdPrefix"),
                new ModelCallSpans(tracer, settings.provider(), modelName, Context.current()));
        generation.start();
        return generation;
    }
}
