package dev.thoughtstream.llm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.PartialResponse;
import dev.langchain4j.model.chat.response.PartialResponseContext;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.chat.response.StreamingHandle;
import dev.langchain4j.model.output.FinishReason;
import dev.thoughtstream.llm.generate.PartSplitter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ScriptedModelsTest {
    private static final Pattern SENTENCE_END = Pattern.compile("[.!?](\\s|$)");

    /** One thread, so that a task queued now runs after the one running now (see {@link #awaitIdle()}). */
    private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);

    ScriptedModelsTest() {
        scheduler.setRemoveOnCancelPolicy(true);
    }

    @AfterEach
    void stopScheduler() {
        scheduler.shutdownNow();
    }

    @Test
    void theSameMessageAlwaysGetsTheSameAnswer() {
        ScriptedChatModel model = new ScriptedChatModel(Duration.ZERO, 0, scheduler);

        String first = model.chat(request("My sister is visiting next week and I have not cleaned at all"))
                .aiMessage()
                .text();
        String second = model.chat(request("My sister is visiting next week and I have not cleaned at all"))
                .aiMessage()
                .text();

        assertEquals(first, second);
        assertEquals(first, ScriptedAnswers.answerTo("My sister is visiting next week and I have not cleaned at all"));
    }

    @Test
    void differentMessagesGetDifferentAnswers() {
        ScriptedChatModel model = new ScriptedChatModel(Duration.ZERO, 0, scheduler);

        String a = model.chat(request("I love rainy Sundays")).aiMessage().text();
        String b = model.chat(request("Work was exhausting today")).aiMessage().text();

        assertNotEquals(a, b);
    }

    @Test
    void theAnswerIsSeveralSentencesInTwoOrThreeParagraphsAndQuotesTheMessage() {
        ScriptedChatModel model = new ScriptedChatModel(Duration.ZERO, 0, scheduler);
        for (String message : List.of(
                "hi",
                "I finally finished the marathon yesterday!",
                "what do you think about " + "moving to a smaller flat closer to the river, honestly?",
                "   ",
                "\"quoted\" text\nover lines")) {

            String answer = model.chat(request(message)).aiMessage().text();

            List<String> paragraphs = new PartSplitter(4096).split(answer);
            assertTrue(paragraphs.size() >= 2 && paragraphs.size() <= 3, "paragraphs of: " + answer);
            assertTrue(SENTENCE_END.matcher(answer).results().count() >= 3, "sentences of: " + answer);
            String firstWord = message.strip().split("\\s+")[0].replace('"', '\'');
            assertTrue(answer.contains(firstWord), "quotes the message: " + answer);
        }
    }

    @Test
    void theAnswerRespondsToTheLastUserMessageNotTheContext() {
        ScriptedChatModel model = new ScriptedChatModel(Duration.ZERO, 0, scheduler);
        ChatRequest withContext = ChatRequest.builder()
                .messages(
                        SystemMessage.from("be nice"),
                        UserMessage.from("an older message"),
                        AiMessage.from("an older answer"),
                        UserMessage.from("the newest message"))
                .build();

        ChatResponse response = model.chat(withContext);

        assertEquals(
                ScriptedAnswers.answerTo("the newest message"),
                response.aiMessage().text());
        assertEquals(FinishReason.STOP, response.finishReason());
        assertEquals(2 + 3 + 3 + 3, response.tokenUsage().inputTokenCount(), "words of the whole prompt");
    }

    @Test
    void aPacedSyncAnswerIsTheSameAnswer() {
        ScriptedChatModel paced = new ScriptedChatModel(Duration.ofMillis(5), 2_000, scheduler);

        String answer = paced.chat(request("pace me")).aiMessage().text();

        assertEquals(ScriptedAnswers.answerTo("pace me"), answer);
    }

    @Test
    void streamedDeltasConcatenateToTheSyncAnswer() throws Exception {
        ScriptedStreamingChatModel streaming = new ScriptedStreamingChatModel(Duration.ZERO, 0, scheduler);
        String message = "Can you help me plan a birthday party for my grandmother?";
        Recorder recorder = new Recorder();

        streaming.chat(request(message), recorder);

        ChatResponse complete = recorder.complete.get(10, TimeUnit.SECONDS);
        String expected = new ScriptedChatModel(Duration.ZERO, 0, scheduler)
                .chat(request(message))
                .aiMessage()
                .text();
        assertEquals(expected, String.join("", recorder.tokens));
        assertTrue(recorder.tokens.size() > 10, "many small deltas: " + recorder.tokens.size());
        assertEquals(expected, complete.aiMessage().text());
        assertEquals(FinishReason.STOP, complete.finishReason());
        assertEquals(recorder.tokens.size(), complete.tokenUsage().outputTokenCount());
        assertNull(recorder.error.get());
    }

    @Test
    void pacedStreamingDeliversTheSameDeltas() throws Exception {
        ScriptedStreamingChatModel paced = new ScriptedStreamingChatModel(Duration.ofMillis(5), 5_000, scheduler);
        Recorder recorder = new Recorder();

        paced.chat(request("slow and steady"), recorder);

        ChatResponse complete = recorder.complete.get(10, TimeUnit.SECONDS);
        assertEquals(ScriptedAnswers.tokens(ScriptedAnswers.answerTo("slow and steady")), recorder.tokens);
        assertEquals(complete.aiMessage().text(), String.join("", recorder.tokens));
    }

    @Test
    void cancellingFromTheHandlerStopsFurtherTokensAndTheCompletion() throws Exception {
        ScriptedStreamingChatModel streaming = new ScriptedStreamingChatModel(Duration.ZERO, 1_000, scheduler);
        Recorder recorder = new Recorder() {
            @Override
            public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
                super.onPartialResponse(partial, context);
                if (tokens.size() == 3) {
                    context.streamingHandle().cancel();
                }
            }
        };

        streaming.chat(request("please stop after three tokens, thank you very much"), recorder);

        awaitIdle();
        assertEquals(3, recorder.tokens.size());
        assertTrue(recorder.handle.get().isCancelled());
        assertFalse(recorder.complete.isDone());
        assertNull(recorder.error.get());
    }

    @Test
    void cancellingFromAnotherThreadStopsTheStream() throws Exception {
        // given a slow stream (20 tokens per second, dozens of tokens)
        ScriptedStreamingChatModel streaming = new ScriptedStreamingChatModel(Duration.ZERO, 20, scheduler);
        String message = "tell me something long about the sea and the wind and the boats";
        int total = ScriptedAnswers.tokens(ScriptedAnswers.answerTo(message)).size();
        Recorder recorder = new Recorder();
        streaming.chat(request(message), recorder);
        assertTrue(recorder.firstToken.await(10, TimeUnit.SECONDS));

        // when
        recorder.handle.get().cancel();
        int atCancel = recorder.tokens.size();

        // then: at most a token already in flight arrives, and the stream never completes
        awaitIdle();
        assertTrue(recorder.tokens.size() <= atCancel + 1, recorder.tokens.size() + " tokens after " + atCancel);
        assertTrue(recorder.tokens.size() < total);
        assertFalse(recorder.complete.isDone());
    }

    @Test
    void aShutDownSchedulerIsReportedThroughOnError() {
        ScriptedStreamingChatModel streaming = new ScriptedStreamingChatModel(Duration.ZERO, 0, scheduler);
        scheduler.shutdownNow();
        Recorder recorder = new Recorder();

        streaming.chat(request("anyone there?"), recorder);

        assertTrue(recorder.error.get() != null, "onError was called");
    }

    /**
     * Waits until the scheduler has nothing queued and nothing running, so no stream can deliver anything more. An
     * empty queue leaves only the running task able to schedule more; the no-op fence runs after it; an empty queue
     * after the fence means nothing is left at all.
     */
    private void awaitIdle() throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            if (scheduler.getQueue().isEmpty()) {
                scheduler.submit(() -> {}).get(10, TimeUnit.SECONDS);
                if (scheduler.getQueue().isEmpty()) {
                    return;
                }
            }
            LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1)); // polling a condition, not waiting for time
        }
        throw new AssertionError(
                "scheduler still busy after 10 s: " + scheduler.getQueue().size() + " queued");
    }

    private static ChatRequest request(String userText) {
        return ChatRequest.builder()
                .messages(SystemMessage.from("be nice"), UserMessage.from(userText))
                .build();
    }

    static class Recorder implements StreamingChatResponseHandler {
        final List<String> tokens = new CopyOnWriteArrayList<>();
        final CountDownLatch firstToken = new CountDownLatch(1);
        final AtomicReference<StreamingHandle> handle = new AtomicReference<>();
        final CompletableFuture<ChatResponse> complete = new CompletableFuture<>();
        final AtomicReference<Throwable> error = new AtomicReference<>();

        @Override
        public void onPartialResponse(PartialResponse partial, PartialResponseContext context) {
            handle.compareAndSet(null, context.streamingHandle());
            tokens.add(partial.text());
            firstToken.countDown();
        }

        @Override
        public void onCompleteResponse(ChatResponse response) {
            complete.complete(response);
        }

        @Override
        public void onError(Throwable t) {
            error.set(t);
        }
    }
}
