package dev.thoughtstream.bench.e2e;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.llm.model.ScriptedAnswers;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import dev.thoughtstream.testkit.llm.LlmMessage;
import dev.thoughtstream.testkit.llm.RecordedRequest;
import dev.thoughtstream.testkit.llm.Tokens;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Item 5: a model that streams at a human-readable pace (the fake LLM server over the OpenAI wire format, read
 * by the real LangChain4j client). The processor sends a part as soon as its paragraph is complete, so the first
 * part should arrive long before the full reply; the overheads say how far behind the model each part arrives.
 */
final class StreamingScenario {
    static final long FIRST_CHAT = 3_000_001L;
    static final String API_KEY = "sk-bench-offline";

    /** Everything item 5 prints. */
    record Result(
            Summary modelFirstPart,
            Summary modelFull,
            Summary toFirstPart,
            Summary toFullReply,
            Summary firstPartProduced,
            Summary firstPartOverhead,
            Summary fullReplyOverhead,
            Summary personFirstPart,
            int chats,
            int measured) {}

    private StreamingScenario() {}

    /** The fake server answers as the scripted model would, so the replies have the same paragraphs. */
    static FakeLlmServer startModel() {
        return FakeLlmServer.builder()
                .apiKey(API_KEY)
                .responder(messages -> ScriptedAnswers.answerTo(lastUser(messages)))
                .build()
                .start();
    }

    static Map<String, String> settings(FakeLlmServer model) {
        return Map.of(
                "LLM_PROVIDER",
                "openai",
                "LLM_API_URL",
                model.openAiBaseUrl(),
                "LLM_API_KEY",
                API_KEY,
                "LLM_MODEL",
                model.modelName());
    }

    static Result run(PipelineStack stack, FakeLlmServer model, String bootstrap, E2eOptions o, PrintStream out)
            throws InterruptedException {
        model.setDefault(dev.thoughtstream.testkit.llm.Behavior.builder()
                .tokensPerSecond(o.streamTokensPerSecond())
                .build());
        TelegramEmulator emulator = stack.emulator();
        List<Long> chats = new ArrayList<>();
        Map<Long, String> texts = new HashMap<>();
        Map<Long, Integer> messageIds = new HashMap<>();
        for (int i = 0; i < o.streamChats(); i++) {
            long chat = FIRST_CHAT + i;
            chats.add(chat);
            String text = "Chat " + chat + " here, I wonder how the streaming reply feels today.";
            texts.put(chat, text);
            messageIds.put(chat, emulator.injectMessage(chat, text).messageId());
        }
        out.printf(
                "  %d chats, one message each; the model streams %.0f tokens/s%n",
                chats.size(), o.streamTokensPerSecond());
        Duration timeout = Duration.ofSeconds(120);
        boolean done = Poll.until(timeout, Duration.ofMillis(500), () -> {
            PipelineRecords r = new PipelineRecords(bootstrap, stack.topics());
            return chats.stream().allMatch(chat -> replySent(r, Thought.idFor(chat, messageIds.get(chat))));
        });
        if (!done) {
            out.println("  note: not every reply was sent in full before the timeout");
        }
        PipelineRecords records = new PipelineRecords(bootstrap, stack.topics());
        Transcripts transcripts = new Transcripts(emulator, chats);
        Map<String, RecordedRequest> requestByText = new HashMap<>();
        for (RecordedRequest r : model.requests()) {
            requestByText.putIfAbsent(r.lastUserMessage(), r);
        }
        double msPerToken = 1000.0 / o.streamTokensPerSecond();
        List<Double> modelFirst = new ArrayList<>();
        List<Double> modelFull = new ArrayList<>();
        List<Double> toFirst = new ArrayList<>();
        List<Double> toFull = new ArrayList<>();
        List<Double> produced = new ArrayList<>();
        List<Double> firstOverhead = new ArrayList<>();
        List<Double> fullOverhead = new ArrayList<>();
        List<Double> person = new ArrayList<>();
        int measured = 0;
        for (long chat : chats) {
            String thoughtId = Thought.idFor(chat, messageIds.get(chat));
            RecordedRequest request = requestByText.get(texts.get(chat));
            List<Delivery> sent = records.deliveries(thoughtId).stream()
                    .filter(d -> d.outcome() == Delivery.Outcome.SENT)
                    .sorted(Comparator.comparingInt(Delivery::seq))
                    .toList();
            if (request == null || sent.isEmpty() || !replySent(records, thoughtId)) {
                continue;
            }
            Optional<Long> firstAt = transcripts.botAt(chat, sent.get(0).telegramMessageId());
            Optional<Long> lastAt =
                    transcripts.botAt(chat, sent.get(sent.size() - 1).telegramMessageId());
            if (firstAt.isEmpty() || lastAt.isEmpty()) {
                continue;
            }
            measured++;
            long requestAt = request.at().toEpochMilli();
            List<String> tokens = Tokens.split(ScriptedAnswers.answerTo(texts.get(chat)));
            double firstReady = (firstPartTokenIndex(tokens) + 1) * msPerToken;
            double fullReady = tokens.size() * msPerToken;
            modelFirst.add(firstReady);
            modelFull.add(fullReady);
            toFirst.add((double) (firstAt.get() - requestAt));
            toFull.add((double) (lastAt.get() - requestAt));
            firstOverhead.add(firstAt.get() - requestAt - firstReady);
            records.parts(thoughtId).stream()
                    .filter(p -> p.seq() == 0)
                    .findFirst()
                    .ifPresent(p -> produced.add(p.createdAtMs() - requestAt - firstReady));
            fullOverhead.add(lastAt.get() - requestAt - fullReady);
            transcripts
                    .userAt(chat, messageIds.get(chat))
                    .ifPresent(at -> person.add((double) (firstAt.get() - at - o.gapMs())));
        }
        return new Result(
                Summary.of(modelFirst),
                Summary.of(modelFull),
                Summary.of(toFirst),
                Summary.of(toFull),
                Summary.of(produced),
                Summary.of(firstOverhead),
                Summary.of(fullOverhead),
                Summary.of(person),
                chats.size(),
                measured);
    }

    /**
     * The token after which the processor can send the first part: the one that brings the first non-blank
     * character after the first blank line (a paragraph ends only once more text follows it); the last token
     * when the reply is a single paragraph.
     */
    static int firstPartTokenIndex(List<String> tokens) {
        StringBuilder text = new StringBuilder();
        for (int i = 0; i < tokens.size(); i++) {
            text.append(tokens.get(i));
            int blank = text.indexOf("\n\n");
            if (blank >= 0 && !text.substring(blank).isBlank()) {
                return i;
            }
        }
        return tokens.size() - 1;
    }

    private static boolean replySent(PipelineRecords r, String thoughtId) {
        List<ReplyPart> parts = r.parts(thoughtId);
        return parts.stream().anyMatch(ReplyPart::last)
                && parts.stream().allMatch(p -> r.outcome(thoughtId, p.seq()).isPresent());
    }

    private static String lastUser(List<LlmMessage> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role().equals("user")) {
                return messages.get(i).content();
            }
        }
        return "";
    }
}
