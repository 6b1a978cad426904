package dev.thoughtstream.launcher;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.CompleteToolCall;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.PartialThinking;
import dev.langchain4j.model.chat.response.PartialThinkingContext;
import dev.langchain4j.model.chat.response.PartialToolCall;
import dev.langchain4j.model.chat.response.PartialToolCallContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.TokenUsage;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.generate.ReplyGeneration;
import dev.thoughtstream.llm.generate.ReplyGenerator;
import dev.thoughtstream.llm.generate.ReplyResult;
import dev.thoughtstream.llm.model.ModelFactory;
import dev.thoughtstream.ops.replay.NewReply;
import dev.thoughtstream.ops.replay.ReplayAnswerer;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The replay's answerer: the llm-processor's own reply generation ({@link ReplyGenerator}: its prompt, part
 * splitting, timeouts, retries and apology) on the model {@link ModelFactory} builds from the configuration, exactly
 * as the service builds it. Nothing is claimed, committed or sent: the parts only come back to the replay. No provider
 * budget is drawn on (one thought at a time is gentle on a provider's limits, and the replay holds no Redis).
 */
final class LlmReplayAnswerer implements ReplayAnswerer, AutoCloseable {
    /** Beyond the reply timeout, how long to wait for a generation to report its end. */
    private static final Duration GRACE = Duration.ofSeconds(10);

    private final LlmConfig config;
    private final Clock clock;
    private final ScheduledThreadPoolExecutor scheduler;
    private final UsageCounting model;
    private final ReplyGenerator generator;

    LlmReplayAnswerer(LlmConfig config, Clock clock) {
        this.config = config;
        this.clock = clock;
        this.scheduler = new ScheduledThreadPoolExecutor(2, NamedThreads.factory("replay-llm", true));
        scheduler.setRemoveOnCancelPolicy(true);
        this.model = new UsageCounting(ModelFactory.streaming(config, scheduler));
        this.generator = ReplyGenerator.from(config, model, scheduler, clock);
    }

    /** The llm-processor's configuration read from {@code config}: the replay's overrides already applied. */
    static LlmReplayAnswerer from(Config config, Clock clock) {
        return new LlmReplayAnswerer(LlmConfig.from(config), clock);
    }

    LlmConfig config() {
        return config;
    }

    @Override
    public NewReply answer(Thought thought) {
        List<ReplyPart> parts = new ArrayList<>();
        long start = clock.millis();
        Long[] firstPart = {null};
        model.reset();
        // Called in seq order and never concurrently for one generation (PartSink's contract).
        ReplyGeneration g = generator.generate(
                thought,
                part -> {
                    synchronized (parts) {
                        if (firstPart[0] == null) {
                            firstPart[0] = clock.millis() - start;
                        }
                        parts.add(part);
                    }
                },
                "replay/" + thought.thoughtId());
        ReplyResult result;
        try {
            result = g.result().get(config.replies().timeout().plus(GRACE).toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            g.cancel();
            return NewReply.failed(
                    "no end of the generation within the reply timeout and " + GRACE, clock.millis() - start);
        } catch (ExecutionException e) {
            return NewReply.failed(
                    e.getCause().getClass().getSimpleName() + ": "
                            + e.getCause().getMessage(),
                    clock.millis() - start);
        } catch (InterruptedException e) {
            g.cancel();
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while replaying thought " + thought.thoughtId(), e);
        }
        long latency = clock.millis() - start;
        TokenUsage usage = model.usage();
        synchronized (parts) {
            return new NewReply(
                    result.outcome().name(),
                    parts,
                    Optional.ofNullable(firstPart[0]),
                    latency,
                    Optional.ofNullable(usage == null ? null : usage.inputTokenCount())
                            .map(Integer::longValue),
                    Optional.ofNullable(usage == null ? null : usage.outputTokenCount())
                            .map(Integer::longValue),
                    result.error());
        }
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
    }

    /**
     * The model, adding up the token usage its calls report (a retried thought makes several calls). The replay
     * answers one thought at a time, so the sum since {@link #reset()} is the current thought's.
     */
    private static final class UsageCounting implements StreamingChatModel {
        private final StreamingChatModel delegate;
        private TokenUsage usage;

        UsageCounting(StreamingChatModel delegate) {
            this.delegate = delegate;
        }

        synchronized void reset() {
            usage = null;
        }

        synchronized TokenUsage usage() {
            return usage;
        }

        private synchronized void add(TokenUsage more) {
            if (more != null) {
                usage = usage == null ? more : usage.add(more);
            }
        }

        @Override
        public void chat(ChatRequest request, StreamingChatResponseHandler handler) {
            delegate.chat(request, new StreamingChatResponseHandler() {
                @Override
                public void onPartialResponse(String partialResponse) {
                    handler.onPartialResponse(partialResponse);
                }

                @Override
                public void onPartialResponse(PartialResponse partialResponse, PartialResponseContext context) {
                    // The context carries the stream's handle, with which the generation stops a stream.
                    handler.onPartialResponse(partialResponse, context);
                }

                @Override
                public void onPartialThinking(PartialThinking partialThinking) {
                    handler.onPartialThinking(partialThinking);
                }

                @Override
                public void onPartialThinking(PartialThinking partialThinking, PartialThinkingContext context) {
                    handler.onPartialThinking(partialThinking, context);
                }

                @Override
                public void onPartialToolCall(PartialToolCall partialToolCall) {
                    handler.onPartialToolCall(partialToolCall);
                }

                @Override
                public void onPartialToolCall(PartialToolCall partialToolCall, PartialToolCallContext context) {
                    handler.onPartialToolCall(partialToolCall, context);
                }

                @Override
                public void onCompleteToolCall(CompleteToolCall completeToolCall) {
                    handler.onCompleteToolCall(completeToolCall);
                }

                @Override
                public void onUnmappedRawEvent(Object rawEvent) {
                    handler.onUnmappedRawEvent(rawEvent);
                }

                @Override
                public void onCompleteResponse(ChatResponse completeResponse) {
                    if (completeResponse != null) {
                        add(completeResponse.tokenUsage());
                    }
                    handler.onCompleteResponse(completeResponse);
                }

                @Override
                public void onError(Throwable error) {
                    handler.onError(error);
                }
            });
        }
    }
}
