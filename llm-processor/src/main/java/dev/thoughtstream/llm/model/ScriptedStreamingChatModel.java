package dev.thoughtstream.llm.model;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import dev.langchain4j.model.output.FinishReason;
import dev.thoughtstream.llm.LlmConfig;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An offline, deterministic {@link StreamingChatModel}: streams {@link ScriptedAnswers#answerTo(String)} for the last
 * user message token by token, then completes with the whole text, finish reason STOP and a token usage. The deltas
 * concatenate to what {@link ScriptedChatModel} answers.
 *
 * <p>Pacing runs on the injected scheduler: the first token after the latency, each further token one interval later,
 * every token a short task of its own (no thread sleeps while a stream is slow). With 0 tokens per second the whole
 * answer is delivered by one task. The {@link StreamingHandle} in every {@link PartialResponseContext} works: after
 * {@code cancel()} no further token and no completion is delivered (unlike the HTTP models, no {@code onError}
 * follows a cancel either).
 */
public final class ScriptedStreamingChatModel implements StreamingChatModel {
    private static final Logger LOG = LoggerFactory.getLogger(ScriptedStreamingChatModel.class);

    private final Duration latency;
    private final long tokenIntervalNanos;
    private final ScheduledExecutorService scheduler;

    /**
     * @param latency         delay before the first token; zero for none
     * @param tokensPerSecond pacing; 0 = every token at once
     * @param scheduler       runs the token tasks; not owned, not shut down here
     */
    public ScriptedStreamingChatModel(Duration latency, int tokensPerSecond, ScheduledExecutorService scheduler) {
        this.latency = Objects.requireNonNull(latency, "latency");
        if (tokensPerSecond < 0) {
            throw new IllegalArgumentException("tokensPerSecond must be >= 0");
        }
        this.tokenIntervalNanos = tokensPerSecond == 0 ? 0 : TimeUnit.SECONDS.toNanos(1) / tokensPerSecond;
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    }

    @Override
    public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
        String answer = ScriptedAnswers.answerTo(ScriptedAnswers.lastUserText(request.messages()));
        List<String> tokens = ScriptedAnswers.tokens(answer);
        ChatResponse complete = ChatResponse.builder()
                .aiMessage(AiMessage.from(answer))
                .finishReason(FinishReason.STOP)
                .tokenUsage(ScriptedAnswers.usage(request.messages(), tokens.size()))
                .modelName(LlmConfig.SCRIPTED_MODEL)
                .build();
        Stream stream = new Stream(tokens, complete, handler);
        try {
            stream.schedule(latency.toNanos());
        } catch (RejectedExecutionException e) {
            // The HTTP models report every failure through the handler; so does this one.
            handler.onError(e);
        }
    }

    /** One answer being streamed; also its own handle. */
    private final class Stream implements StreamingHandle, Runnable {
        private final List<String> tokens;
        private final ChatResponse complete;
        private final StreamingChatResponseHandler handler;
        private final PartialResponseContext context = new PartialResponseContext(this);
        private final AtomicBoolean cancelled = new AtomicBoolean();
        /** Only the scheduler thread running this stream's current task writes it. */
        private int next;

        private volatile Future<?> pendingTask;

        Stream(List<String> tokens, ChatResponse complete, StreamingChatResponseHandler handler) {
            this.tokens = tokens;
            this.complete = complete;
            this.handler = handler;
        }

        void schedule(long delayNanos) {
            pendingTask = scheduler.schedule(this, delayNanos, TimeUnit.NANOSECONDS);
        }

        @Override
        public void run() {
            try {
                do {
                    if (cancelled.get()) {
                        return;
                    }
                    if (next == tokens.size()) {
                        handler.onCompleteResponse(complete);
                        return;
                    }
                    handler.onPartialResponse(new PartialResponse(tokens.get(next++)), context);
                } while (tokenIntervalNanos == 0);
                if (!cancelled.get()) {
                    schedule(tokenIntervalNanos);
                }
            } catch (RejectedExecutionException e) {
                LOG.debug("scripted stream stopped: scheduler shut down");
                reportError(e);
            } catch (RuntimeException e) {
                // A handler that throws ends the stream, as LangChain4j's own models do it.
                LOG.warn("streaming handler failed; ending the scripted stream", e);
                reportError(e);
            }
        }

        private void reportError(Throwable error) {
            try {
                handler.onError(error);
            } catch (RuntimeException e) {
                LOG.warn("streaming handler's onError failed too", e);
            }
        }

        @Override
        public void cancel() {
            if (cancelled.compareAndSet(false, true)) {
                Future<?> task = pendingTask;
                if (task != null) {
                    task.cancel(false);
                }
            }
        }

        @Override
        public boolean isCancelled() {
            return cancelled.get();
        }
    }
}
