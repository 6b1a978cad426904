package dev.thoughtstream.testkit.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.AuthenticationException;
import dev.langchain4j.exception.InternalServerException;
import dev.langchain4j.exception.LangChain4jException;
import dev.langchain4j.exception.RateLimitException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.output.FinishReason;
import dev.thoughtstream.testkit.Await;
import java.time.Duration;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What a real LangChain4j 1.18.1 client sees of {@link FakeLlmServer}, over sockets, whatever the wire format: one
 * subclass per format supplies the clients and what differs on the wire. Where the two clients behave differently
 * (a cut-off stream), each subclass states its own client's behaviour.
 */
abstract class FakeLlmServerClientContract {
    /** Generous: each awaited event takes milliseconds on an idle machine. */
    static final Duration TIMEOUT = Duration.ofSeconds(10);

    static final List<ChatMessage> CONVERSATION = List.of(
            SystemMessage.from("You are a friend."),
            UserMessage.from("I went hiking today"),
            AiMessage.from("Nice! Where?"),
            UserMessage.from("Up the hill behind the old mill, it was windy"));
    /** A reply of eight tokens for {@link #startCutOffStream}, cut off after four. */
    static final String CUT_OFF_REPLY = "one two three four five six seven eight";

    FakeLlmServer server;

    /** A started server that this format's clients can talk to. */
    abstract FakeLlmServer startServer();

    /** This format's blocking client, with LangChain4j's own retries set to {@code maxRetries}. */
    abstract ChatModel chatModel(int maxRetries, Duration timeout);

    /** This format's streaming client. */
    abstract StreamingChatModel streamingModel(Duration timeout);

    /** The model the clients ask for. */
    abstract String modelName();

    abstract WireFormat wireFormat();

    /** Where the client posts a chat request. */
    abstract String chatPath();

    /** Whether the client sends an {@code Authorization} header. */
    abstract boolean sendsAuthorization();

    @BeforeEach
    void start() {
        server = startServer();
    }

    @AfterEach
    void closeServer() {
        server.close();
    }

    StreamingChatModel streamingModel() {
        return streamingModel(Duration.ofSeconds(5));
    }

    private static String expectedReply() {
        return Responder.echo().reply(List.of(LlmMessage.user("Up the hill behind the old mill, it was windy")));
    }

    /**
     * Streams {@link #CUT_OFF_REPLY} with the connection cut after four tokens, and waits until the server cut it.
     */
    StreamRecorder startCutOffStream() {
        server.enqueue(Behavior.builder()
                .reply(CUT_OFF_REPLY)
                .cutOffAfterTokens(4)
                .tokensPerSecond(50)
                .build());
        StreamRecorder recorder = new StreamRecorder();
        streamingModel().chat(CONVERSATION, recorder);
        Await.until("server cut the connection", TIMEOUT, () -> server.cutOffResponses() == 1);
        return recorder;
    }

    /**
     * Asserts that the client received a prefix of the four tokens sent before the cut, and returns its length.
     * Tokens that reached the socket but were not read yet when the failure registered are dropped by the JDK's
     * response stream, so the client holds a prefix (usually all four).
     */
    static int assertReceivedAPrefixOfTheCutOffReply(StreamRecorder recorder) {
        int received = recorder.partials.size();
        assertTrue(received <= 4, recorder.partials.toString());
        assertEquals(Tokens.split(CUT_OFF_REPLY).subList(0, received), recorder.partials);
        return received;
    }

    @Test
    void syncChatReturnsTheRespondersReplyAndTokenUsage() {
        ChatResponse response = chatModel(0, Duration.ofSeconds(5)).chat(CONVERSATION);

        assertEquals(expectedReply(), response.aiMessage().text());
        assertEquals(FinishReason.STOP, response.finishReason());
        assertEquals(Tokens.count(expectedReply()), response.tokenUsage().outputTokenCount());
        assertTrue(response.tokenUsage().inputTokenCount() > 0);
        assertEquals(modelName(), response.modelName());
    }

    @Test
    void theRecordedRequestCarriesTheSystemUserAndAssistantMessagesTheClientSent() {
        chatModel(0, Duration.ofSeconds(5)).chat(CONVERSATION);

        RecordedRequest request = server.requests().get(0);
        assertEquals(wireFormat(), request.format());
        assertEquals(chatPath(), request.path());
        assertFalse(request.stream());
        assertEquals(modelName(), request.model());
        assertEquals(sendsAuthorization(), request.authorizationPresent());
        assertEquals(
                List.of(
                        LlmMessage.system("You are a friend."),
                        LlmMessage.user("I went hiking today"),
                        LlmMessage.assistant("Nice! Where?"),
                        LlmMessage.user("Up the hill behind the old mill, it was windy")),
                request.messages());
    }

    @Test
    void streamedPartialsConcatenateToTheFullReplyAndTheCompleteResponseCarriesUsage() {
        String reply = "First paragraph, short.\n\nSecond paragraph: with punctuation!\n\nThird.";
        server.enqueue(Behavior.replying(reply));
        StreamRecorder recorder = new StreamRecorder();

        streamingModel().chat(CONVERSATION, recorder);

        Await.until("complete response", TIMEOUT, () -> recorder.complete.get() != null);
        assertNull(recorder.error.get());
        assertEquals(Tokens.split(reply), recorder.partials);
        assertEquals(reply, recorder.text());
        ChatResponse complete = recorder.complete.get();
        assertEquals(reply, complete.aiMessage().text());
        assertEquals(FinishReason.STOP, complete.finishReason());
        assertEquals(Tokens.count(reply), complete.tokenUsage().outputTokenCount());
        assertEquals(
                server.requests().get(0).messages().stream()
                        .mapToInt(m -> Tokens.count(m.content()))
                        .sum(),
                complete.tokenUsage().inputTokenCount());
        assertTrue(server.requests().get(0).stream());
        Await.until("server counts the completed stream", TIMEOUT, () -> server.completedStreams() == 1);
    }

    @Test
    void serverErrorBecomesInternalServerExceptionAndIsNotRetriedWithMaxRetriesZero() {
        server.enqueue(Behavior.failing(500));

        assertThrows(
                InternalServerException.class,
                () -> chatModel(0, Duration.ofSeconds(5)).chat(CONVERSATION));
        assertEquals(1, server.requestCount());
    }

    @Test
    void serverErrorIsRetriedAndTheNextScriptedBehaviourAnswersTheRetry() {
        server.enqueue(Behavior.failing(503));
        server.enqueue(Behavior.replying("second time lucky"));

        ChatResponse response = chatModel(1, Duration.ofSeconds(5)).chat(CONVERSATION);

        assertEquals("second time lucky", response.aiMessage().text());
        assertEquals(2, server.requestCount());
        assertEquals(0, server.pendingBehaviors());
    }

    @Test
    void rateLimitBecomesRateLimitException() {
        server.enqueue(Behavior.rateLimited(7));

        assertThrows(
                RateLimitException.class,
                () -> chatModel(0, Duration.ofSeconds(5)).chat(CONVERSATION));
        assertEquals(1, server.requestCount());
    }

    @Test
    void scriptedUnauthorisedStatusBecomesAuthenticationExceptionAndIsNotRetried() {
        server.enqueue(Behavior.failing(401));

        assertThrows(
                AuthenticationException.class,
                () -> chatModel(2, Duration.ofSeconds(5)).chat(CONVERSATION));
        assertEquals(1, server.requestCount());
    }

    @Test
    void latencyBeyondTheClientTimeoutBecomesTimeoutException() {
        server.enqueue(Behavior.builder().latency(Duration.ofSeconds(30)).build());

        assertThrows(
                TimeoutException.class,
                () -> chatModel(0, Duration.ofMillis(300)).chat(CONVERSATION));
        assertEquals(1, server.requestCount());
    }

    @Test
    void hangingRequestBecomesTimeoutExceptionWhileTheServerHoldsIt() {
        server.enqueue(Behavior.hanging());

        assertThrows(
                TimeoutException.class,
                () -> chatModel(0, Duration.ofMillis(300)).chat(CONVERSATION));
        Await.until("server still holds the request", TIMEOUT, () -> server.hungRequests() == 1);
    }

    @Test
    void streamingLatencyBeyondTheClientTimeoutArrivesAsTimeoutExceptionThroughOnError() {
        server.enqueue(Behavior.builder().latency(Duration.ofSeconds(30)).build());
        StreamRecorder recorder = new StreamRecorder();

        streamingModel(Duration.ofMillis(300)).chat(CONVERSATION, recorder);

        Await.until("error callback", TIMEOUT, () -> recorder.error.get() != null);
        assertInstanceOf(TimeoutException.class, recorder.error.get());
        assertTrue(recorder.partials.isEmpty());
    }

    @Test
    void streamErrorStatusArrivesThroughOnError() {
        server.enqueue(Behavior.failing(500));
        StreamRecorder recorder = new StreamRecorder();

        streamingModel().chat(CONVERSATION, recorder);

        Await.until("error callback", TIMEOUT, () -> recorder.error.get() != null);
        assertInstanceOf(InternalServerException.class, recorder.error.get());
        assertTrue(recorder.partials.isEmpty());
        assertNull(recorder.complete.get());
    }

    @Test
    void stalledStreamDeliversExactlyTheTokensBeforeTheStallAndStaysOpenUntilTheClientCancels() {
        String reply = "one two three four five six seven eight";
        server.enqueue(Behavior.builder().reply(reply).stallAfterTokens(3).build());
        StreamRecorder recorder = new StreamRecorder();

        streamingModel().chat(CONVERSATION, recorder);

        Await.until("server stalls", TIMEOUT, () -> server.stalledResponses() == 1);
        Await.until("client receives the tokens sent before the stall", TIMEOUT, () -> recorder.partials.size() == 3);
        assertEquals("one two three", recorder.text());
        assertFalse(recorder.ended(), "a stalled stream neither completes nor fails");

        recorder.handle.get().cancel();

        Await.until("server notices the client left", TIMEOUT, () -> server.abandonedStreams() == 1);
        assertEquals(0, server.stalledResponses());
        assertEquals(List.of("one", " two", " three"), recorder.partials, "nothing arrived after the stall");
        // LangChain4j 1.18.1: cancelling from another thread while the client blocks on the socket still
        // reports the closed stream through onError; a consumer must ignore it when the handle is cancelled.
        Await.until("onError after the cancel", TIMEOUT, () -> recorder.error.get() != null);
        assertInstanceOf(LangChain4jException.class, recorder.error.get());
        assertTrue(recorder.handle.get().isCancelled());
        assertNull(recorder.complete.get());
        assertEquals(0, server.completedStreams());
    }

    @Test
    void cancellingThroughTheStreamingHandleStopsTokensAndTheServerCountsAnAbandonedStream() {
        String reply = String.join(" ", Collections.nCopies(200, "word"));
        server.enqueue(Behavior.builder().reply(reply).tokensPerSecond(50).build());
        StreamRecorder recorder = new StreamRecorder((index, token, handle) -> {
            if (index == 2) {
                handle.cancel();
            }
        });

        streamingModel().chat(CONVERSATION, recorder);

        Await.until("server notices the cancelled stream", TIMEOUT, () -> server.abandonedStreams() == 1);
        assertEquals(List.of("word", " word"), recorder.partials);
        assertTrue(recorder.handle.get().isCancelled());
        assertNull(recorder.complete.get());
        assertTrue(server.tokensStreamed() < 200);
        // Cancelled from inside the callback, the client stops reading at once: no onError, no onCompleteResponse.
        assertEquals(List.of("partial", "partial"), recorder.events);
        assertEquals(0, server.completedStreams());
    }

    @Test
    void pacedStreamDeliversTheFirstTokenBeforeTheLastIsProduced() {
        String reply = "alpha beta gamma delta epsilon zeta eta theta";
        int total = Tokens.count(reply);
        // 8 tokens at 8 per second: the last is produced about a second after the first.
        server.enqueue(Behavior.builder().reply(reply).tokensPerSecond(8).build());
        List<Long> producedAtArrival = new CopyOnWriteArrayList<>();
        StreamRecorder recorder =
                new StreamRecorder((index, token, handle) -> producedAtArrival.add(server.tokensStreamed()));

        streamingModel().chat(CONVERSATION, recorder);

        Await.until("complete response", TIMEOUT, () -> recorder.complete.get() != null);
        assertEquals(reply, recorder.text());
        assertEquals(total, producedAtArrival.size());
        assertTrue(
                producedAtArrival.get(0) < total,
                "first token arrived after all " + total + " were produced: " + producedAtArrival);
        for (int i = 1; i < producedAtArrival.size(); i++) {
            assertTrue(producedAtArrival.get(i) >= producedAtArrival.get(i - 1), producedAtArrival.toString());
        }
    }
}
