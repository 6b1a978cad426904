package dev.thoughtstream.llm;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import dev.langchain4j.model.output.FinishReason;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.llm.ReplyResult.Outcome;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thought being answered (made by {@link ReplyGenerator#generate}).
 *
 * <p>Why one part is always held back: a part's {@code last} flag is only known when the model has finished, and
 * the emitter needs it on the final part to close the reply. So part k is sent when part k+1 is complete, and the
 * held part goes out with {@code last = true} on completion. The price is that each bubble reaches Kafka one part
 * later than it could; the emitter's typing delays are longer than that, and the alternative (an empty closing
 * part) would show up as a message or need special cases downstream.
 *
 * <p>Endings: a normal finish sends the held part as last. A stream that ends without a finish reason (cut off),
 * or that the reply timeout cancels, is answered with what arrived, or with the apology when nothing did. A model
 * error sends the held part (it is complete text) and then the apology as the last part. {@link #cancel()} sends
 * nothing more. Callbacks after the end (a model's late tokens, the "closed" error that follows a cancel) are
 * ignored, and a late token cancels its stream.
 *
 * <p>Thread-safe: model callbacks, the timeout and {@link #cancel()} may race; one lock orders them, and the sink is
 * called under it, so parts leave in order.
 */
public final class ReplyGeneration {
    private static final Logger LOG = LoggerFactory.getLogger(ReplyGeneration.class);

    private final Thought thought;
    private final String replyId;
    private final PartSink sink;
    private final StreamingPartSplitter splitter;
    private final String apologyText;
    private final Clock clock;
    private final CompletableFuture<ReplyResult> result = new CompletableFuture<>();
    private final Object lock = new Object();

    // Guarded by lock.
    private final StringBuilder streamed = new StringBuilder();
    private String held;
    private int nextSeq;
    private int chars;
    private boolean done;
    private StreamingHandle handle;
    private ScheduledFuture<?> timeout;

    ReplyGeneration(Thought thought, PartSink sink, int maxPartChars, String apologyText, Clock clock) {
        this.thought = thought;
        this.replyId = ReplyPart.replyIdFor(thought.thoughtId());
        this.sink = sink;
        this.splitter = new StreamingPartSplitter(maxPartChars);
        this.apologyText = apologyText;
        this.clock = clock;
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
     * Stops the generation: no further part is sent (the reply stays without a last part) and the model's stream is
     * cancelled. Returns false when it had already ended.
     */
    public boolean cancel() {
        ReplyResult ended;
        synchronized (lock) {
            if (done) {
                return false;
            }
            ended = end(Outcome.CANCELLED, true);
        }
        LOG.info("cancelled reply {} of chat {} thought {} after {} parts", replyId, thought.chatId(),
                thought.thoughtId(), ended.parts());
        result.complete(ended);
        return true;
    }

    void start(StreamingChatModel model, PromptBuilder prompts, ScheduledExecutorService timer, Duration replyTimeout) {
        Handler handler = new Handler();
        synchronized (lock) {
            timeout = timer.schedule(this::onTimeout, replyTimeout.toNanos(), TimeUnit.NANOSECONDS);
        }
        try {
            ChatRequest request = prompts.request(thought);
            model.chat(request, handler);
        } catch (RuntimeException e) {
            // Some models fail before streaming starts; it is the same failure as one reported via onError.
            handler.onError(e);
        }
    }

    private void onToken(String text, StreamingHandle streamHandle) {
        Runnable completion;
        synchronized (lock) {
            if (streamHandle != null && handle == null) {
                handle = streamHandle;
            }
            if (done) {
                // The generation ended before this stream could be stopped (no handle before the first token).
                if (streamHandle != null && !streamHandle.isCancelled()) {
                    streamHandle.cancel();
                }
                return;
            }
            if (text == null || text.isEmpty()) {
                return;
            }
            try {
                streamed.append(text);
                for (String part : splitter.feed(text)) {
                    offer(part);
                }
                return;
            } catch (RuntimeException e) {
                completion = fail(e);
            }
        }
        completion.run();
    }

    private void onComplete(ChatResponse response) {
        Runnable completion;
        synchronized (lock) {
            if (done) {
                return;
            }
            try {
                String full = response == null || response.aiMessage() == null ? null : response.aiMessage().text();
                // Some providers stream little or nothing and put the answer in the final response only.
                if (full != null && full.length() > streamed.length() && full.startsWith(streamed.toString())) {
                    String rest = full.substring(streamed.length());
                    streamed.append(rest);
                    for (String part : splitter.feed(rest)) {
                        offer(part);
                    }
                }
                FinishReason reason = response == null ? null : response.finishReason();
                if (reason != FinishReason.STOP) {
                    LOG.warn("reply {} of chat {} thought {}: stream ended with finish reason {}; answering with the {}"
                            + " characters that arrived", replyId, thought.chatId(), thought.thoughtId(), reason,
                            streamed.length());
                }
                completion = finishWithWhatArrived(
                        reason == FinishReason.STOP ? Outcome.ANSWERED : Outcome.TRUNCATED, false);
            } catch (RuntimeException e) {
                completion = fail(e);
            }
        }
        completion.run();
    }

    private void onError(Throwable error) {
        Runnable completion;
        synchronized (lock) {
            if (done) {
                LOG.debug("reply {} of chat {} thought {}: ignoring model error after the end: {}", replyId,
                        thought.chatId(), thought.thoughtId(), error.toString());
                return;
            }
            LOG.warn("model failed for chat {} thought {} (reply {}, {} parts sent); sending the apology",
                    thought.chatId(), thought.thoughtId(), replyId, nextSeq, error);
            try {
                if (held != null) {
                    send(held, false);
                    held = null;
                }
                send(apologyText, true);
                ReplyResult ended = end(Outcome.APOLOGISED, false);
                completion = () -> result.complete(ended);
            } catch (RuntimeException e) {
                completion = fail(e);
            }
        }
        completion.run();
    }

    private void onTimeout() {
        Runnable completion;
        synchronized (lock) {
            if (done) {
                return;
            }
            LOG.warn("reply {} of chat {} thought {} timed out after {} characters; cancelling the model", replyId,
                    thought.chatId(), thought.thoughtId(), streamed.length());
            try {
                completion = finishWithWhatArrived(Outcome.TIMED_OUT, true);
            } catch (RuntimeException e) {
                completion = fail(e);
            }
        }
        completion.run();
    }

    /** Under the lock: flush the splitter, send the held part as last, or the apology when nothing arrived. */
    private Runnable finishWithWhatArrived(Outcome outcome, boolean stopStream) {
        for (String part : splitter.finish()) {
            offer(part);
        }
        Outcome ending = outcome;
        if (held != null) {
            send(held, true);
            held = null;
        } else {
            // Nothing was held, so nothing was sent either: every sent part had a successor.
            LOG.warn("reply {} of chat {} thought {}: the model produced no text ({}); sending the apology", replyId,
                    thought.chatId(), thought.thoughtId(), outcome);
            send(apologyText, true);
            ending = Outcome.APOLOGISED;
        }
        ReplyResult ended = end(ending, stopStream);
        return () -> result.complete(ended);
    }

    /** Under the lock: the sink failed; stop everything and fail the result. */
    private Runnable fail(RuntimeException e) {
        if (!done) {
            end(Outcome.CANCELLED, true);
        }
        LOG.error("reply {} of chat {} thought {}: could not hand over a part", replyId, thought.chatId(),
                thought.thoughtId(), e);
        return () -> result.completeExceptionally(e);
    }

    private void offer(String part) {
        if (held != null) {
            send(held, false);
        }
        held = part;
    }

    private void send(String text, boolean last) {
        ReplyPart part = new ReplyPart(ReplyPart.SCHEMA_VERSION, replyId, thought.thoughtId(), thought.chatId(),
                thought.lastMessageId(), nextSeq, last, text, clock.millis());
        sink.send(part);
        nextSeq++;
        chars += text.length();
        LOG.debug("reply {} part {} ({} chars, last={}) handed over", replyId, part.seq(), text.length(), last);
    }

    /**
     * Under the lock: marks the end, then stops the timer and, when it may still be running, the model's stream
     * ({@code stopStream}). {@code done} is set first because
     * cancelling a stream may call {@code onError} back on this very thread.
     */
    private ReplyResult end(Outcome outcome, boolean stopStream) {
        done = true;
        if (timeout != null) {
            timeout.cancel(false);
        }
        if (stopStream && handle != null && !handle.isCancelled()) {
            handle.cancel();
        }
        return new ReplyResult(thought.thoughtId(), replyId, outcome, nextSeq, chars);
    }

    /** The model's view of this generation; private so no one else can feed it. */
    private final class Handler implements StreamingChatResponseHandler {
        @Override
        public void onPartialResponse(String partialResponse) {
            onToken(partialResponse, null);
        }

        @Override
        public void onPartialResponse(PartialResponse partialResponse, PartialResponseContext context) {
            onToken(partialResponse.text(), context == null ? null : context.streamingHandle());
        }

        @Override
        public void onCompleteResponse(ChatResponse completeResponse) {
            onComplete(completeResponse);
        }

        @Override
        public void onError(Throwable error) {
            ReplyGeneration.this.onError(error);
        }
    }
}
