package dev.thoughtstream.llm.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.UserMessage;
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
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.llm.generate.ReplyResult.Outcome;
import dev.thoughtstream.llm.model.ScriptedAnswers;
import dev.thoughtstream.llm.model.ScriptedStreamingChatModel;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ReplyGeneratorTest {
    private static final String APOLOGY = "Sorry, not now.";
    private static final long NOW = 1_700_000_000_000L;
    private static final Clock CLOCK = Clock.fixed(Instant.ofEpochMilli(NOW), ZoneOffset.UTC);
    private static final Duration LONG_TIMEOUT = Duration.ofMinutes(5);

    private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(2);
    private final List<ReplyPart> sent = new CopyOnWriteArrayList<>();
    private final PartSink sink = sent::add;

    @AfterEach
    void stopScheduler() {
        scheduler.shutdownNow();
    }

    @Test
    void theScriptedAnswerArrivesAsOrderedPartsWithOnlyTheFinalOneLast() throws Exception {
        // given a paced scripted model and a part limit small enough for many parts
        Thought thought =
                thought("42:100", 42L, 105L, "I adopted a puppy today and she already chewed my favourite shoes");
        ReplyGenerator generator =
                generator(new ScriptedStreamingChatModel(Duration.ZERO, 2_000, scheduler), 40, LONG_TIMEOUT);

        // when
        ReplyResult result = generator.generate(thought, sink).result().get(10, TimeUnit.SECONDS);

        // then
        List<String> expected = new PartSplitter(40).split(ScriptedAnswers.answerTo(thought.text()));
        assertTrue(expected.size() >= 3, "the test needs several parts: " + expected);
        assertEquals(expected, sent.stream().map(ReplyPart::text).toList());
        for (int i = 0; i < sent.size(); i++) {
            ReplyPart part = sent.get(i);
            assertEquals(i, part.seq());
            assertEquals(i == sent.size() - 1, part.last(), "last flag of part " + i);
            assertEquals("r:42:100", part.replyId());
            assertEquals(ReplyPart.replyIdFor("42:100"), part.replyId());
            assertEquals("42:100", part.thoughtId());
            assertEquals(42L, part.chatId());
            assertEquals(105L, part.lastMessageId());
            assertEquals(NOW, part.createdAtMs());
            assertEquals(
                    Long.valueOf(thought.lastWrittenAtMs()),
                    part.lastMessageAtMs(),
                    "when the person last wrote: where their wait began");
            assertEquals(ReplyPart.SCHEMA_VERSION, part.schemaVersion());
        }
        assertEquals(
                new ReplyResult(
                        "42:100",
                        "r:42:100",
                        Outcome.ANSWERED,
                        expected.size(),
                        expected.stream().mapToInt(String::length).sum()),
                result);
    }

    @Test
    void theModelGetsThePromptOfTheThought() throws Exception {
        ManualModel model = new ManualModel();
        Thought thought = thought("1:1", 1L, 1L, "what is up");

        generator(model, 4096, LONG_TIMEOUT).generate(thought, sink);

        List<ChatMessage> prompt = model.request.get(10, TimeUnit.SECONDS).messages();
        assertEquals(new PromptBuilder("be brief").messages(thought), prompt);
    }

    @Test
    void aPartIsSentAsSoonAsTextAfterItShowsThatItIsNotTheLastOne() throws Exception {
        ManualModel model = new ManualModel();
        ReplyGeneration generation = generator(model, 4096, LONG_TIMEOUT).generate(thought("1:1", 1L, 1L, "hi"), sink);

        model.token("Hello!\n\n");
        assertEquals(0, sent.size(), "nothing says yet whether 'Hello!' is the last part");
        model.token("How");
        assertEquals(List.of("Hello!"), texts(), "sent while the model is still writing");
        assertFalse(sent.get(0).last());
        model.token(" are you?\n\nI");
        assertEquals(List.of("Hello!", "How are you?"), texts());
        model.token(" am fine.");
        assertEquals(2, sent.size());
        model.complete("Hello!\n\nHow are you?\n\nI am fine.", FinishReason.STOP);

        assertEquals(
                Outcome.ANSWERED, generation.result().get(10, TimeUnit.SECONDS).outcome());
        assertEquals(List.of("Hello!", "How are you?", "I am fine."), texts());
        assertEquals(
                List.of(false, false, true), sent.stream().map(ReplyPart::last).toList());
    }

    @Test
    void anAnswerEndingInABlankLineStillHasItsFinalPartMarkedLast() throws Exception {
        ManualModel model = new ManualModel();
        ReplyGeneration generation = generator(model, 4096, LONG_TIMEOUT).generate(thought("1:1", 1L, 1L, "hi"), sink);

        model.token("One.\n\nTwo.\n\n");
        model.complete("One.\n\nTwo.\n\n", FinishReason.STOP);

        assertEquals(
                Outcome.ANSWERED, generation.result().get(10, TimeUnit.SECONDS).outcome());
        assertEquals(List.of("One.", "Two."), texts());
        assertEquals(List.of(false, true), sent.stream().map(ReplyPart::last).toList());
    }

    @Test
    void aModelThatFailsGetsOneApologyPart() throws Exception {
        // given a model that fails from its own thread, as HTTP models do
        StreamingChatModel failing = new StreamingChatModel() {
            @Override
            public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
                scheduler.execute(() -> handler.onError(new IllegalStateException("connection refused")));
            }
        };

        ReplyResult result = generator(failing, 4096, LONG_TIMEOUT)
                .generate(thought("9:3", 9L, 4L, "hello?"), sink)
                .result()
                .get(10, TimeUnit.SECONDS);

        assertEquals(Outcome.FAILED, result.outcome());
        assertEquals(Optional.of("other: IllegalStateException: connection refused"), result.error());
        assertEquals(1, sent.size());
        ReplyPart apology = sent.get(0);
        assertEquals(APOLOGY, apology.text());
        assertEquals(0, apology.seq());
        assertTrue(apology.last());
        assertEquals("r:9:3", apology.replyId());
        assertEquals(4L, apology.lastMessageId());
    }

    @Test
    void aModelThatThrowsWhenCalledGetsTheApologyToo() throws Exception {
        StreamingChatModel throwing = new StreamingChatModel() {
            @Override
            public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
                throw new IllegalArgumentException("model not found");
            }
        };

        ReplyResult result = generator(throwing, 4096, LONG_TIMEOUT)
                .generate(thought("9:3", 9L, 3L, "hello?"), sink)
                .result()
                .get(10, TimeUnit.SECONDS);

        assertEquals(Outcome.FAILED, result.outcome());
        assertTrue(
                result.error().orElseThrow().contains("model not found"),
                result.error().toString());
        assertEquals(List.of(APOLOGY), texts());
    }

    @Test
    void anErrorMidStreamKeepsTheCompletePartsAndEndsWithTheApology() throws Exception {
        ManualModel model = new ManualModel();
        ReplyGeneration generation = generator(model, 4096, LONG_TIMEOUT).generate(thought("1:1", 1L, 1L, "hi"), sink);

        model.token("First thought.\n\nSecond thought.\n\nThird, unfinis");
        model.error(new RuntimeException("stream reset"));

        assertEquals(
                Outcome.FAILED, generation.result().get(10, TimeUnit.SECONDS).outcome());
        assertEquals(List.of("First thought.", "Second thought.", APOLOGY), texts());
        assertEquals(
                List.of(false, false, true), sent.stream().map(ReplyPart::last).toList());
        assertEquals(List.of(0, 1, 2), sent.stream().map(ReplyPart::seq).toList());
    }

    @Test
    void aStreamStoppedAtTheLengthLimitIsAnsweredWithWhatArrived() throws Exception {
        ManualModel model = new ManualModel();
        ReplyGeneration generation = generator(model, 4096, LONG_TIMEOUT).generate(thought("1:1", 1L, 1L, "hi"), sink);

        model.token("Sure thing.\n\nLet me");
        model.complete("Sure thing.\n\nLet me", FinishReason.LENGTH);

        assertEquals(
                Outcome.TRUNCATED, generation.result().get(10, TimeUnit.SECONDS).outcome());
        assertEquals(List.of("Sure thing.", "Let me"), texts());
        assertTrue(sent.get(1).last());
    }

    @Test
    void aStreamEndedWithoutAFinishReasonIsAFailedGenerationNotAShortAnswer() throws Exception {
        // given a stream that sent one paragraph and part of the next
        ManualModel model = new ManualModel();
        ReplyGeneration generation = generator(model, 4096, LONG_TIMEOUT).generate(thought("1:1", 1L, 1L, "hi"), sink);
        model.token("Sure thing.\n\nLet me");

        // when it completes without a finish reason (how an error inside the stream ends it)
        model.complete("Sure thing.\n\nLet me", null);

        // then the half paragraph is not sent: the part already sent is followed by the apology
        assertEquals(
                Outcome.FAILED, generation.result().get(10, TimeUnit.SECONDS).outcome());
        assertEquals(List.of("Sure thing.", APOLOGY), texts());
        assertTrue(sent.get(1).last());
    }

    @Test
    void anAnswerWithoutTextIsApologisedFor() throws Exception {
        ManualModel model = new ManualModel();
        ReplyGeneration generation = generator(model, 4096, LONG_TIMEOUT).generate(thought("1:1", 1L, 1L, "hi"), sink);

        model.token(" \n ");
        model.complete("", FinishReason.STOP);

        assertEquals(
                Outcome.APOLOGISED,
                generation.result().get(10, TimeUnit.SECONDS).outcome());
        assertEquals(List.of(APOLOGY), texts());
        assertTrue(sent.get(0).last());
    }

    @Test
    void anAnswerDeliveredOnlyInTheFinalResponseIsStillSplitAndSent() throws Exception {
        ManualModel model = new ManualModel();
        ReplyGeneration generation = generator(model, 4096, LONG_TIMEOUT).generate(thought("1:1", 1L, 1L, "hi"), sink);

        model.complete("One.\n\nTwo.", FinishReason.STOP);

        assertEquals(
                Outcome.ANSWERED, generation.result().get(10, TimeUnit.SECONDS).outcome());
        assertEquals(List.of("One.", "Two."), texts());
    }

    @Test
    void aModelThatNeverAnswersIsApologisedForAtTheReplyTimeoutAndFails() throws Exception {
        StreamingChatModel silent = new StreamingChatModel() {
            @Override
            public void doChat(ChatRequest request, StreamingChatResponseHandler handler) {
                // like an Ollama stream cut off without done:true: no callback ever
            }
        };

        ReplyResult result = generator(silent, 4096, Duration.ofMillis(50))
                .generate(thought("5:5", 5L, 5L, "anyone?"), sink)
                .result()
                .get(10, TimeUnit.SECONDS);

        assertEquals(Outcome.FAILED, result.outcome());
        assertEquals(Optional.of("reply_timeout: no answer within 50 ms"), result.error());
        assertEquals(List.of(APOLOGY), texts());
        assertTrue(sent.get(0).last());
    }

    @Test
    void aStalledStreamIsCancelledAtTheReplyTimeoutAndAnsweredWithWhatArrived() throws Exception {
        ManualModel model = new ManualModel();
        ReplyGeneration generation =
                generator(model, 4096, Duration.ofMillis(50)).generate(thought("1:1", 1L, 1L, "hi"), sink);
        model.token("I was just about to");

        ReplyResult result = generation.result().get(10, TimeUnit.SECONDS);

        assertEquals(Outcome.TIMED_OUT, result.outcome());
        assertEquals(List.of("I was just about to"), texts());
        assertTrue(sent.get(0).last());
        assertTrue(model.handle.isCancelled(), "the model's stream was cancelled");
        model.error(new RuntimeException("closed")); // what an HTTP model reports after a cancel
        assertEquals(1, sent.size(), "an error after the end adds no apology");
    }

    @Test
    void aTimeoutBeforeTheFirstTokenCancelsTheStreamWhenItFinallyStarts() throws Exception {
        ManualModel model = new ManualModel();
        ReplyGeneration generation =
                generator(model, 4096, Duration.ofMillis(50)).generate(thought("1:1", 1L, 1L, "hi"), sink);
        assertEquals(
                Outcome.FAILED, generation.result().get(10, TimeUnit.SECONDS).outcome());

        model.token("Too late.\n\nReally.");

        assertTrue(model.handle.isCancelled());
        assertEquals(List.of(APOLOGY), texts());
    }

    @Test
    void cancellingStopsThePartsAndTheStream() throws Exception {
        ManualModel model = new ManualModel();
        ReplyGeneration generation = generator(model, 4096, LONG_TIMEOUT).generate(thought("1:1", 1L, 1L, "hi"), sink);
        model.token("One.\n\nTwo.\n\n");

        assertTrue(generation.cancel());

        assertEquals(
                Outcome.CANCELLED, generation.result().get(10, TimeUnit.SECONDS).outcome());
        assertTrue(model.handle.isCancelled());
        model.token("Three.\n\nFour.");
        model.complete("One.\n\nTwo.\n\nThree.\n\nFour.", FinishReason.STOP);
        assertEquals(List.of("One."), texts());
        assertFalse(sent.get(0).last(), "a cancelled reply has no last part");
        assertFalse(generation.cancel(), "cancelling twice does nothing");
    }

    @Test
    void aFailingSinkFailsTheResultAndStopsTheStream() throws Exception {
        ManualModel model = new ManualModel();
        PartSink broken = part -> {
            throw new IllegalStateException("producer closed");
        };
        ReplyGeneration generation =
                generator(model, 4096, LONG_TIMEOUT).generate(thought("1:1", 1L, 1L, "hi"), broken);

        model.token("One.\n\nTwo.\n\nThree");

        ExecutionException e =
                assertThrows(ExecutionException.class, () -> generation.result().get(10, TimeUnit.SECONDS));
        assertInstanceOf(IllegalStateException.class, e.getCause());
        assertTrue(model.handle.isCancelled());
    }

    @Test
    void theContextGoesToTheModelAsAlternatingRoles() throws Exception {
        ManualModel model = new ManualModel();
        Thought thought = new Thought(
                Thought.SCHEMA_VERSION,
                "3:9",
                3L,
                List.of(new ThoughtMessage(9, "and now?", 0)),
                9,
                9,
                0,
                0,
                List.of(new dev.thoughtstream.common.event.ContextMessage(
                        dev.thoughtstream.common.event.ContextMessage.Role.ASSISTANT, "earlier answer", 0)));

        generator(model, 4096, LONG_TIMEOUT).generate(thought, sink);

        List<ChatMessage> prompt = model.request.get(10, TimeUnit.SECONDS).messages();
        assertEquals(
                "earlier answer",
                assertInstanceOf(AiMessage.class, prompt.get(1)).text());
        assertEquals(
                "and now?", assertInstanceOf(UserMessage.class, prompt.get(2)).singleText());
    }

    private ReplyGenerator generator(StreamingChatModel model, int maxPartChars, Duration replyTimeout) {
        return new ReplyGenerator(
                model, new PromptBuilder("be brief"), maxPartChars, APOLOGY, replyTimeout, scheduler, CLOCK);
    }

    private List<String> texts() {
        return sent.stream().map(ReplyPart::text).toList();
    }

    private static Thought thought(String thoughtId, long chatId, long lastMessageId, String text) {
        return new Thought(
                Thought.SCHEMA_VERSION,
                thoughtId,
                chatId,
                List.of(new ThoughtMessage(lastMessageId, text, 0)),
                lastMessageId,
                lastMessageId,
                0,
                0,
                List.of());
    }

    /** A model the test drives by hand, on the test thread: every callback happens exactly when the test says. */
    private static final class ManualModel implements StreamingChatModel {
        final CompletableFuture<ChatRequest> request = new CompletableFuture<>();
        final CompletableFuture<StreamingChatResponseHandler> handler = new CompletableFuture<>();
        final TestHandle handle = new TestHandle();

        @Override
        public void doChat(ChatRequest chatRequest, StreamingChatResponseHandler streamingHandler) {
            request.complete(chatRequest);
            handler.complete(streamingHandler);
        }

        void token(String text) {
            handler.join().onPartialResponse(new PartialResponse(text), new PartialResponseContext(handle));
        }

        void complete(String text, FinishReason reason) {
            handler.join()
                    .onCompleteResponse(ChatResponse.builder()
                            .aiMessage(AiMessage.from(text))
                            .finishReason(reason)
                            .build());
        }

        void error(Throwable t) {
            handler.join().onError(t);
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
