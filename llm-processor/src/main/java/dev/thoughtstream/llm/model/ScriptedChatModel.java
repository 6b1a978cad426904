package dev.thoughtstream.llm.model;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.thoughtstream.llm.LlmConfig;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An offline, deterministic {@link ChatModel}: answers with {@link ScriptedAnswers#answerTo(String)} for the last
 * user message. The call takes as long as the streaming variant would take to deliver the whole answer (latency
 * plus tokens at the configured rate); the wait is a timer on the injected scheduler, not a sleep.
 */
public final class ScriptedChatModel implements ChatModel {
    private final Duration latency;
    private final int tokensPerSecond;
    private final ScheduledExecutorService scheduler;

    /**
     * @param latency         delay before the (virtual) first token; zero for none
     * @param tokensPerSecond pacing of the (virtual) tokens; 0 = instant
     * @param scheduler       times the wait; not owned, not shut down here
     */
    public ScriptedChatModel(Duration latency, int tokensPerSecond, ScheduledExecutorService scheduler) {
        this.latency = Objects.requireNonNull(latency, "latency");
        if (tokensPerSecond < 0) {
            throw new IllegalArgumentException("tokensPerSecond must be >= 0");
        }
        this.tokensPerSecond = tokensPerSecond;
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    }

    @Override
    public ChatResponse doChat(ChatRequest request) {
        String answer = ScriptedAnswers.answerTo(ScriptedAnswers.lastUserText(request.messages()));
        List<String> tokens = ScriptedAnswers.tokens(answer);
        ChatResponse response = ChatResponse.builder()
                .aiMessage(AiMessage.from(answer))
                .finishReason(FinishReason.STOP)
                .tokenUsage(ScriptedAnswers.usage(request.messages(), tokens.size()))
                .modelName(LlmConfig.SCRIPTED_MODEL)
                .build();
        long waitNanos = latency.toNanos()
                + (tokensPerSecond == 0 ? 0 : tokens.size() * TimeUnit.SECONDS.toNanos(1) / tokensPerSecond);
        if (waitNanos <= 0) {
            return response;
        }
        try {
            return scheduler
                    .schedule(() -> response, waitNanos, TimeUnit.NANOSECONDS)
                    .get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while the scripted model was answering", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("scripted model failed", e.getCause());
        }
    }
}
