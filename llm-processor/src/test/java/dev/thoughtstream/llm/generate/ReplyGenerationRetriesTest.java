package dev.thoughtstream.llm.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.exception.AuthenticationException;
import dev.langchain4j.exception.InternalServerException;
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
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.llm.generate.ReplyResult.Outcome;
import dev.thoughtstream.testkit.Await;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Retries, watchdogs and endings of {@link ReplyGeneration}, driven by hand through a model whose every call the
 * test answers itself, so each step happens exactly when the test says. (The same behaviour over the real
 * LangChain4j clients and HTTP is in {@link ReplyGeneratorHttpTest}.)
 */
class ReplyGenerationRetriesTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String APOLOGY = "Sorry, not now.";
    private static final Duration LONG = Duration.ofMinutes(5);

    private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(2);
    private final List<ReplyPart> sent = new CopyOnWriteArrayList<>();
    private final Metrics metrics = new Metrics();
    private final CallsModel model = new CallsModel();

    @AfterEach
    void stopScheduler() {
        scheduler.shutdownNow();
    }

    @Test
    void aRetriedAnswerStartsFromScratchAndDropsTheTextThatHadNotBecomeAPart() throws Exception {
        // given three attempts and a first call that fails before its first part was complete
        ReplyGeneration generation = generator(settings(LONG, Duration.ZERO, Duration.ZERO), retries(3))
                .generate(thought(), sent::add);
        model.call(0).token("Half a first parag");
        model.call(0).error(new InternalServerException("HTTP 502: bad gateway"));

        // when the retry answers
        Call retry = model.awaitCall(1);
        retry.token("Hello!\n\nHow are you?");
        retry.complete("Hello!\n\nHow are you?", FinishReason.STOP, 7);

        // then
        ReplyResult result = generation.result().get(10, TimeUnit.SECONDS);
        assertEquals(Outcome.ANSWERED, result.outcome());
        assertEquals(2, result.calls());
        assertEquals(Optional.empty(), result.error());
        assertEquals(List.of("Hello!", "How are you?"), texts());
        assertEquals(List.of(0, 1), sent.stream().map(ReplyPart::seq).toList());
        assertEquals(1, counter(LlmMetrics.RETRIES, "reason", "server_error"));
        assertEquals(1, counter(LlmMetrics.ERRORS, "kind", "server_error"));
        assertEquals(1, counter(LlmMetrics.CALLS, "outcome", "error"));
        assertEquals(1, counter(LlmMetrics.CALLS, "outcome", "ok"));
        assertEquals(7 + 1, counter(LlmMetrics.TOKENS), "the usage of the answer plus the failed call's one delta");
    }

    @Test
    void aFailureAfterAPartWasSentIsNotRetriedAndEndsWithWhatWasSentAndTheApology() throws Exception {
        ReplyGeneration generation = generator(settings(LONG, Duration.ZERO, Duration.ZERO), retries(3))
                .generate(thought(), sent::add);

        model.call(0).token("One.\n\nTwo, unfin");
        model.call(0).error(new InternalServerException("HTTP 500: oops"));

        ReplyResult result = generation.result().get(10, TimeUnit.SECONDS);
        assertEquals(Outcome.FAILED, result.outcome());
        assertEquals(Optional.of("server_error: InternalServerException: HTTP 500: oops"), result.error());
        assertEquals(List.of("One.", APOLOGY), texts());
        assertEquals(List.of(false, true), sent.stream().map(ReplyPart::last).toList());
        assertEquals(1, model.calls(), "no second call once a part had left");
        assertEquals(0, counter(LlmMetrics.RETRIES, "reason", "server_error"));
    }

    @Test
    void anAuthenticationErrorIsNeverRetried() throws Exception {
        ReplyGeneration generation = generator(settings(LONG, Duration.ZERO, Duration.ZERO), retries(5))
                .generate(thought(), sent::add);

        model.call(0).error(new AuthenticationException("HTTP 401: Incorrect API key provided"));

        ReplyResult result = generation.result().get(10, TimeUnit.SECONDS);
        assertEquals(Outcome.FAILED, result.outcome());
        assertEquals(1, result.calls());
        assertEquals(List.of(APOLOGY), texts());
        assertEquals(1, model.calls());
        assertEquals(1, counter(LlmMetrics.ERRORS, "kind", "authentication"));
    }

    @Test
    void aRetryThatWouldStartAfterTheReplyTimeoutIsNotMadeAndTheReplyFailsAtOnce() throws Exception {
        // given a backoff far longer than the reply timeout
        ReplyGenerator generator = generator(
                settings(Duration.ofSeconds(20), Duration.ZERO, Duration.ZERO),
                new RetryPolicy(3, Duration.ofMinutes(1), Duration.ofMinutes(1), () -> 0));
        ReplyGeneration generation = generator.generate(thought(), sent::add);

        model.call(0).error(new InternalServerException("HTTP 503: busy"));

        ReplyResult result = generation.result().get(10, TimeUnit.SECONDS);
        assertEquals(Outcome.FAILED, result.outcome());
        assertEquals(List.of(APOLOGY), texts());
        assertEquals(1, model.calls());
    }

    @Test
    void retriesStopAfterTheLastAttemptWithTheLastError() throws Exception {
        ReplyGeneration generation = generator(settings(LONG, Duration.ZERO, Duration.ZERO), retries(3))
                .generate(thought(), sent::add);

        model.call(0).error(new InternalServerException("HTTP 500: one"));
        model.awaitCall(1).error(new InternalServerException("HTTP 500: two"));
        model.awaitCall(2).error(new InternalServerException("HTTP 500: three"));

        ReplyResult result = generation.result().get(10, TimeUnit.SECONDS);
        assertEquals(Outcome.FAILED, result.outcome());
        assertEquals(3, result.calls());
        assertEquals(Optional.of("server_error: InternalServerException: HTTP 500: three"), result.error());
        assertEquals(List.of(APOLOGY), texts());
        assertEquals(2, counter(LlmMetrics.RETRIES, "reason", "server_error"));
        assertEquals(3, counter(LlmMetrics.ERRORS, "kind", "server_error"));
    }

    @Test
    void theFirstTokenTimeoutAbortsASilentCallAndRetriesIt() throws Exception {
        // given a first call that never produces anything
        ReplyGeneration generation = generator(settings(LONG, Duration.ofMillis(100), Duration.ZERO), retries(2))
                .generate(thought(), sent::add);

        // when the first-token timeout passes, a second call is made; it answers
        Call retry = model.awaitCall(1);
        retry.token("Here I am.");
        retry.complete("Here I am.", FinishReason.STOP, 3);

        // then
        ReplyResult result = generation.result().get(10, TimeUnit.SECONDS);
        assertEquals(Outcome.ANSWERED, result.outcome());
        assertEquals(List.of("Here I am."), texts());
        assertEquals(1, counter(LlmMetrics.RETRIES, "reason", "first_token_timeout"));
        // and a token the silent call produces after all cancels it and is ignored
        model.call(0).token("Late.\n\nVery late.");
        assertTrue(model.call(0).handle.isCancelled());
        assertEquals(List.of("Here I am."), texts());
    }

    @Test
    void theIdleWatchdogEndsAStreamThatFellSilentAfterItsFirstParts() throws Exception {
        ReplyGeneration generation = generator(settings(LONG, Duration.ZERO, Duration.ofMillis(100)), retries(3))
                .generate(thought(), sent::add);

        model.call(0).token("One.\n\nTwo.\n\nThr");

        ReplyResult result = generation.result().get(10, TimeUnit.SECONDS);
        assertEquals(Outcome.FAILED, result.outcome());
        assertEquals(Optional.of("idle_timeout: no token for 100 ms after 1 tokens"), result.error());
        assertEquals(List.of("One.", "Two.", APOLOGY), texts(), "the unfinished paragraph is dropped");
        assertTrue(model.call(0).handle.isCancelled(), "the stalled stream was cancelled");
        assertEquals(1, model.calls(), "not retried: parts were sent");
        // a completion arriving after all changes nothing
        model.call(0).complete("One.\n\nTwo.\n\nThree.", FinishReason.STOP, 5);
        assertEquals(3, sent.size());
    }

    @Test
    void aSilentRetryIsEndedByTheReplyTimeoutAndTheReplyFails() throws Exception {
        // given a retry wait that fits into the reply timeout, and a retry that then stays silent
        ReplyGeneration generation = generator(
                        settings(Duration.ofMillis(300), Duration.ZERO, Duration.ZERO),
                        new RetryPolicy(2, Duration.ofMillis(100), Duration.ofMillis(100), () -> 0))
                .generate(thought(), sent::add);
        model.call(0).error(new InternalServerException("HTTP 500: first"));
        model.awaitCall(1); // the retry is made and then stays silent

        ReplyResult result = generation.result().get(10, TimeUnit.SECONDS);

        assertEquals(Outcome.FAILED, result.outcome());
        assertEquals(Optional.of("reply_timeout: no answer within 300 ms"), result.error());
        assertEquals(List.of(APOLOGY), texts());
        assertEquals(1, counter(LlmMetrics.CALLS, "outcome", "timeout"));
    }

    @Test
    void cancellingDuringTheWaitForARetryMakesNoFurtherCall() throws Exception {
        ReplyGeneration generation = generator(
                        settings(LONG, Duration.ZERO, Duration.ZERO),
                        new RetryPolicy(3, Duration.ofMinutes(1), Duration.ofMinutes(1), () -> 0))
                .generate(thought(), sent::add);
        model.call(0).error(new InternalServerException("HTTP 500"));

        assertTrue(generation.cancel());

        assertEquals(
                Outcome.CANCELLED, generation.result().get(10, TimeUnit.SECONDS).outcome());
        assertEquals(List.of(), texts());
        assertEquals(1, counter(LlmMetrics.CANCELLATIONS));
        assertEquals(
                0,
                scheduler.getQueue().stream()
                        .filter(task -> !((Future<?>) task).isCancelled())
                        .count(),
                "no timer left that could start a call");
        assertFalse(generation.cancel());
        assertEquals(1, counter(LlmMetrics.CANCELLATIONS), "a second cancel is not counted");
    }

    private ReplyGenerator generator(ReplySettings settings, RetryPolicy retries) {
        return new ReplyGenerator(
                model, new PromptBuilder("be brief"), settings, retries, scheduler, Clock.systemUTC(), metrics);
    }

    private static ReplySettings settings(Duration replyTimeout, Duration firstToken, Duration idle) {
        return new ReplySettings("manual", 4096, APOLOGY, replyTimeout, firstToken, idle, Optional.empty());
    }

    /** Retries with a tiny backoff, so the test does not wait for them. */
    private static RetryPolicy retries(int attempts) {
        return new RetryPolicy(attempts, Duration.ofMillis(1), Duration.ofMillis(2), () -> 0.5);
    }

    private long counter(String name, String... labels) {
        if (name.equals(LlmMetrics.CANCELLATIONS)) {
            return metrics.counter(name, "").count();
        }
        String[] all = new String[labels.length + 2];
        all[0] = "provider";
        all[1] = "manual";
        System.arraycopy(labels, 0, all, 2, labels.length);
        return metrics.counter(name, "", all).count();
    }

    private List<String> texts() {
        return sent.stream().map(ReplyPart::text).toList();
    }

    private static Thought thought() {
        return new Thought(
                Thought.SCHEMA_VERSION, "7:1", 7L, List.of(new ThoughtMessage(1, "hi", 0)), 1, 1, 0, 0, List.of());
    }

    /** Records every call; the test answers each one through its {@link Call}. */
    private static final class CallsModel implements StreamingChatModel {
        private final List<Call> calls = new CopyOnWriteArrayList<>();

        @Override
        public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
            calls.add(new Call(handler));
        }

        int calls() {
            return calls.size();
        }

        Call call(int index) {
            return calls.get(index);
        }

        Call awaitCall(int index) {
            Await.until("model call " + (index + 1), TIMEOUT, () -> calls.size() > index);
            return calls.get(index);
        }
    }

    private static final class Call {
        final StreamingChatResponseHandler handler;
        final TestHandle handle = new TestHandle();

        Call(StreamingChatResponseHandler handler) {
            this.handler = handler;
        }

        void token(String text) {
            handler.onPartialResponse(new PartialResponse(text), new PartialResponseContext(handle));
        }

        void complete(String text, FinishReason reason, int outputTokens) {
            handler.onCompleteResponse(ChatResponse.builder()
                    .aiMessage(AiMessage.from(text))
                    .finishReason(reason)
                    .tokenUsage(new TokenUsage(1, outputTokens))
                    .build());
        }

        void error(Throwable t) {
            handler.onError(t);
        }
    }

    private static final class TestHandle implements StreamingHandle {
        private final AtomicBoolean cancelled = new AtomicBoolean();

        @Override
        public void cancel() {
            cancelled.set(true);
        }

        @Override
        public boolean isCancelled() {
            return cancelled.get();
        }
    }
}
