package dev.thoughtstream.testkit.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.exception.AuthenticationException;
import dev.langchain4j.exception.LangChain4jException;
import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.thoughtstream.testkit.Await;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The real LangChain4j 1.18.1 OpenAI clients against {@link FakeLlmServer}, over sockets. */
class FakeLlmServerOpenAiClientTest extends FakeLlmServerClientContract {
    static final String API_KEY = "sk-test-key";
    private static final String MODEL = "gpt-4o-mini";

    @Override
    FakeLlmServer startServer() {
        return FakeLlmServer.builder().apiKey(API_KEY).build().start();
    }

    @Override
    ChatModel chatModel(int maxRetries, Duration timeout) {
        return OpenAiChatModel.builder()
                .baseUrl(server.openAiBaseUrl())
                .apiKey(API_KEY)
                .modelName(MODEL)
                .timeout(timeout)
                .maxRetries(maxRetries)
                .build();
    }

    @Override
    StreamingChatModel streamingModel(Duration timeout) {
        return OpenAiStreamingChatModel.builder()
                .baseUrl(server.openAiBaseUrl())
                .apiKey(API_KEY)
                .modelName(MODEL)
                .timeout(timeout)
                .build();
    }

    @Override
    String modelName() {
        return MODEL;
    }

    @Override
    WireFormat wireFormat() {
        return WireFormat.OPENAI;
    }

    @Override
    String chatPath() {
        return "/v1/chat/completions";
    }

    @Override
    boolean sendsAuthorization() {
        return true;
    }

    @Test
    void wrongApiKeyBecomesAuthenticationExceptionAndIsNotRetried() {
        OpenAiChatModel model = OpenAiChatModel.builder()
                .baseUrl(server.openAiBaseUrl())
                .apiKey("sk-wrong")
                .modelName(MODEL)
                .timeout(Duration.ofSeconds(5))
                .maxRetries(2)
                .build();
        server.enqueue(Behavior.replying("must not be used"));

        assertThrows(AuthenticationException.class, () -> model.chat(CONVERSATION));
        assertEquals(1, server.requestCount());
        assertTrue(server.requests().get(0).authorizationPresent());
        assertEquals(1, server.pendingBehaviors(), "an unauthorised request consumes no scripted behaviour");
    }

    @Test
    void cutOffStreamReportsAnErrorAndThenCompletesWithoutFinishReason() {
        StreamRecorder recorder = startCutOffStream();

        Await.until("client completed", TIMEOUT, () -> recorder.complete.get() != null);
        // What LangChain4j 1.18.1 really does with an unterminated chunked SSE body (observed, not documented):
        // the JDK client's read fails (IOException "closed"), the SSE parser reports it through onError, and then
        // the listener's onClose still calls onCompleteResponse with the text so far and no finish reason.
        // So a consumer sees BOTH callbacks; the null finish reason is the reliable sign of truncation.
        int received = assertReceivedAPrefixOfTheCutOffReply(recorder);
        List<String> expectedEvents = new ArrayList<>(Collections.nCopies(received, "partial"));
        expectedEvents.addAll(List.of("error", "complete"));
        assertEquals(expectedEvents, recorder.events, "error was " + recorder.error.get());
        assertInstanceOf(LangChain4jException.class, recorder.error.get());
        assertInstanceOf(IOException.class, recorder.error.get().getCause());
        assertNull(recorder.complete.get().finishReason());
        assertEquals(recorder.text(), recorder.complete.get().aiMessage().text());
        assertEquals(0, server.completedStreams());
    }
}
