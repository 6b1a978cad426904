package dev.thoughtstream.llm.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.budget.ProviderBudget;
import dev.thoughtstream.llm.generate.ReplyResult.Outcome;
import dev.thoughtstream.llm.model.ModelFactory;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.llm.Behavior;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import dev.thoughtstream.testkit.llm.WireFormat;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The provider budget hook, over the real LangChain4j clients and HTTP: every model call, each retry included, asks
 * the budget before its request and gives the permit back when it ends; a 429 tells the budget; waiting for a permit
 * holds no request, is withdrawn when the generation is cancelled, and counts inside the reply timeout.
 */
class ReplyGenerationBudgetTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String APOLOGY = "Sorry, no answer right now.";

    private final ScheduledThreadPoolExecutor scheduler =
            new ScheduledThreadPoolExecutor(2, NamedThreads.factory("test-budget", true));
    private final List<ReplyPart> sent = new CopyOnWriteArrayList<>();
    private final RecordingBudget budget = new RecordingBudget();
    private FakeLlmServer llm;

    @AfterEach
    void tearDown() {
        if (llm != null) {
            llm.close();
        }
        scheduler.shutdownNow();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void everyCallRetriesIncludedAsksBeforeItsRequestAndGivesThePermitBack(WireFormat wire) throws Exception {
        // given a budget that grants at once, and a model that fails once with 503, then answers
        ReplyGenerator generator = start(wire, Map.of());
        llm.enqueue(Behavior.failing(503));
        llm.enqueue(Behavior.replying("Hello there.\n\nHow are you?"));

        // when
        ReplyResult result = generator
                .generate(thought("Hi"), sent::add, "handling-1")
                .result()
                .get(30, TimeUnit.SECONDS);

        // then two calls, each asked for under its own id with an estimate above the answer's allowance
        assertEquals(Outcome.ANSWERED, result.outcome());
        assertEquals(2, result.calls());
        assertEquals(List.of("handling-1/1", "handling-1/2"), budget.requestIds());
        assertTrue(
                budget.requests.stream().allMatch(r -> r.estimatedTokens() > PromptBuilder.ANSWER_TOKEN_ALLOWANCE),
                budget.requests::toString);
        // and both permits came back: none of the tokens for the refused request, some for the answer
        Await.until("both permits released", TIMEOUT, () -> budget.released.size() == 2);
        assertEquals(0L, budget.released.get(0));
        assertTrue(budget.released.get(1) > 0, budget.released::toString);
        assertEquals(2, llm.requestCount());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void aRateLimitTellsTheBudgetHowLongToHoldBack(WireFormat wire) throws Exception {
        // given a model that answers 429 with Retry-After: 1, then answers
        ReplyGenerator generator = start(wire, Map.of());
        llm.enqueue(Behavior.rateLimited(1));
        llm.enqueue(Behavior.replying("Fine."));

        // when
        ReplyResult result =
                generator.generate(thought("Hi"), sent::add, "h").result().get(30, TimeUnit.SECONDS);

        // then the budget heard of the 429 with the server's pause
        assertEquals(Outcome.ANSWERED, result.outcome());
        assertEquals(List.of(Duration.ofSeconds(1)), budget.rateLimits);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void aCancelWhileWaitingForAPermitWithdrawsTheRequestAndNoModelIsCalled(WireFormat wire) throws Exception {
        // given a budget that grants nothing
        ReplyGenerator generator = start(wire, Map.of());
        budget.holding = true;
        ReplyGeneration generation = generator.generate(thought("Hi"), sent::add, "h");
        Await.until("the call asks the budget", TIMEOUT, () -> budget.requests.size() == 1);

        // when the chat moves on (the staleness signal cancels the generation)
        generation.cancel();

        // then the wait is withdrawn, nothing was sent, and the model never heard of it
        assertEquals(
                Outcome.CANCELLED, generation.result().get(10, TimeUnit.SECONDS).outcome());
        assertTrue(budget.requests.get(0).answer().isCancelled(), "the permit request was withdrawn");
        assertEquals(0, llm.requestCount());
        assertTrue(sent.isEmpty());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void theWaitForAPermitCountsInsideTheReplyTimeout(WireFormat wire) throws Exception {
        // given a budget that grants nothing and a reply timeout of 300 ms
        ReplyGenerator generator = start(wire, Map.of(LlmConfig.REPLY_TIMEOUT_MS, "300"));
        budget.holding = true;

        // when the reply timeout passes while the call waits
        ReplyResult result =
                generator.generate(thought("Hi"), sent::add, "h").result().get(30, TimeUnit.SECONDS);

        // then the reply fails with the apology, the wait is withdrawn, and no model was called
        assertEquals(Outcome.FAILED, result.outcome());
        assertTrue(result.error().orElseThrow().startsWith("reply_timeout"), result.error()::toString);
        assertEquals(List.of(APOLOGY), sent.stream().map(ReplyPart::text).toList());
        assertTrue(budget.requests.get(0).answer().isCancelled(), "the permit request was withdrawn");
        assertEquals(0, llm.requestCount());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void theFirstTokenTimeoutRunsFromTheRequestNotFromTheWaitForThePermit(WireFormat wire) throws Exception {
        // given a first-token timeout of 300 ms and a budget that grants only after a longer wait
        ReplyGenerator generator = start(wire, Map.of(LlmConfig.FIRST_TOKEN_TIMEOUT_MS, "300"));
        budget.holding = true;
        llm.enqueue(Behavior.replying("Here."));
        ReplyGeneration generation = generator.generate(thought("Hi"), sent::add, "h");
        Await.until("the call asks the budget", TIMEOUT, () -> budget.requests.size() == 1);

        // when the permit comes well after the first-token timeout would have passed
        scheduler.schedule(() -> budget.grant(0), 900, TimeUnit.MILLISECONDS);

        // then the call is made and answered, not aborted for a missing first token
        ReplyResult result = generation.result().get(30, TimeUnit.SECONDS);
        assertEquals(Outcome.ANSWERED, result.outcome());
        assertEquals(1, result.calls());
        assertEquals(1, llm.requestCount());
    }

    private ReplyGenerator start(WireFormat wire, Map<String, String> overrides) {
        llm = FakeLlmServer.builder().build().start();
        Map<String, String> env = new HashMap<>();
        env.put(LlmConfig.PROVIDER, wire.name().toLowerCase(Locale.ROOT));
        env.put(LlmConfig.API_URL, wire == WireFormat.OPENAI ? llm.openAiBaseUrl() : llm.ollamaBaseUrl());
        env.put(LlmConfig.MODEL, "test-model");
        env.put(LlmConfig.APOLOGY_TEXT, APOLOGY);
        env.put(LlmConfig.RETRY_BACKOFF_MS, "1");
        env.put(LlmConfig.RETRY_BACKOFF_MAX_MS, "2");
        env.putAll(overrides);
        LlmConfig config = LlmConfig.from(Config.of(env));
        StreamingChatModel model = ModelFactory.streaming(config, scheduler);
        return new ReplyGenerator(
                model,
                new PromptBuilder(config.replies().systemPrompt()),
                ReplySettings.from(config),
                RetryPolicy.from(config, () -> 0.5),
                scheduler,
                Clock.systemUTC(),
                new Metrics(),
                budget);
    }

    private static Thought thought(String text) {
        return new Thought(
                Thought.SCHEMA_VERSION, "7:1", 7L, List.of(new ThoughtMessage(1, text, 0)), 1, 1, 0, 0, List.of());
    }

    /** The budget as a test sees it: every request and release recorded; grants at once unless holding. */
    static final class RecordingBudget implements ProviderBudget {
        record Request(String id, int estimatedTokens, CompletableFuture<Permit> answer) {}

        final List<Request> requests = new CopyOnWriteArrayList<>();
        final List<Long> released = new CopyOnWriteArrayList<>();
        final List<Duration> rateLimits = new CopyOnWriteArrayList<>();
        volatile boolean holding;

        @Override
        public CompletableFuture<Permit> acquire(String requestId, int estimatedTokens) {
            CompletableFuture<Permit> answer = new CompletableFuture<>();
            requests.add(new Request(requestId, estimatedTokens, answer));
            if (!holding) {
                answer.complete(permit());
            }
            return answer;
        }

        void grant(int index) {
            requests.get(index).answer().complete(permit());
        }

        private Permit permit() {
            AtomicBoolean once = new AtomicBoolean();
            return tokens -> {
                if (once.compareAndSet(false, true)) {
                    released.add(tokens);
                }
            };
        }

        List<String> requestIds() {
            return requests.stream().map(Request::id).toList();
        }

        @Override
        public void rateLimited(Duration retryAfter) {
            rateLimits.add(retryAfter);
        }

        @Override
        public void close() {}
    }
}
