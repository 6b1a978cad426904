package dev.thoughtstream.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.llm.FakeLlmServer;
import dev.thoughtstream.testkit.llm.LlmMessage;
import dev.thoughtstream.testkit.llm.RecordedRequest;
import dev.thoughtstream.testkit.llm.Responder;
import dev.thoughtstream.testkit.llm.WireFormat;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import dev.thoughtstream.testkit.telegram.TranscriptEntry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A Telegram message through all four services and back: the Telegram emulator (real TelegramBots client) keeping
 * Telegram's flood limits, the real Kafka broker, real Redis, and the real LangChain4j client against the fake LLM
 * server, once per wire format. Nothing in between is faked.
 */
class EndToEndTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final long CHAT = 4242;

    /** Deterministic and recognisable: two paragraphs, so the reply arrives as two bubbles. */
    private static final Responder RESPONDER = messages -> {
        String last = messages.get(messages.size() - 1).content().replace('\n', ' ');
        long turns = messages.stream().filter(m -> m.role().equals("user")).count();
        return "You wrote: " + last + ".\n\nThat makes " + turns + " user turn(s) so far.";
    };

    @ParameterizedTest(name = "{0} wire format")
    @EnumSource(WireFormat.class)
    void aTelegramMessageIsAnsweredThroughAllFourServicesAndTheBotRemembersWhatItSaid(
            WireFormat format, @TempDir Path dir) {
        String prefix = TestKafka.uniquePrefix("e2e-" + format.name().toLowerCase());
        String token = "5000000001:e2e-" + format.name().toLowerCase();
        try (TelegramEmulator telegram =
                        TelegramEmulator.builder().botToken(token).build().start();
                FakeLlmServer llm = FakeLlmServer.builder()
                        .apiKey("sk-e2e")
                        .responder(RESPONDER)
                        .build()
                        .start()) {
            // Telegram's own limits, as a deployment meets them: 1 a second per chat, 20 a minute per group, 30 a
            // second
            // for the bot (Bot API FAQ, "My bot is hitting limits, how do I avoid this?").
            telegram.enforceTelegramLimits();
            Map<String, String> env = new HashMap<>();
            env.put("KAFKA_BOOTSTRAP_SERVERS", TestKafka.bootstrapServers());
            env.put("TOPIC_PREFIX", prefix);
            env.put("REDIS_URL", TestRedis.url().toString());
            env.put("REDIS_KEY_PREFIX", TestRedis.uniqueKeyPrefix("e2e"));
            env.put("TG_BOT_TOKEN", token);
            env.put("TG_API_URL", telegram.baseUrl());
            env.put("LLM_PROVIDER", format == WireFormat.OPENAI ? "openai" : "ollama");
            env.put("LLM_API_URL", format == WireFormat.OPENAI ? llm.openAiBaseUrl() : llm.ollamaBaseUrl());
            env.put("LLM_API_KEY", "sk-e2e");
            env.put("LLM_MODEL", llm.modelName());
            env.put("CHUNK_GAP_MS", "300");
            env.put("TYPING_MIN_MS", "30");
            env.put("TYPING_MAX_MS", "30");
            env.put("CHUNKER_APPLICATION_ID", prefix + "chunker");
            env.put("LLM_GROUP_ID", prefix + "llm");
            env.put("EMITTER_GROUP_ID", prefix + "emitter");
            env.put("DEVSTACK_DATA_DIR", dir.toString());
            env.put("INGEST_POLL_TIMEOUT_S", "5");
            env.put("HTTP_PORT", "0");

            try (DevStack stack = DevStack.start(Config.of(env))) {
                // Given a person who writes two quick messages: one thought
                telegram.injectMessage(CHAT, "hello there");
                telegram.injectMessage(CHAT, "how are you");

                // Then the bot answers in two bubbles, each after "typing..."
                List<String> expected =
                        List.of("You wrote: hello there how are you.", "That makes 1 user turn(s) so far.");
                Await.until(
                        "the bot's first reply in the transcript",
                        TIMEOUT,
                        () -> telegram.botTexts(CHAT).size() >= 2);
                assertEquals(expected, telegram.botTexts(CHAT));
                assertEquals(
                        List.of(
                                "user:hello there",
                                "user:how are you",
                                "bot:typing",
                                "bot:" + expected.get(0),
                                "bot:typing",
                                "bot:" + expected.get(1)),
                        describe(telegram.transcript(CHAT)));

                // and the model saw the system prompt, then the whole thought, through the real client
                RecordedRequest first = llm.requests().get(0);
                assertEquals(format, first.format());
                assertTrue(first.stream(), "the processor streams");
                assertEquals("system", first.messages().get(0).role());
                assertEquals("hello there\nhow are you", first.lastUserMessage());

                // and each part's outcome was reported as SENT
                Topics topics = Topics.withPrefix(prefix);
                List<ConsumerRecord<Long, Delivery>> delivered = TestKafka.awaitRecords(topics.delivered(), 2, TIMEOUT);
                assertTrue(
                        delivered.stream()
                                .allMatch(r -> r.key() == CHAT
                                        && r.value().outcome() == Delivery.Outcome.SENT
                                        && r.value().telegramMessageId() != null),
                        delivered.toString());

                // When the person writes again
                telegram.injectMessage(CHAT, "tell me more");

                // Then the next prompt carries what the person said and what the bot actually sent
                Await.until(
                        "the bot's second reply",
                        TIMEOUT,
                        () -> telegram.botTexts(CHAT).size() >= 4);
                RecordedRequest second = llm.requests().get(llm.requestCount() - 1);
                assertEquals(
                        List.of("system", "user", "user", "assistant", "assistant", "user"),
                        second.messages().stream().map(LlmMessage::role).toList());
                assertEquals(
                        List.of("hello there", "how are you", expected.get(0), expected.get(1), "tell me more"),
                        second.messages().stream()
                                .skip(1)
                                .map(LlmMessage::content)
                                .toList());
                assertEquals("You wrote: tell me more.", telegram.botTexts(CHAT).get(2));
            }
        }
    }

    private static List<String> describe(List<TranscriptEntry> transcript) {
        return transcript.stream()
                .map(e -> e.from() + ":" + (e.action() != null ? e.action() : e.text()))
                .toList();
    }
}
