package dev.thoughtstream.llm.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.common.telegram.TelegramLimits;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.generate.ReplyResult.Outcome;
import dev.thoughtstream.llm.model.ModelFactory;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.llm.Behavior;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import dev.thoughtstream.testkit.llm.RecordedRequest;
import dev.thoughtstream.testkit.llm.Tokens;
import dev.thoughtstream.testkit.llm.WireFormat;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * {@link ReplyGenerator} over the real LangChain4j OpenAI (SSE) and Ollama (NDJSON) streaming clients, built by
 * {@link ModelFactory} from configuration as the service builds them, talking HTTP to testkit's
 * {@link FakeLlmServer}: streaming parts, the first-token and idle watchdogs, retries, the apology, cancellation and
 * the metrics. No Kafka here; the service around it is tested in {@link LlmProcessorKafkaTest}.
 */
class ReplyGeneratorHttpTest {
    /** Generous: every awaited event takes well under a second on an idle machine. */
    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    private static final String APOLOGY = "Sorry, no answer right now.";
    private static final String API_KEY = "sk-test-generation-0123456789";
    private static final String REPLY =
            "Tomatoes, nice!\n\nThey love sun and steady water.\n\nWhich kind did you pick?";
    /**
     * One token per word or full stop, the paragraph break travelling with the next word: {@code One}, {@code .},
     * {@code \n\nTwo}, {@code .}, {@code \n\nThree}, ... So after 3 tokens part 0 ("One.") is known complete, and
     * after 5 tokens "One." and "Two." are, with "Three" unfinished.
     */
    private static final String FOUR_PARAGRAPHS = "One.\n\nTwo.\n\nThree.\n\nFour.";

    private final ScheduledThreadPoolExecutor scheduler =
            new ScheduledThreadPoolExecutor(2, NamedThreads.factory("test-generation", true));
    private final List<ReplyPart> sent = new CopyOnWriteArrayList<>();
    private final Metrics metrics = new Metrics();
    private FakeLlmServer llm;
    private WireFormat format;

    @AfterEach
    void tearDown() {
        if (llm != null) {
            llm.close();
        }
        scheduler.shutdownNow();
    }

    // ---------------------------------------------------------------------------------------------------------
    // Streaming parts

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void theFirstPartReachesTheSinkWhileTheModelIsStillWriting(WireFormat wire) {
        // given a model that sends the first paragraph and the first word of the second, then stays silent
        ReplyGenerator generator = start(wire, Map.of());
        llm.enqueue(
                Behavior.builder().reply(FOUR_PARAGRAPHS).stallAfterTokens(3).build());

        // when
        Thought thought = thought("Count to four");
        ReplyGeneration generation = generator.generate(thought, sent::add);

        // then part 0 is handed over although the stream is open and unfinished
        Await.until("part 0 handed to the sink", TIMEOUT, () -> sent.size() == 1);
        Await.until("the model's stream stalls, open", TIMEOUT, () -> llm.stalledResponses() == 1);
        assertEquals(1, sent.size());
        assertEquals(
                new ReplyPart(
                        ReplyPart.SCHEMA_VERSION,
                        "r:7:1",
                        "7:1",
                        7L,
                        1L,
                        0,
                        false,
                        "One.",
                        sent.get(0).createdAtMs(),
                        thought.lastWrittenAtMs()),
                sent.get(0));
        assertEquals(0, llm.completedStreams(), "the model has not finished");
        assertFalse(generation.result().isDone());

        generation.cancel();
        Await.until("the stalled stream closed by the cancel", TIMEOUT, () -> llm.abandonedStreams() == 1);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void anAnswerIsStreamedIntoOrderedPartsAndCountedInTheMetrics(WireFormat wire) throws Exception {
        ReplyGenerator generator = start(wire, Map.of());
        llm.enqueue(Behavior.builder().reply(REPLY).tokensPerSecond(500).build());

        ReplyResult result = generator
                .generate(thought("I planted tomatoes"), sent::add)
                .result()
                .get(30, TimeUnit.SECONDS);

        List<String> expected = new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(REPLY);
        assertEquals(Outcome.ANSWERED, result.outcome());
        assertEquals(expected, texts());
        assertEquals(
                List.of(false, false, true), sent.stream().map(ReplyPart::last).toList());
        assertEquals(List.of(0, 1, 2), sent.stream().map(ReplyPart::seq).toList());
        assertEquals(1, result.calls());
        assertEquals(1, counter(LlmMetrics.CALLS, "outcome", "ok"));
        assertEquals(
                1,
                metrics.timer(LlmMetrics.CALL_SECONDS, "", "provider", provider())
                        .count());
        assertEquals(
                1,
                metrics.timer(LlmMetrics.FIRST_TOKEN_SECONDS, "", "provider", provider())
                        .count());
        assertEquals(Tokens.count(REPLY), counter(LlmMetrics.TOKENS), "the provider's reported output tokens");
        assertTrue(
                metrics.scrape()
                        .contains("thoughtstream_llm_calls_total{outcome=\"ok\",provider=\"" + provider() + "\"} 1"),
                metrics::scrape);
    }

    // ---------------------------------------------------------------------------------------------------------
    // Watchdogs

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void aStreamThatFallsSilentAfterItsFirstPartsIsClosedByTheIdleWatchdogAndEndsWithTheApology(WireFormat wire)
            throws Exception {
        // given a model that goes silent in the third paragraph, after two complete ones, and a short idle timeout
        ReplyGenerator generator = start(wire, Map.of(LlmConfig.IDLE_TIMEOUT_MS, "500"));
        llm.enqueue(
                Behavior.builder().reply(FOUR_PARAGRAPHS).stallAfterTokens(5).build());

        // when
        ReplyResult result =
                generator.generate(thought("Count to four"), sent::add).result().get(30, TimeUnit.SECONDS);

        // then: the two parts that had left, then the apology; the unfinished "Three" is dropped; no retry
        assertEquals(Outcome.FAILED, result.outcome());
        assertTrue(result.error().orElseThrow().startsWith("idle_timeout: no token for 500 ms"), result::toString);
        assertEquals(List.of("One.", "Two.", APOLOGY), texts());
        assertEquals(
                List.of(false, false, true), sent.stream().map(ReplyPart::last).toList());
        Await.until("the stalled stream closed by the watchdog", TIMEOUT, () -> llm.abandonedStreams() == 1);
        assertEquals(1, llm.requestCount(), "parts had been sent, so no retry");
        assertEquals(1, counter(LlmMetrics.ERRORS, "kind", "idle_timeout"));
        assertEquals(0, counter(LlmMetrics.RETRIES, "reason", "idle_timeout"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void aSlowButSteadyStreamOutlastingTheIdleTimeoutIsNotCut(WireFormat wire) throws Exception {
        // given tokens every 50 ms for well over a second, and an idle timeout of 600 ms
        String slow = "Let me think about that for a moment, because it is not an easy question at all.\n\n"
                + "Well, I would say yes, but only on a sunny day.";
        assertTrue(Tokens.count(slow) * 50 > 2 * 600, "the stream must last longer than the idle timeout");
        ReplyGenerator generator = start(wire, Map.of(LlmConfig.IDLE_TIMEOUT_MS, "600"));
        llm.enqueue(Behavior.builder().reply(slow).tokensPerSecond(20).build());

        ReplyResult result =
                generator.generate(thought("Should I?"), sent::add).result().get(30, TimeUnit.SECONDS);

        assertEquals(Outcome.ANSWERED, result.outcome());
        assertEquals(new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(slow), texts());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void aStreamThatStallsBeforeItsFirstTokenIsClosedAtTheFirstTokenTimeoutAndRetried(WireFormat wire)
            throws Exception {
        // given a model that sends headers and then nothing, and answers the next request
        ReplyGenerator generator = start(wire, Map.of(LlmConfig.FIRST_TOKEN_TIMEOUT_MS, "500"));
        llm.enqueue(Behavior.stallingAfter(0));
        llm.enqueue(Behavior.replying(REPLY));

        // when
        ReplyResult result =
                generator.generate(thought("Hello?"), sent::add).result().get(30, TimeUnit.SECONDS);

        // then the retry's answer, and the silent stream was closed although it never gave a StreamingHandle
        assertEquals(Outcome.ANSWERED, result.outcome());
        assertEquals(2, result.calls());
        assertEquals(new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(REPLY), texts());
        assertEquals(2, llm.requestCount());
        Await.until("the silent stream closed by the HTTP abort", TIMEOUT, () -> llm.abandonedStreams() == 1);
        assertEquals(1, counter(LlmMetrics.RETRIES, "reason", "first_token_timeout"));
        assertEquals(1, counter(LlmMetrics.ERRORS, "kind", "first_token_timeout"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void aModelThatNeverSendsHeadersIsAbortedAtTheFirstTokenTimeoutAndRetried(WireFormat wire) throws Exception {
        // given a first request that never gets response headers; the HTTP timeout is far longer
        ReplyGenerator generator =
                start(wire, Map.of(LlmConfig.FIRST_TOKEN_TIMEOUT_MS, "500", LlmConfig.TIMEOUT_MS, "600000"));
        llm.enqueue(Behavior.hanging());
        llm.enqueue(Behavior.replying(REPLY));

        ReplyResult result =
                generator.generate(thought("Hello?"), sent::add).result().get(30, TimeUnit.SECONDS);

        assertEquals(Outcome.ANSWERED, result.outcome());
        assertEquals(2, result.calls());
        assertEquals(1, counter(LlmMetrics.RETRIES, "reason", "first_token_timeout"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void noResponseHeadersWithinTheHttpTimeoutIsRetried(WireFormat wire) throws Exception {
        ReplyGenerator generator = start(wire, Map.of(LlmConfig.TIMEOUT_MS, "300"));
        llm.enqueue(Behavior.hanging());
        llm.enqueue(Behavior.replying(REPLY));

        ReplyResult result =
                generator.generate(thought("Hello?"), sent::add).result().get(30, TimeUnit.SECONDS);

        assertEquals(Outcome.ANSWERED, result.outcome());
        assertEquals(1, counter(LlmMetrics.RETRIES, "reason", "timeout"));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Retries

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void aServerErrorIsRetriedOnceAndThenAnswered(WireFormat wire) throws Exception {
        ReplyGenerator generator = start(wire, Map.of());
        llm.enqueue(Behavior.failing(500));
        llm.enqueue(Behavior.replying(REPLY));

        ReplyResult result = generator
                .generate(thought("Are you there?"), sent::add)
                .result()
                .get(30, TimeUnit.SECONDS);

        assertEquals(Outcome.ANSWERED, result.outcome());
        assertEquals(2, result.calls());
        assertEquals(new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(REPLY), texts());
        assertEquals(2, llm.requestCount());
        List<RecordedRequest> requests = llm.requests();
        assertEquals(requests.get(0).messages(), requests.get(1).messages(), "the retry asks the same");
        assertEquals(1, counter(LlmMetrics.RETRIES, "reason", "server_error"));
        assertEquals(1, counter(LlmMetrics.CALLS, "outcome", "error"));
        assertEquals(1, counter(LlmMetrics.CALLS, "outcome", "ok"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void aRateLimitIsRetriedNoSoonerThanItsRetryAfter(WireFormat wire) throws Exception {
        // given a backoff of a millisecond, and a server that asks for one second
        ReplyGenerator generator = start(wire, Map.of());
        llm.enqueue(Behavior.rateLimited(1));
        llm.enqueue(Behavior.replying(REPLY));

        ReplyResult result =
                generator.generate(thought("Hi"), sent::add).result().get(30, TimeUnit.SECONDS);

        assertEquals(Outcome.ANSWERED, result.outcome());
        List<RecordedRequest> requests = llm.requests();
        assertEquals(2, requests.size());
        Duration between =
                Duration.between(requests.get(0).at(), requests.get(1).at());
        assertTrue(between.compareTo(Duration.ofSeconds(1)) >= 0, "the retry came after " + between);
        assertEquals(1, counter(LlmMetrics.RETRIES, "reason", "rate_limited"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void anAuthenticationErrorIsNotRetriedAndFailsWithTheApologyWithoutTheKeyInTheError(WireFormat wire)
            throws Exception {
        // given a provider that rejects the key and (as some do) quotes it back
        ReplyGenerator generator = start(wire, Map.of(LlmConfig.MAX_ATTEMPTS, "5"));
        llm.enqueue(Behavior.builder()
                .status(401)
                .errorMessage("Incorrect API key provided: " + API_KEY)
                .build());

        ReplyResult result =
                generator.generate(thought("Hi"), sent::add).result().get(30, TimeUnit.SECONDS);

        assertEquals(Outcome.FAILED, result.outcome());
        String error = result.error().orElseThrow();
        assertTrue(error.startsWith("authentication: "), error);
        assertTrue(error.contains("401"), error);
        assertFalse(error.contains(API_KEY), error);
        assertTrue(error.contains("<redacted>"), error);
        assertEquals(List.of(APOLOGY), texts());
        assertTrue(sent.get(0).last());
        assertEquals(1, llm.requestCount(), "not retried");
        assertEquals(1, counter(LlmMetrics.ERRORS, "kind", "authentication"));
        assertFalse(metrics.scrape().contains(API_KEY));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void anErrorInsideTheStreamBeforeAnyPartIsRetriedAndItsPartialTextIsNeverSent(WireFormat wire) throws Exception {
        // given a provider whose first stream reports an error after two tokens, and whose second answers
        ReplyGenerator generator = start(wire, Map.of(LlmConfig.MAX_ATTEMPTS, "3"));
        llm.enqueue(Behavior.builder()
                .reply("This answer breaks.\n\nNever mind.")
                .errorAfterTokens(2)
                .build());
        llm.enqueue(Behavior.replying("Fine, thanks.\n\nAnd you?"));

        // when a thought is answered
        ReplyResult result =
                generator.generate(thought("Hi"), sent::add).result().get(30, TimeUnit.SECONDS);

        // then the broken stream counts as an error and is retried, and only the second answer reaches the person
        assertEquals(Outcome.ANSWERED, result.outcome());
        assertEquals(List.of("Fine, thanks.", "And you?"), texts());
        assertEquals(2, llm.requestCount());
        assertEquals(1, counter(LlmMetrics.ERRORS, "kind", "stream_error"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void anErrorInsideTheStreamAfterAPartEndsWithTheApologyNotWithAHalfAnswer(WireFormat wire) throws Exception {
        // given a stream that reports an error once its first paragraph is complete and the second has begun
        String text = "First part here.\n\nSecond part that breaks off.";
        ReplyGenerator generator = start(wire, Map.of(LlmConfig.MAX_ATTEMPTS, "3"));
        llm.enqueue(Behavior.builder()
                .reply(text)
                .errorAfterTokens(tokensThrough(text, "Second"))
                .build());

        // when a thought is answered
        ReplyResult result =
                generator.generate(thought("Hi"), sent::add).result().get(30, TimeUnit.SECONDS);

        // then the part already sent stays, nothing of the broken paragraph follows it, and the apology ends the reply
        assertEquals(Outcome.FAILED, result.outcome());
        assertEquals(List.of("First part here.", APOLOGY), texts());
        assertEquals(1, llm.requestCount(), "not retried once a part was sent");
        assertTrue(result.error().orElseThrow().startsWith("stream_error: "), result::toString);
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void aReplyCutByTheOutputLimitIsAnsweredWithWhatArrivedAsTruncated(WireFormat wire) throws Exception {
        // given a provider whose output limit cuts the reply inside its second paragraph (finish reason length)
        String text = "One short paragraph.\n\nA second one that goes on and on.";
        ReplyGenerator generator = start(wire, Map.of(LlmConfig.MAX_ATTEMPTS, "3"));
        llm.enqueue(Behavior.builder()
                .reply(text)
                .lengthLimitTokens(tokensThrough(text, "second"))
                .build());

        // when a thought is answered
        ReplyResult result =
                generator.generate(thought("Hi"), sent::add).result().get(30, TimeUnit.SECONDS);

        // then it is answered with what the model wrote, as TRUNCATED, without a retry
        assertEquals(Outcome.TRUNCATED, result.outcome());
        assertEquals(List.of("One short paragraph.", "A second"), texts());
        assertTrue(sent.get(1).last());
        assertEquals(1, llm.requestCount());
    }

    @Test
    void anExhaustedQuotaIsABillingStopNotARateLimitAndIsNotRetried() throws Exception {
        // given an OpenAI account out of quota (429 insufficient_quota), and retries allowed
        ReplyGenerator generator = start(WireFormat.OPENAI, Map.of(LlmConfig.MAX_ATTEMPTS, "5"));
        llm.enqueue(Behavior.quotaExhausted());

        // when a thought is answered
        ReplyResult result =
                generator.generate(thought("Hi"), sent::add).result().get(30, TimeUnit.SECONDS);

        // then the model is asked once, the person gets the apology, and it is counted apart from rate limits
        assertEquals(Outcome.FAILED, result.outcome());
        assertTrue(result.error().orElseThrow().startsWith("quota_exhausted: "), result::toString);
        assertEquals(List.of(APOLOGY), texts());
        assertEquals(1, llm.requestCount(), "not retried");
        assertEquals(1, counter(LlmMetrics.ERRORS, "kind", "quota_exhausted"));
        assertEquals(0, counter(LlmMetrics.ERRORS, "kind", "rate_limited"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void anotherClientErrorIsNotRetriedEither(WireFormat wire) throws Exception {
        ReplyGenerator generator = start(wire, Map.of());
        llm.enqueue(Behavior.failing(400));

        ReplyResult result =
                generator.generate(thought("Hi"), sent::add).result().get(30, TimeUnit.SECONDS);

        assertEquals(Outcome.FAILED, result.outcome());
        assertTrue(result.error().orElseThrow().startsWith("client_error: "), result::toString);
        assertEquals(1, llm.requestCount());
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void whenEveryAttemptFailsTheReplyFailsWithTheApologyAndTheLastError(WireFormat wire) throws Exception {
        ReplyGenerator generator = start(wire, Map.of(LlmConfig.MAX_ATTEMPTS, "3"));
        llm.setDefault(Behavior.failing(503));

        ReplyResult result =
                generator.generate(thought("Hi"), sent::add).result().get(30, TimeUnit.SECONDS);

        assertEquals(Outcome.FAILED, result.outcome());
        assertEquals(3, result.calls());
        assertTrue(result.error().orElseThrow().startsWith("server_error: "), result::toString);
        assertTrue(result.error().orElseThrow().contains("503"), result::toString);
        assertEquals(List.of(APOLOGY), texts());
        assertTrue(sent.get(0).last());
        assertEquals(3, llm.requestCount());
        assertEquals(2, counter(LlmMetrics.RETRIES, "reason", "server_error"));
        assertEquals(3, counter(LlmMetrics.ERRORS, "kind", "server_error"));
        assertEquals(3, counter(LlmMetrics.CALLS, "outcome", "error"));
    }

    // ---------------------------------------------------------------------------------------------------------
    // Cut-off streams (the clients' behaviour is documented in testkit's llm package)

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void aStreamCutOffBeforeItsFirstPartIsRetried(WireFormat wire) throws Exception {
        // given a stream dropped after "One", "." (no part can be complete yet), then a normal answer
        ReplyGenerator generator = start(wire, Map.of());
        llm.enqueue(
                Behavior.builder().reply(FOUR_PARAGRAPHS).cutOffAfterTokens(2).build());
        llm.enqueue(Behavior.replying(REPLY));

        ReplyResult result =
                generator.generate(thought("Count"), sent::add).result().get(30, TimeUnit.SECONDS);

        // then both clients report the cut through onError (OpenAI then "completes" too, which must not count)
        assertEquals(Outcome.ANSWERED, result.outcome());
        assertEquals(2, result.calls());
        assertEquals(new PartSplitter(TelegramLimits.MAX_MESSAGE_CHARS).split(REPLY), texts());
        Await.until("the server counts the cut-off", TIMEOUT, () -> llm.cutOffResponses() == 1);
        assertEquals(1, counter(LlmMetrics.RETRIES, "reason", "connection"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void aStreamCutOffMidAnswerEndsWithThePartsThatArrivedAndTheApology(WireFormat wire) throws Exception {
        // given one attempt and a stream that is dropped in the third paragraph
        ReplyGenerator generator = start(wire, Map.of(LlmConfig.MAX_ATTEMPTS, "1"));
        llm.enqueue(Behavior.builder()
                .reply(FOUR_PARAGRAPHS)
                .tokensPerSecond(50)
                .cutOffAfterTokens(5)
                .build());

        ReplyResult result =
                generator.generate(thought("Count"), sent::add).result().get(30, TimeUnit.SECONDS);

        // then a prefix of the complete paragraphs (a client may drop tokens it had not read when the connection
        // broke), closed by the apology; the unfinished "Three" is never sent, also not by OpenAI's late completion
        assertEquals(Outcome.FAILED, result.outcome());
        assertTrue(result.error().orElseThrow().startsWith("connection: "), result::toString);
        List<String> texts = texts();
        int arrived = texts.size() - 1;
        assertTrue(arrived <= 2, texts::toString);
        List<String> expected = new ArrayList<>(List.of("One.", "Two.").subList(0, arrived));
        expected.add(APOLOGY);
        assertEquals(expected, texts);
        assertTrue(sent.get(sent.size() - 1).last());
    }

    // ---------------------------------------------------------------------------------------------------------
    // Cancellation

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void cancellingStopsThePartsAndTheServerSeesTheStreamAbandoned(WireFormat wire) throws Exception {
        // given a long, slowly streamed answer whose first part has arrived
        StringBuilder longReply = new StringBuilder();
        for (int i = 1; i <= 40; i++) {
            longReply.append("Line ").append(i).append(".\n\n");
        }
        ReplyGenerator generator = start(wire, Map.of());
        llm.enqueue(Behavior.builder()
                .reply(longReply.toString())
                .tokensPerSecond(50)
                .build());
        ReplyGeneration generation = generator.generate(thought("Count to forty"), sent::add);
        Await.until("the first part", TIMEOUT, () -> !sent.isEmpty());

        // when
        assertTrue(generation.cancel());
        int partsAtCancel = sent.size();

        // then
        assertEquals(
                Outcome.CANCELLED, generation.result().get(10, TimeUnit.SECONDS).outcome());
        Await.until("the server sees the client leave", TIMEOUT, () -> llm.abandonedStreams() == 1);
        assertEquals(0, llm.completedStreams());
        assertTrue(llm.tokensStreamed() < Tokens.count(longReply.toString()), "the stream stopped early");
        assertEquals(partsAtCancel, sent.size(), "no part after the cancel");
        assertFalse(sent.stream().anyMatch(ReplyPart::last), "a cancelled reply has no last part");
        assertEquals(1, metrics.counter(LlmMetrics.CANCELLATIONS, "").count());
        assertEquals(1, counter(LlmMetrics.CALLS, "outcome", "cancelled"));
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(WireFormat.class)
    void cancellingBeforeTheFirstTokenClosesTheSilentStreamToo(WireFormat wire) throws Exception {
        ReplyGenerator generator = start(wire, Map.of());
        llm.enqueue(Behavior.stallingAfter(0));
        ReplyGeneration generation = generator.generate(thought("Hello?"), sent::add);
        Await.until("the stream stalls before its first token", TIMEOUT, () -> llm.stalledResponses() == 1);

        generation.cancel();

        assertEquals(
                Outcome.CANCELLED, generation.result().get(10, TimeUnit.SECONDS).outcome());
        Await.until("the server sees the client leave", TIMEOUT, () -> llm.abandonedStreams() == 1);
        assertEquals(List.of(), sent);
    }

    // ---------------------------------------------------------------------------------------------------------

    /** A fake server of the wire format, and a generator over the real client of that format. */
    private ReplyGenerator start(WireFormat wire, Map<String, String> overrides) {
        format = wire;
        llm = FakeLlmServer.builder()
                .probeInterval(Duration.ofMillis(20))
                .build()
                .start();
        Map<String, String> env = new HashMap<>();
        env.put(LlmConfig.PROVIDER, provider());
        env.put(LlmConfig.API_URL, wire == WireFormat.OPENAI ? llm.openAiBaseUrl() : llm.ollamaBaseUrl());
        env.put(LlmConfig.MODEL, "test-model");
        // Ollama sends no key, but one may be configured (a proxy in front, say); it is redacted all the same.
        env.put(LlmConfig.API_KEY, API_KEY);
        env.put(LlmConfig.APOLOGY_TEXT, APOLOGY);
        env.put(LlmConfig.SYSTEM_PROMPT, "Answer in short paragraphs.");
        // Retries without noticeable waits, unless a test says otherwise.
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
                metrics);
    }

    private String provider() {
        return format.name().toLowerCase(Locale.ROOT);
    }

    private long counter(String name, String... labels) {
        String[] all = new String[labels.length + 2];
        all[0] = "provider";
        all[1] = provider();
        System.arraycopy(labels, 0, all, 2, labels.length);
        return metrics.counter(name, "", all).count();
    }

    /** How many of the fake server's tokens of {@code text} it takes to reach the one containing {@code word}. */
    private static int tokensThrough(String text, String word) {
        List<String> tokens = Tokens.split(text);
        for (int i = 0; i < tokens.size(); i++) {
            if (tokens.get(i).contains(word)) {
                return i + 1;
            }
        }
        throw new IllegalArgumentException("no token of '" + text + "' contains '" + word + "'");
    }

    private List<String> texts() {
        return sent.stream().map(ReplyPart::text).toList();
    }

    private static Thought thought(String text) {
        return new Thought(
                Thought.SCHEMA_VERSION, "7:1", 7L, List.of(new ThoughtMessage(1, text, 0)), 1, 1, 0, 0, List.of());
    }
}
