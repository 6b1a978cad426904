package dev.thoughtstream.llm;

import static dev.thoughtstream.testkit.config.ConfigAssertions.assertRejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.RedisOutage;
import dev.thoughtstream.llm.LlmConfig.Provider;
import dev.thoughtstream.llm.ScaleConfig.Mode;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlmConfigTest {

    @Test
    void nothingSetMeansTheScriptedModelWithDefaults() {
        LlmConfig config = LlmConfig.from(Config.of(Map.of()));

        assertEquals(Provider.SCRIPTED, config.model().provider());
        assertEquals(Optional.empty(), config.model().apiUrl());
        assertEquals(Optional.empty(), config.model().apiKey());
        assertEquals("scripted", config.model().name());
        assertEquals(LlmConfig.DEFAULT_SYSTEM_PROMPT, config.replies().systemPrompt());
        assertEquals(Duration.ZERO, config.scripted().latency());
        assertEquals(0, config.scripted().tokensPerSecond());
        assertEquals(
                "Sorry, I can't answer right now. Please try again in a moment.",
                config.replies().apologyText());
        assertEquals("thoughtstream-llm", config.groupId());
        assertEquals(4096, config.replies().maxPartChars());
        assertEquals(Duration.ofMinutes(2), config.replies().timeout());
        assertEquals(Optional.empty(), config.model().temperature());
    }

    @Test
    void ollamaDefaultsToTheLocalServerAndLlama() {
        LlmConfig config = LlmConfig.from(Config.of(Map.of("LLM_PROVIDER", "ollama")));

        assertEquals(Provider.OLLAMA, config.model().provider());
        assertEquals(
                Optional.of(URI.create("http://localhost:11434")),
                config.model().apiUrl());
        assertEquals("llama3.2", config.model().name());
    }

    @Test
    void everySettingIsRead() {
        LlmConfig config = LlmConfig.from(Config.of(Map.ofEntries(
                Map.entry("LLM_PROVIDER", "OpenAI"),
                Map.entry("LLM_API_KEY", "sk-test-123"),
                Map.entry("LLM_MODEL", "gpt-test"),
                Map.entry("LLM_TIMEOUT_MS", "2500"),
                Map.entry("LLM_TEMPERATURE", "0.4"),
                Map.entry("SYSTEM_PROMPT", "be short"),
                Map.entry("SCRIPTED_LATENCY_MS", "30"),
                Map.entry("SCRIPTED_TOKENS_PER_SECOND", "40"),
                Map.entry("LLM_APOLOGY_TEXT", "oops"),
                Map.entry("LLM_GROUP_ID", "g1"),
                Map.entry("REPLY_MAX_PART_CHARS", "300"),
                Map.entry("LLM_REPLY_TIMEOUT_MS", "9000"))));

        assertEquals(Provider.OPENAI, config.model().provider());
        assertEquals(
                Optional.of(URI.create("https://api.openai.com/v1")),
                config.model().apiUrl());
        assertEquals("sk-test-123", config.model().apiKey().orElseThrow().reveal());
        assertEquals("gpt-test", config.model().name());
        assertEquals(Duration.ofMillis(2500), config.model().timeout());
        assertEquals(Optional.of(0.4), config.model().temperature());
        assertEquals("be short", config.replies().systemPrompt());
        assertEquals(Duration.ofMillis(30), config.scripted().latency());
        assertEquals(40, config.scripted().tokensPerSecond());
        assertEquals("oops", config.replies().apologyText());
        assertEquals("g1", config.groupId());
        assertEquals(300, config.replies().maxPartChars());
        assertEquals(Duration.ofSeconds(9), config.replies().timeout());
        assertFalse(config.toString().contains("sk-test-123"), "the key never shows in logs: " + config);
    }

    @Test
    void anUnknownProviderIsRejectedNamingTheVariable() {
        ConfigException e = assertRejects("LLM_PROVIDER", () -> read("LLM_PROVIDER", "gemini"));
        assertTrue(e.getMessage().contains("LLM_PROVIDER") && e.getMessage().contains("gemini"), e.getMessage());
    }

    @Test
    void openAiWithoutAKeyIsRejected() {
        assertRejects("LLM_API_KEY", () -> read("LLM_PROVIDER", "openai"));
    }

    @Test
    void anOpenAiCompatibleLocalServerNeedsNoKey() {
        LlmConfig config =
                LlmConfig.from(Config.of(Map.of("LLM_PROVIDER", "openai", "LLM_API_URL", "http://127.0.0.1:8080/v1")));

        assertEquals(Optional.empty(), config.model().apiKey());
        assertEquals("gpt-4o-mini", config.model().name());
    }

    @Test
    void aMalformedUrlIsRejectedNamingTheVariable() {
        assertRejects("LLM_API_URL", () -> read("LLM_PROVIDER", "ollama", "LLM_API_URL", "localhost:11434"));
    }

    @Test
    void theSystemPromptIsReadFromAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("prompt.txt");
        Files.writeString(file, "\nYou are a pirate.\nSpeak like one.\n", StandardCharsets.UTF_8);

        LlmConfig config = LlmConfig.from(Config.of(Map.of("SYSTEM_PROMPT_FILE", file.toString())));

        assertEquals("You are a pirate.\nSpeak like one.", config.replies().systemPrompt());
    }

    @Test
    void aMissingPromptFileIsRejectedNamingTheVariable(@TempDir Path dir) {
        assertRejects(
                "SYSTEM_PROMPT_FILE",
                () -> read("SYSTEM_PROMPT_FILE", dir.resolve("nope.txt").toString()));
    }

    @Test
    void anEmptyPromptFileIsRejected(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("empty.txt"), " \n ");

        assertRejects("SYSTEM_PROMPT_FILE", () -> read("SYSTEM_PROMPT_FILE", file.toString()));
    }

    @Test
    void aPromptAndAPromptFileTogetherAreRejected(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("p.txt"), "file prompt");

        assertRejects(
                "SYSTEM_PROMPT_FILE",
                () -> read("SYSTEM_PROMPT", "inline prompt", "SYSTEM_PROMPT_FILE", file.toString()));
    }

    @Test
    void outOfRangeNumbersAreRejectedNamingTheVariable() {
        assertRejects("LLM_TEMPERATURE", () -> read("LLM_TEMPERATURE", "7"));
        assertRejects("REPLY_MAX_PART_CHARS", () -> read("REPLY_MAX_PART_CHARS", "5000"));
        assertRejects("SCRIPTED_TOKENS_PER_SECOND", () -> read("SCRIPTED_TOKENS_PER_SECOND", "-1"));
        assertRejects("LLM_REPLY_TIMEOUT_MS", () -> read("LLM_REPLY_TIMEOUT_MS", "soon"));
    }

    @Test
    void anApologyLongerThanAPartIsRejected() {
        assertRejects(
                "LLM_APOLOGY_TEXT",
                () -> read("REPLY_MAX_PART_CHARS", "10", "LLM_APOLOGY_TEXT", "this is far too long"));
    }

    @Test
    void timeoutsAndRetriesHaveDefaultsAndAreRead() {
        LlmConfig defaults = LlmConfig.from(Config.of(Map.of()));
        assertEquals(Duration.ofSeconds(60), defaults.replies().firstTokenTimeout());
        assertEquals(Duration.ofSeconds(30), defaults.replies().idleTimeout());
        assertEquals(3, defaults.retries().maxAttempts());
        assertEquals(Duration.ofMillis(500), defaults.retries().backoff());
        assertEquals(Duration.ofSeconds(10), defaults.retries().backoffMax());

        LlmConfig config = LlmConfig.from(Config.of(Map.of(
                "LLM_FIRST_TOKEN_TIMEOUT_MS", "4000",
                "LLM_IDLE_TIMEOUT_MS", "1500",
                "LLM_MAX_ATTEMPTS", "1",
                "LLM_RETRY_BACKOFF_MS", "250",
                "LLM_RETRY_BACKOFF_MAX_MS", "250")));
        assertEquals(Duration.ofSeconds(4), config.replies().firstTokenTimeout());
        assertEquals(Duration.ofMillis(1500), config.replies().idleTimeout());
        assertEquals(1, config.retries().maxAttempts());
        assertEquals(Duration.ofMillis(250), config.retries().backoff());
        assertEquals(Duration.ofMillis(250), config.retries().backoffMax());
        assertTrue(config.toString().contains("maxAttempts=1"), config::toString);
    }

    @Test
    void eachGroupOfSettingsIsReadFromItsOwnVariablesAlone() {
        // given the retry variables, and the scripted model's
        Config config = Config.of(Map.of(
                "LLM_MAX_ATTEMPTS",
                "2",
                "LLM_RETRY_BACKOFF_MS",
                "100",
                "LLM_RETRY_BACKOFF_MAX_MS",
                "400",
                "SCRIPTED_LATENCY_MS",
                "7",
                "SCRIPTED_TOKENS_PER_SECOND",
                "9"));

        // when each group reads them by itself
        LlmConfig.Retries retries = LlmConfig.Retries.from(config);
        LlmConfig.Scripted scripted = LlmConfig.Scripted.from(config);

        // then it holds what the whole settings hold
        assertEquals(new LlmConfig.Retries(2, Duration.ofMillis(100), Duration.ofMillis(400)), retries);
        assertEquals(new LlmConfig.Scripted(Duration.ofMillis(7), 9), scripted);
        assertEquals(LlmConfig.from(config).retries(), retries);
        assertEquals(LlmConfig.from(config).scripted(), scripted);
    }

    @Test
    void invalidTimeoutsAndRetriesAreRejectedNamingTheVariable() {
        assertRejects("LLM_MAX_ATTEMPTS", () -> read("LLM_MAX_ATTEMPTS", "0"));
        assertRejects("LLM_IDLE_TIMEOUT_MS", () -> read("LLM_IDLE_TIMEOUT_MS", "0"));
        assertRejects("LLM_FIRST_TOKEN_TIMEOUT_MS", () -> read("LLM_FIRST_TOKEN_TIMEOUT_MS", "fast"));
        assertRejects(
                "LLM_RETRY_BACKOFF_MAX_MS",
                () -> read("LLM_RETRY_BACKOFF_MS", "2000", "LLM_RETRY_BACKOFF_MAX_MS", "1000"));
    }

    @Test
    void theConsumerSideDefaultsToGroupMode256InFlightAndClaimsTwiceTheReplyTimeout() {
        ScaleConfig scale = LlmConfig.from(Config.of(Map.of("LLM_REPLY_TIMEOUT_MS", "30000")))
                .scale();

        assertEquals(Mode.GROUP, scale.mode());
        assertEquals(256, scale.maxInFlight());
        assertEquals(4, scale.maxDeliveries(), "one below the broker's share.delivery.count.limit");
        assertEquals(Duration.ofSeconds(60), scale.claimTtl());
        assertEquals(Duration.ofHours(24), scale.doneTtl());
        assertEquals(RedisOutage.FAIL_OPEN, scale.redisOutage());
        assertEquals(512, scale.maxBuffered(), "twice the in-flight budget");
    }

    @Test
    void theDeprecatedConcurrencySetsTheInFlightBudgetUntilTheNewNameIsSet() {
        // given only the old name, then both
        ScaleConfig legacy =
                LlmConfig.from(Config.of(Map.of("LLM_CONCURRENCY", "12"))).scale();
        ScaleConfig both = LlmConfig.from(Config.of(Map.of("LLM_CONCURRENCY", "12", "LLM_MAX_IN_FLIGHT", "300")))
                .scale();

        // then the old name still works alone, and the new one wins when both are set
        assertEquals(12, legacy.maxInFlight());
        assertEquals(300, both.maxInFlight());
        // and a broken old value fails the start even when ignored
        assertRejects("LLM_CONCURRENCY", () -> read("LLM_CONCURRENCY", "lots", "LLM_MAX_IN_FLIGHT", "300"));
    }

    @Test
    void theDeprecatedFailOpenSwitchStillDecidesUntilTheNewNameIsSet() {
        // given only the old true/false name, then both names
        ScaleConfig legacyOpen = read("LLM_REDIS_FAIL_OPEN", "true").scale();
        ScaleConfig legacyClosed = read("LLM_REDIS_FAIL_OPEN", "false").scale();
        ScaleConfig both = read("LLM_REDIS_FAIL_OPEN", "false", "LLM_REDIS_OUTAGE", "fail-open")
                .scale();

        // then the old name still works alone, and the new one wins when both are set
        assertEquals(RedisOutage.FAIL_OPEN, legacyOpen.redisOutage());
        assertEquals(RedisOutage.FAIL_CLOSED, legacyClosed.redisOutage());
        assertEquals(RedisOutage.FAIL_OPEN, both.redisOutage());
    }

    @Test
    void everyConsumerSettingIsRead() {
        ScaleConfig scale = LlmConfig.from(Config.of(Map.of(
                        "LLM_MODE", "Group",
                        "LLM_MAX_IN_FLIGHT", "8",
                        "LLM_MAX_DELIVERIES", "3",
                        "LLM_CLAIM_TTL_MS", "200000",
                        "LLM_DONE_TTL_MS", "3600000",
                        "LLM_REDIS_OUTAGE", "fail-closed",
                        "LLM_MAX_BUFFERED", "16")))
                .scale();

        assertEquals(
                new ScaleConfig(
                        Mode.GROUP, 8, 3, Duration.ofSeconds(200), Duration.ofHours(1), RedisOutage.FAIL_CLOSED, 16),
                scale);
    }

    @Test
    void inconsistentConsumerSettingsAreRejectedNamingTheVariable() {
        assertRejects("LLM_MODE", () -> read("LLM_MODE", "queue"));
        assertRejects("LLM_MAX_IN_FLIGHT", () -> read("LLM_MAX_IN_FLIGHT", "0"));
        assertRejects("LLM_MAX_IN_FLIGHT", () -> read("LLM_MAX_IN_FLIGHT", "4097"));
        assertRejects("LLM_MAX_DELIVERIES", () -> read("LLM_MAX_DELIVERIES", "1"));
        // a claim must outlast the generation it protects
        assertRejects("LLM_CLAIM_TTL_MS", () -> read("LLM_REPLY_TIMEOUT_MS", "10000", "LLM_CLAIM_TTL_MS", "10000"));
        assertRejects("LLM_DONE_TTL_MS", () -> read("LLM_CLAIM_TTL_MS", "600000", "LLM_DONE_TTL_MS", "60000"));
        assertRejects("LLM_REDIS_OUTAGE", () -> read("LLM_REDIS_OUTAGE", "maybe"));
        assertRejects("LLM_REDIS_FAIL_OPEN", () -> read("LLM_REDIS_FAIL_OPEN", "maybe"));
        assertRejects("LLM_MAX_BUFFERED", () -> read("LLM_MAX_IN_FLIGHT", "8", "LLM_MAX_BUFFERED", "4"));
    }

    /** The settings read from exactly these variables: name, value, name, value... */
    private static LlmConfig read(String... namesAndValues) {
        Map<String, String> variables = new HashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            variables.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return LlmConfig.from(Config.of(variables));
    }
}
