package dev.thoughtstream.llm.generate;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.logging.LogContext;
import dev.thoughtstream.llm.budget.ProviderBudget;
import dev.thoughtstream.llm.generate.LlmMetrics.CallOutcome;
import dev.thoughtstream.llm.generate.ReplyResult.Outcome;
import dev.thoughtstream.llm.model.CallAbort;
import dev.thoughtstream.llm.model.ErrorKind;
import dev.thoughtstream.llm.model.ModelError;
import io.opentelemetry.api.trace.Span;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thought being answered (made by {@link ReplyGenerator#generate}): one or more {@link ModelCall model calls}, their
 * timeouts, and the parts they produce.
 *
 * <ul>
 *   <li>Parts leave as soon as the {@link StreamingPartSplitter} completes them; the final part is what
 *       {@link StreamingPartSplitter#finish()} returns, with {@code last = true}.</li>
 *   <li>Per call, a first-token timeout and an idle watchdog abort it (through its {@link StreamingHandle}, or before
 *       the first token through its {@link CallAbort}); the reply timeout bounds the whole generation.</li>
 *   <li>A failed call is retried on the timer ({@link RetryPolicy}) only while no part has left: after that, a
 *       second call would repeat or contradict bubbles already on their way.</li>
 *   <li>It ends in one of the {@link ReplyResult} outcomes; a failure ends with the apology as the last part.</li>
 * </ul>
 * The whole story (timeouts, retries, endings): docs/llm-processor.md, "Parts, and when the first bubble leaves",
 * "Timeouts", "Retries" and "Outcomes".
 *
 * <p>Thread-safe: model callbacks, timers and {@link #cancel()} may race; one lock orders them, and the sink is called
 * under it, so parts leave in order.
 */
public final class ReplyGeneration {
    private static final Logger LOG = LoggerFactory.getLogger(ReplyGeneration.class);

    private final Thought thought;
    private final String replyId;
    private final PartSink sink;
    private final StreamingChatModel model;
    private final PromptBuilder prompts;
    private final ReplySettings settings;
    private final RetryPolicy retries;
    private final ScheduledExecutorService timer;
    private final Clock clock;
    private final LlmMetrics metrics;
    private final ProviderBudget budget;
    private final QuotaAlarm quotaAlarm;
    /** Names this generation's model calls to the budget: {@code <prefix>/<call number>}. */
    private final String callIdPrefix;
    /** Each model call's span, in the trace of the thought being answered. */
    private final ModelCallSpans spans;

    private final CompletableFuture<ReplyResult> result = new CompletableFuture<>();
    private final Object lock = new Object();

    // Guarded by lock.
    private boolean done;
    private int nextSeq;
    private int chars;
    private int calls;
    private ModelCall current;
    private ModelError lastError;
    private long deadlineNanos;
    private ScheduledFuture<?> replyTimer;
    private ScheduledFuture<?> retryTimer;

    ReplyGeneration(
            Thought thought,
            PartSink sink,
            StreamingChatModel model,
            PromptBuilder prompts,
            ReplySettings settings,
            RetryPolicy retries,
            ScheduledExecutorService timer,
            Clock clock,
            LlmMetrics metrics,
            ProviderBudget budget,
            QuotaAlarm quotaAlarm,
            String callIdPrefix,
            ModelCallSpans spans) {
        this.spans = spans;
        this.quotaAlarm = quotaAlarm;
        this.thought = thought;
        this.replyId = ReplyPart.replyIdFor(thought.thoughtId());
        this.sink = sink;
        this.model = model;
        this.prompts = prompts;
        this.settings = settings;
        this.retries = retries;
        this.timer = timer;
        this.clock = clock;
        this.metrics = metrics;
        this.budget = budget;
        this.callIdPrefix = callIdPrefix;
    }

    public String thoughtId() {
        return thought.thoughtId();
    }

    public String replyId() {
        return replyId;
    }

    /** Completes when the generation has ended and its parts were handed to the sink; exceptionally if the sink failed. */
    public CompletableFuture<ReplyResult> result() {
        return result;
    }

    /**
     * Stops the generation: no further part is sent (the reply stays without a last part), a pending retry is
     * dropped and the model's stream is closed. Returns false when it had already ended.
     */
    public boolean cancel() {
        ReplyResult ended;
        synchronized (lock) {
            if (done) {
                return false;
            }
            ModelCall running = current;
            if (running != null && !running.ended) {
                endCall(running, CallOutcome.CANCELLED, running.deltas);
            }
            ended = end(Outcome.CANCELLED, Optional.empty());
        }
        metrics.cancellation();
        LOG.info(
                "cancelled reply {} of chat {} thought {} after {} parts",
                replyId,
                thought.chatId(),
                thought.thoughtId(),
                ended.parts());
        result.complete(ended);
        return true;
    }

    void start() {
        synchronized (lock) {
            deadlineNanos = System.nanoTime() + settings.replyTimeout().toNanos();
            replyTimer = schedule(this::onReplyTimeout, settings.replyTimeout());
        }
        launch();
    }

    /**
     * Starts the next call (on the caller's thread for the first one, on the timer for retries): first a permit from
     * the provider budget, then the request. The wait for the permit holds no thread; it counts inside the reply
     * timeout, and {@link #cancel()} (a newer message of the chat, shutdown) withdraws it.
     */
    private void launch() {
        ModelCall call;
        ChatRequest request;
        CompletableFuture<ProviderBudget.Permit> permit;
        synchronized (lock) {
            if (done) {
                return;
            }
            retryTimer = null;
            calls++;
            call = new ModelCall(calls, new StreamingPartSplitter(settings.maxPartChars()));
            current = call;
        }
        try {
            request = prompts.request(thought);
            call.promptTokens = PromptBuilder.estimatedPromptTokens(request);
            permit = budget.acquire(
                    callIdPrefix + "/" + call.number, call.promptTokens + PromptBuilder.ANSWER_TOKEN_ALLOWANCE);
        } catch (RuntimeException e) {
            onError(call, e);
            return;
        }
        synchronized (lock) {
            if (call.ended) {
                // Cancelled, or timed out, while asking: the request is withdrawn (a permit granted anyway goes back).
                permit.cancel(false);
            } else if (!permit.isDone()) {
                call.permitRequest = permit;
                LOG.debug(
                        "reply {} of chat {} thought {}: model call {} waits for the provider budget",
                        replyId,
                        thought.chatId(),
                        thought.thoughtId(),
                        call.number);
            }
        }
        if (permit.isDone()) {
            permitted(call, request, permit);
        } else {
            permit.whenCompleteAsync(
                    (granted, error) -> {
                        try (LogContext ignored = logContext()) {
                            permitted(call, request, permit);
                        }
                    },
                    timer);
        }
    }

    /** The budget answered: the request starts now (the first-token timeout runs from here), unless the call ended. */
    private void permitted(ModelCall call, ChatRequest request, CompletableFuture<ProviderBudget.Permit> answer) {
        ProviderBudget.Permit permit;
        try {
            permit = answer.join();
        } catch (CancellationException e) {
            return; // withdrawn because the call ended
        } catch (CompletionException e) {
            onError(call, new IllegalStateException("the provider budget failed: " + e.getCause(), e.getCause()));
            return;
        }
        synchronized (lock) {
            call.permitRequest = null;
            if (call.ended) {
                permit.release(0);
                return;
            }
            call.permit = permit;
            call.startNanos = System.nanoTime();
            call.requested = true;
            call.span = spans.start(call.number, replyId, thought.chatId(), call.promptTokens);
            if (!settings.firstTokenTimeout().isZero()) {
                call.watchdog = schedule(() -> onFirstTokenTimeout(call), settings.firstTokenTimeout());
            }
        }
        LOG.debug(
                "reply {} of chat {} thought {}: model call {}",
                replyId,
                thought.chatId(),
                thought.thoughtId(),
                call.number);
        try {
            call.abort.bindDuring(() -> model.chat(request, call));
        } catch (RuntimeException e) {
            // Some models fail before streaming starts; it is the same failure as one reported via onError.
            onError(call, e);
        }
    }

    private void onToken(ModelCall call, String text, StreamingHandle handle) {
        Runnable completion;
        synchronized (lock) {
            if (handle != null && call.handle == null) {
                call.handle = handle;
            }
            if (call.ended) {
                // The call ended before its stream could be stopped, or the stop has not reached it yet.
                stopStream(call);
                return;
            }
            if (text == null || text.isEmpty()) {
                return;
            }
            long now = System.nanoTime();
            call.deltas++;
            call.lastTokenNanos = now;
            if (call.deltas == 1) {
                metrics.firstToken(Duration.ofNanos(now - call.startNanos));
                ModelCallSpans.firstToken(call.span, Duration.ofNanos(now - call.startNanos));
                cancel(call.watchdog);
                call.watchdog = settings.idleTimeout().isZero()
                        ? null
                        : schedule(() -> onIdleCheck(call), settings.idleTimeout());
            }
            try {
                call.streamed.append(text);
                for (String part : call.splitter.feed(text)) {
                    send(part, false);
                }
                return;
            } catch (RuntimeException e) {
                completion = sinkFailed(e);
            }
        }
        completion.run();
    }

    private void onComplete(ModelCall call, ChatResponse response) {
        Runnable completion;
        synchronized (lock) {
            if (call.ended) {
                return;
            }
            try {
                if (response == null || response.finishReason() == null) {
                    // An error inside the stream ends it without a finish reason (LangChain4j reports OpenAI's
                    // error event this way): what arrived is part of a failed generation, not a short answer.
                    completion = callFailed(
                            call,
                            new ModelError(
                                    ErrorKind.STREAM_ERROR,
                                    "stream_error: the stream ended without a finish reason after "
                                            + call.streamed.length()
                                            + " characters (an error inside the stream)",
                                    Optional.empty()));
                } else {
                    completion = answered(call, response);
                }
            } catch (RuntimeException e) {
                completion = sinkFailed(e);
            }
        }
        completion.run();
    }

    /** Under the lock: the stream ended with a finish reason; send what is left and end the reply. */
    private Runnable answered(ModelCall call, ChatResponse response) {
        String full = response.aiMessage() == null ? null : response.aiMessage().text();
        // Some providers stream little or nothing and put the answer in the final response only.
        String streamed = call.streamed.toString();
        if (full != null && full.length() > streamed.length() && full.startsWith(streamed)) {
            String rest = full.substring(streamed.length());
            call.streamed.append(rest);
            for (String part : call.splitter.feed(rest)) {
                send(part, false);
            }
        }
        FinishReason reason = response.finishReason();
        boolean normal = reason == FinishReason.STOP;
        call.usedTokens = usedTokens(call, response);
        call.inputTokens = inputTokens(response);
        endCall(call, normal ? CallOutcome.OK : CallOutcome.TRUNCATED, outputTokens(call, response));
        if (!normal) {
            LOG.warn(
                    "reply {} of chat {} thought {}: stream ended with finish reason {}; answering with the {}"
                            + " characters that arrived",
                    replyId,
                    thought.chatId(),
                    thought.thoughtId(),
                    reason,
                    call.streamed.length());
        }
        return finishWithWhatArrived(call, normal ? Outcome.ANSWERED : Outcome.TRUNCATED);
    }

    private void onError(ModelCall call, Throwable error) {
        Runnable completion;
        synchronized (lock) {
            if (call.ended) {
                LOG.debug(
                        "reply {} of chat {} thought {}: ignoring an error of ended model call {}: {}",
                        replyId,
                        thought.chatId(),
                        thought.thoughtId(),
                        call.number,
                        error.getClass().getSimpleName());
                return;
            }
            completion = callFailed(call, ModelError.of(error, settings.apiKey(), clock));
        }
        completion.run();
    }

    private void onFirstTokenTimeout(ModelCall call) {
        Runnable completion;
        synchronized (lock) {
            if (call.ended || call.deltas > 0) {
                return;
            }
            completion = callFailed(
                    call,
                    ModelError.timeout(
                            ErrorKind.FIRST_TOKEN_TIMEOUT,
                            "no first token within "
                                    + settings.firstTokenTimeout().toMillis() + " ms"));
        }
        completion.run();
    }

    /** Runs once per idle period: fires when the last token is that old, else checks again when it will be. */
    private void onIdleCheck(ModelCall call) {
        Runnable completion;
        synchronized (lock) {
            if (call.ended) {
                return;
            }
            long idleNanos = settings.idleTimeout().toNanos();
            long silentNanos = System.nanoTime() - call.lastTokenNanos;
            if (silentNanos < idleNanos) {
                call.watchdog = schedule(() -> onIdleCheck(call), Duration.ofNanos(idleNanos - silentNanos));
                return;
            }
            completion = callFailed(
                    call,
                    ModelError.timeout(
                            ErrorKind.IDLE_TIMEOUT,
                            "no token for " + settings.idleTimeout().toMillis() + " ms after " + call.deltas
                                    + " tokens"));
        }
        completion.run();
    }

    private void onReplyTimeout() {
        Runnable completion;
        synchronized (lock) {
            if (done) {
                return;
            }
            ModelCall running = current;
            boolean streaming = running != null && !running.ended;
            LOG.warn(
                    "reply {} of chat {} thought {} timed out after {} ms ({} model calls, {} parts sent); {}",
                    replyId,
                    thought.chatId(),
                    thought.thoughtId(),
                    settings.replyTimeout().toMillis(),
                    calls,
                    nextSeq,
                    !streaming
                            ? "no call running"
                            : running.requested ? "cancelling the model" : "still waiting for the provider budget");
            try {
                if (streaming) {
                    endCall(running, CallOutcome.TIMEOUT, running.deltas);
                    List<String> rest = running.splitter.finish();
                    if (!rest.isEmpty()) {
                        sendFinal(rest);
                        ReplyResult ended = end(Outcome.TIMED_OUT, Optional.empty());
                        completion = () -> result.complete(ended);
                    } else {
                        completion = failWithApology(new ModelError(
                                ErrorKind.OTHER,
                                "reply_timeout: no answer within "
                                        + settings.replyTimeout().toMillis() + " ms",
                                Optional.empty()));
                    }
                } else {
                    String last = lastError == null ? "" : "; last error: " + lastError.description();
                    completion = failWithApology(new ModelError(
                            ErrorKind.OTHER,
                            "reply_timeout: no answer within "
                                    + settings.replyTimeout().toMillis() + " ms" + last,
                            Optional.empty()));
                }
            } catch (RuntimeException e) {
                completion = sinkFailed(e);
            }
        }
        completion.run();
    }

    /** Under the lock: the call failed; retry it or end the reply with the apology. */
    private Runnable callFailed(ModelCall call, ModelError reported) {
        ModelError error = reported.at(settings.endpoint());
        metrics.error(error.kind());
        if (error.kind() == ErrorKind.QUOTA_EXHAUSTED) {
            quotaAlarm.raise(settings.provider(), error.description());
        }
        if (error.refusedByProvider()) {
            call.usedTokens = 0;
        }
        if (error.kind() == ErrorKind.RATE_LIMITED) {
            // Every instance holds back, not only this generation: the limit is the API key's.
            budget.rateLimited(error.retryAfter().orElse(retries.firstBackoff()));
        }
        call.errorKind = error.kind().label();
        endCall(call, CallOutcome.ERROR, call.deltas);
        lastError = error;
        String why = retryRefusal(error);
        if (why == null) {
            Duration wait = retries.delayBefore(calls, error.retryAfter());
            if (System.nanoTime() + wait.toNanos() >= deadlineNanos) {
                why = "a retry in " + wait.toMillis() + " ms would start after the reply timeout";
            } else {
                ScheduledFuture<?> retry = schedule(this::launch, wait);
                if (retry != null) {
                    retryTimer = retry;
                    metrics.retry(error.kind());
                    LOG.warn(
                            "reply {} of chat {} thought {}: model call {} of {} failed ({}); retrying in {} ms",
                            replyId,
                            thought.chatId(),
                            thought.thoughtId(),
                            call.number,
                            retries.maxCalls(),
                            error.description(),
                            wait.toMillis());
                    return () -> {};
                }
                why = "the timer is shut down";
            }
        }
        LOG.warn(
                "reply {} of chat {} thought {}: model call {} failed ({}); not retried: {}; sending the apology after"
                        + " {} parts",
                replyId,
                thought.chatId(),
                thought.thoughtId(),
                call.number,
                error.description(),
                why,
                nextSeq);
        try {
            return failWithApology(error);
        } catch (RuntimeException e) {
            return sinkFailed(e);
        }
    }

    /** Under the lock: why {@code error} is not retried, or {@code null} if it may be. */
    private String retryRefusal(ModelError error) {
        if (!error.kind().retryable()) {
            return error.kind().label() + " errors are not retried";
        }
        if (nextSeq > 0) {
            return nextSeq + " parts were already sent";
        }
        if (!retries.allowsAnotherAfter(calls)) {
            return "that was the last of " + retries.maxCalls() + " calls";
        }
        return null;
    }

    /** Under the lock: the model finished; send the final part(s), or the apology when no text arrived at all. */
    private Runnable finishWithWhatArrived(ModelCall call, Outcome outcome) {
        List<String> rest = call.splitter.finish();
        Outcome ending = outcome;
        if (!rest.isEmpty()) {
            sendFinal(rest);
        } else {
            if (nextSeq > 0) {
                // Cannot happen (the splitter holds text back while it has emitted a part), but a reply must end.
                LOG.error(
                        "reply {} of chat {} thought {}: {} parts sent but no final part; closing with the apology",
                        replyId,
                        thought.chatId(),
                        thought.thoughtId(),
                        nextSeq);
            } else {
                LOG.warn(
                        "reply {} of chat {} thought {}: the model produced no text ({}); sending the apology",
                        replyId,
                        thought.chatId(),
                        thought.thoughtId(),
                        outcome);
            }
            send(settings.apologyText(), true);
            ending = Outcome.APOLOGISED;
        }
        ReplyResult ended = end(ending, Optional.empty());
        return () -> result.complete(ended);
    }

    /** Under the lock: the apology as the last part, and the reply FAILED with {@code error}. */
    private Runnable failWithApology(ModelError error) {
        send(settings.apologyText(), true);
        ReplyResult ended =
                end(Outcome.FAILED, Optional.of(error.at(settings.endpoint()).description()));
        return () -> result.complete(ended);
    }

    /** Under the lock: the sink failed; stop everything and fail the result. */
    private Runnable sinkFailed(RuntimeException e) {
        if (!done) {
            ModelCall running = current;
            if (running != null && !running.ended) {
                endCall(running, CallOutcome.CANCELLED, running.deltas);
            }
            end(Outcome.CANCELLED, Optional.empty());
        }
        LOG.error(
                "reply {} of chat {} thought {}: could not hand over a part",
                replyId,
                thought.chatId(),
                thought.thoughtId(),
                e);
        return () -> result.completeExceptionally(e);
    }

    private void sendFinal(List<String> parts) {
        for (int i = 0; i < parts.size(); i++) {
            send(parts.get(i), i == parts.size() - 1);
        }
    }

    private void send(String text, boolean last) {
        ReplyPart part = new ReplyPart(
                ReplyPart.SCHEMA_VERSION,
                replyId,
                thought.thoughtId(),
                thought.chatId(),
                thought.lastMessageId(),
                nextSeq,
                last,
                text,
                clock.millis(),
                thought.lastWrittenAtMs());
        sink.send(part);
        nextSeq++;
        chars += text.length();
        LOG.debug("reply {} part {} ({} chars, last={}) handed over", replyId, part.seq(), text.length(), last);
    }

    /**
     * Under the lock: marks the call ended, then stops its watchdog and its stream, and counts it. {@code ended}
     * is set first because stopping a stream may call {@code onError} back on this very thread.
     */
    private void endCall(ModelCall call, CallOutcome outcome, long outputTokens) {
        call.ended = true;
        cancel(call.watchdog);
        if (call.permitRequest != null) {
            // Still waiting for the budget: the request is withdrawn, no model was called.
            call.permitRequest.cancel(false);
            call.permitRequest = null;
        }
        if (!call.requested) {
            return;
        }
        if (outcome != CallOutcome.OK && outcome != CallOutcome.TRUNCATED) {
            stopStream(call);
        }
        metrics.callEnded(outcome, Duration.ofNanos(System.nanoTime() - call.startNanos), outputTokens);
        ModelCallSpans.end(call.span, outcome.label, outputTokens, call.inputTokens, call.errorKind);
        ProviderBudget.Permit permit = call.permit;
        if (permit != null) {
            call.permit = null;
            // What the provider counts: its reported usage when the call completed, nothing for a request it refused
            // (an error status), else the estimated prompt plus the deltas streamed before the call ended.
            // ProviderBudget promises that nothing blocks, so this may run under the lock.
            permit.release(call.usedTokens >= 0 ? call.usedTokens : call.promptTokens + call.deltas);
        }
    }

    /** Closes the call's stream: through its handle once a token brought one, else through its HTTP exchange. */
    private void stopStream(ModelCall call) {
        if (call.handle != null && !call.handle.isCancelled()) {
            call.handle.cancel();
        }
        if (!call.abort.isAborted()) {
            boolean http = call.abort.abort();
            if (!http && call.handle == null) {
                LOG.debug(
                        "reply {}: model call {} has neither a stream handle nor an HTTP exchange to close; a late"
                                + " token will cancel it",
                        replyId,
                        call.number);
            }
        }
    }

    /** Under the lock: marks the end and stops the timers. */
    private ReplyResult end(Outcome outcome, Optional<String> error) {
        done = true;
        cancel(replyTimer);
        cancel(retryTimer);
        return new ReplyResult(thought.thoughtId(), replyId, outcome, nextSeq, chars, calls, error);
    }

    /** Prompt and answer as the provider reported them; -1 when it did not (then the estimate is released). */
    private static long usedTokens(ModelCall call, ChatResponse response) {
        TokenUsage usage = response == null ? null : response.tokenUsage();
        Integer total = usage == null ? null : usage.totalTokenCount();
        return total != null ? total : -1;
    }

    /** The prompt's tokens as the provider reported them; -1 when it did not. */
    private static long inputTokens(ChatResponse response) {
        TokenUsage usage = response == null ? null : response.tokenUsage();
        Integer reported = usage == null ? null : usage.inputTokenCount();
        return reported != null ? reported : -1;
    }

    private static long outputTokens(ModelCall call, ChatResponse response) {
        TokenUsage usage = response == null ? null : response.tokenUsage();
        Integer reported = usage == null ? null : usage.outputTokenCount();
        return reported != null ? reported : call.deltas;
    }

    private ScheduledFuture<?> schedule(Runnable task, Duration delay) {
        try {
            return timer.schedule(
                    () -> {
                        try (LogContext ignored = logContext()) {
                            task.run();
                        } catch (RuntimeException e) {
                            LOG.error(
                                    "reply {} of chat {} thought {}: timer task failed",
                                    replyId,
                                    thought.chatId(),
                                    thought.thoughtId(),
                                    e);
                        }
                    },
                    delay.toNanos(),
                    TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            LOG.warn(
                    "reply {} of chat {} thought {}: timer rejected a task (shutting down?)",
                    replyId,
                    thought.chatId(),
                    thought.thoughtId());
            return null;
        }
    }

    /** The ids of this reply for the lines logged by the model's callbacks and the timers, on their own threads. */
    private LogContext logContext() {
        return LogContext.of(thought.chatId(), thought.thoughtId(), replyId);
    }

    private static void cancel(ScheduledFuture<?> future) {
        if (future != null) {
            future.cancel(false);
        }
    }

    /** One model call; also the model's view of it, so callbacks of an earlier call cannot touch a later one. */
    private final class ModelCall implements StreamingChatResponseHandler {
        final int number;
        final StreamingPartSplitter splitter;
        final CallAbort abort = new CallAbort();
        // Guarded by the generation's lock (set once, before the request, where noted).
        /** The request's estimated prompt tokens (set before the budget is asked). */
        int promptTokens;
        /** Waiting for the budget: the pending answer, withdrawn if the call ends first. */
        CompletableFuture<ProviderBudget.Permit> permitRequest;
        /** Granted by the budget; given back when the call ends. */
        ProviderBudget.Permit permit;
        /** Tokens to give back: the provider's reported total, 0 when it refused the request; -1 = estimate. */
        long usedTokens = -1;
        /** The request went out (the permit was granted): from here the call is timed and counted. */
        boolean requested;
        /** The call's span from the request on; null when tracing is off. */
        Span span;
        /** The prompt tokens the provider reported; -1 until (unless) it does. */
        long inputTokens = -1;
        /** The kind of error the call failed with, for its span; null otherwise. */
        String errorKind;

        long startNanos;
        final StringBuilder streamed = new StringBuilder();
        // Guarded by the generation's lock.
        boolean ended;
        long deltas;
        long lastTokenNanos;
        StreamingHandle handle;
        ScheduledFuture<?> watchdog;

        ModelCall(int number, StreamingPartSplitter splitter) {
            this.number = number;
            this.splitter = splitter;
        }

        @Override
        public void onPartialResponse(String partialResponse) {
            try (LogContext ignored = logContext()) {
                onToken(this, partialResponse, null);
            }
        }

        @Override
        public void onPartialResponse(PartialResponse partialResponse, PartialResponseContext context) {
            try (LogContext ignored = logContext()) {
                onToken(this, partialResponse.text(), context == null ? null : context.streamingHandle());
            }
        }

        @Override
        public void onCompleteResponse(ChatResponse completeResponse) {
            try (LogContext ignored = logContext()) {
                onComplete(this, completeResponse);
            }
        }

        @Override
        public void onError(Throwable error) {
            try (LogContext ignored = logContext()) {
                ReplyGeneration.this.onError(this, error);
            }
        }
    }
}
