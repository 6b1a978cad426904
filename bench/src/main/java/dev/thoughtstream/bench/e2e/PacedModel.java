package dev.thoughtstream.bench.e2e;

import dev.thoughtstream.llm.model.ScriptedAnswers;
import dev.thoughtstream.testkit.llm.Behavior;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import dev.thoughtstream.testkit.llm.LlmMessage;
import dev.thoughtstream.testkit.llm.RecordedRequest;
import dev.thoughtstream.testkit.llm.Tokens;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A model with a real model's timing, over HTTP: testkit's {@link FakeLlmServer} speaking OpenAI's streaming wire
 * format (so the real LangChain4j client and the llm-processor's asynchronous HTTP client carry every stream), its
 * first token {@code ttft} after the request, then one token every {@code 1/tokensPerSecond}. Its replies are a
 * typical chat answer: 60–120 tokens in 2 or 3 short paragraphs ({@link #answer}), so 2 or 3 parts.
 *
 * <p>With a {@code tick} (item 8's default), the server writes the tokens of all its streams from one thread once per
 * tick, every stream's tokens that fell due since the last tick in one write ({@link FakeLlmServer.Builder#pacingTick}),
 * instead of a thread wake-up, a write and a flush per token and stream: with hundreds of streams at 100 tokens/s the
 * latter costs the machine more CPU than the llm-processor under test. A token then reaches the client up to one tick
 * after it was due, together with the others due by then.
 *
 * <p>It records, per prompt (a thought's text is its last user message), when the request arrived and when the
 * server flushed the token that completes the first part (the part-splitting rule of
 * {@link StreamingScenario#firstPartTokenIndex}), the first and the last token: the model's own time, as it
 * really went on this machine, not as it was scheduled. With a tick, a token's time is that of the write that carried
 * it.
 */
final class PacedModel implements AutoCloseable {
    static final String API_KEY = "sk-bench-offline";
    /** Requests handled at once before the fake server drops connections: far above any in-flight budget run. */
    private static final int MAX_CONCURRENT = 8192;

    private static final String[] FILLERS = {
        "I think that is a fair way to see it.",
        "Some days are simply like that, and it passes.",
        "You do not have to sort it all out tonight.",
        "Tell me more if you feel like it.",
        "It sounds like you have thought about this a lot already.",
        "That would make anyone stop and think for a moment.",
        "There is no wrong answer here, honestly.",
        "Small steps usually work better than big plans.",
    };

    /** One stream as the server wrote it; times in epoch ms (the server's clock, this JVM's). */
    static final class Stream {
        final long requestAtMs;
        final int tokens;
        final int firstPartIndex;
        volatile long firstTokenAtMs;
        volatile long firstPartAtMs;
        volatile long lastTokenAtMs;

        Stream(long requestAtMs, int tokens, int firstPartIndex) {
            this.requestAtMs = requestAtMs;
            this.tokens = tokens;
            this.firstPartIndex = firstPartIndex;
        }

        boolean complete() {
            return lastTokenAtMs > 0;
        }
    }

    private final FakeLlmServer server;
    private final Duration ttft;
    private final double tokensPerSecond;
    private final Duration tick;
    /** The first stream per prompt; a later request for the same prompt (a redelivery) only counts. */
    private final Map<String, Stream> byPrompt = new ConcurrentHashMap<>();

    private final AtomicInteger repeated = new AtomicInteger();
    /**
     * The stream being written per request (the very request object the server recorded, which it hands to every
     * token of its stream), from its first token to its last; with a tick, one thread writes all streams in turn.
     */
    private final Map<RecordedRequest, Stream> writing = Collections.synchronizedMap(new IdentityHashMap<>());

    private PacedModel(Duration ttft, double tokensPerSecond, Duration tick) {
        this.ttft = ttft;
        this.tokensPerSecond = tokensPerSecond;
        this.tick = tick;
        this.server = FakeLlmServer.builder()
                .apiKey(API_KEY)
                .maxConcurrentRequests(MAX_CONCURRENT)
                .pacingTick(tick)
                // The bench's own record (below) replaces the server's, which would keep every prompt's body.
                .recordLimit(16)
                .responder(messages -> answer(lastUser(messages)))
                .tokenListener(this::written)
                .build()
                .start();
        long pause = Math.round(1e9 / tokensPerSecond);
        // The server waits one pause before every token, the first included: the latency makes up the rest.
        Duration latency = ttft.minusNanos(pause).isNegative() ? Duration.ZERO : ttft.minusNanos(pause);
        server.setDefault(Behavior.builder()
                .latency(latency)
                .tokensPerSecond(tokensPerSecond)
                .build());
    }

    /** Every token written alone when it is due, by its stream's own thread. */
    static PacedModel start(Duration ttft, double tokensPerSecond) {
        return start(ttft, tokensPerSecond, Duration.ZERO);
    }

    /** With a positive {@code tick}, the tokens due are written together once per tick; see the class comment. */
    static PacedModel start(Duration ttft, double tokensPerSecond, Duration tick) {
        return new PacedModel(ttft, tokensPerSecond, tick);
    }

    /** The settings that point an llm-processor at this model. */
    Map<String, String> settings() {
        return Map.of(
                "LLM_PROVIDER",
                "openai",
                "LLM_API_URL",
                server.openAiBaseUrl(),
                "LLM_API_KEY",
                API_KEY,
                "LLM_MODEL",
                server.modelName());
    }

    String describe() {
        return String.format(
                Locale.ROOT,
                "first token %d ms after the request, then %.0f tokens/s; replies of "
                        + "60-120 tokens in 2-3 paragraphs (fake OpenAI server over HTTP, %s)",
                ttft.toMillis(),
                tokensPerSecond,
                tick.isZero()
                        ? "each token written when due"
                        : "the tokens due written together every " + tick.toMillis() + " ms");
    }

    Duration ttft() {
        return ttft;
    }

    double tokensPerSecond() {
        return tokensPerSecond;
    }

    /** The first stream answering {@code prompt} (a thought's text), if one started. */
    Optional<Stream> stream(String prompt) {
        return Optional.ofNullable(byPrompt.get(prompt));
    }

    List<Stream> streams() {
        return new ArrayList<>(byPrompt.values());
    }

    /** Requests for a prompt that had been asked before (redeliveries, retries). */
    int repeatedRequests() {
        return repeated.get();
    }

    int requestCount() {
        return server.requestCount();
    }

    int activeRequests() {
        return server.activeRequests();
    }

    int peakConcurrentRequests() {
        return server.peakConcurrentRequests();
    }

    int abandonedStreams() {
        return server.abandonedStreams();
    }

    /** When the token that completes part 1 was due by the pace alone (from the request). */
    double nominalFirstPartMs(Stream s) {
        return ttft.toMillis() + s.firstPartIndex * 1000.0 / tokensPerSecond;
    }

    private void written(RecordedRequest request, List<String> tokens, int index, Instant at) {
        long ms = at.toEpochMilli();
        Stream s;
        if (index == 0) {
            s = new Stream(request.at().toEpochMilli(), tokens.size(), StreamingScenario.firstPartTokenIndex(tokens));
            s.firstTokenAtMs = ms;
            writing.put(request, s);
            String prompt = request.lastUserMessage();
            if (prompt != null && byPrompt.putIfAbsent(prompt, s) != null) {
                repeated.incrementAndGet();
            }
        } else {
            s = writing.get(request);
        }
        if (s == null) {
            return;
        }
        if (index == s.firstPartIndex) {
            s.firstPartAtMs = ms;
        }
        if (index == tokens.size() - 1) {
            s.lastTokenAtMs = ms;
            writing.remove(request);
        }
    }

    /**
     * The reply to {@code userText}: the scripted model's answer (2 or 3 paragraphs, the same for the same text),
     * lengthened with short sentences, spread over its paragraphs, to 60–110 tokens (chosen by
     * the text's hash) or a sentence more.
     */
    static String answer(String userText) {
        String base = ScriptedAnswers.answerTo(userText);
        int h = (userText == null ? 0 : userText.hashCode()) & 0x7fffffff;
        // The last sentence added may pass the target by a dozen tokens: 60-122 in all.
        int target = 60 + h % 51;
        List<String> paragraphs = new ArrayList<>(List.of(base.split("\n\n")));
        for (int i = 0; Tokens.count(String.join("\n\n", paragraphs)) < target; i++) {
            int p = i % paragraphs.size();
            paragraphs.set(p, paragraphs.get(p) + " " + FILLERS[(h / 13 + i) % FILLERS.length]);
        }
        return String.join("\n\n", paragraphs);
    }

    private static String lastUser(List<LlmMessage> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i).role().equals("user")) {
                return messages.get(i).content();
            }
        }
        return "";
    }

    @Override
    public void close() {
        server.close();
    }
}
