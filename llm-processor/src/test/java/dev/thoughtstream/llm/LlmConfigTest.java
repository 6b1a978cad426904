package dev.thoughtstream.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.llm.LlmConfig.Provider;
import dev.thoughtstream.llm.ScaleConfig.Mode;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlmConfigTest {

    @Test
    void nothingSetMeansTheScriptedModelWithDefaults() {
        LlmConfig config = LlmConfig.from(Config.of(Map.of()));

        assertEquals(Provider.SCRIPTED, config.provider());
        assertEquals(Optional.empty(), config.apiUrl());
        assertEquals(Optional.empty(), config.apiKey());
        assertEquals("scripted", config.model());
        assertEquals(LlmConfig.DEFAULT_SYSTEM_PROMPT, config.systemPrompt());
        assertEquals(Duration.ZERO, config.scriptedLatency());
        assertEquals(0, config.scriptedTokensPerSecond());
        assertEquals("Sorry, I can't answer right now. Please try again in a moment.", config.apologyText());
        assertEquals("thoughtstream-llm", config.groupId());
        assertEquals(4096, config.maxPartChars());
        assertEquals(Duration.ofMinutes(2), config.replyTimeout());
        assertEquals(Optional.empty(), config.temperature());
    }

    @Test
    void ollamaDefaultsToTheLocalServerAndLlama() {
        LlmConfig config = LlmConfig.from(Config.of(Map.of("LLM_PROVIDER", "ollama")));

        assertEquals(Provider.OLLAMA, config.provider());
        assertEquals(Optional.of(URI.create("http://localhost:11434")), config.apiUrl());
        assertEquals("llama3.2", config.model());
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

        assertEquals(Provider.OPENAI, config.provider());
        assertEquals(Optional.of(URI.create("https://api.openai.com/v1")), config.apiUrl());
        assertEquals("sk-test-123", config.apiKey().orElseThrow().reveal());
        assertEquals("gpt-test", config.model());
        assertEquals(Duration.ofMillis(2500), config.timeout());
        assertEquals(Optional.of(0.4), config.temperature());
        assertEquals("be short", config.systemPrompt());
        assertEquals(Duration.ofMillis(30), config.scriptedLatency());
        assertEquals(40, config.scriptedTokensPerSecond());
        assertEquals("oops", config.apologyText());
        assertEquals("g1", config.groupId());
        assertEquals(300, config.maxPartChars());
        assertEquals(Duration.ofSeconds(9), config.replyTimeout());
        assertFalse(config.toString().contains("sk-test-123"), "the key never shows in logs: " + config);
    }

    @Test
    void anUnknownProviderIsRejectedNamingTheVariable() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("LLM_PROVIDER", "gemini"))));

        assertEquals("LLM_PROVIDER", e.variable());
        assertTrue(e.getMessage().contains("LLM_PROVIDER") && e.getMessage().contains("gemini"), e.getMessage());
    }

    @Test
    void openAiWithoutAKeyIsRejected() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("LLM_PROVIDER", "openai"))));

        assertEquals("LLM_API_KEY", e.variable());
    }

    @Test
    void anOpenAiCompatibleLocalServerNeedsNoKey() {
        LlmConfig config = LlmConfig.from(Config.of(Map.of(
                "LLM_PROVIDER", "openai", "LLM_API_URL", "http://127.0.0.1:8080/v1")));

        assertEquals(Optional.empty(), config.apiKey());
        assertEquals("gpt-4o-mini", config.model());
    }

    @Test
    void aMalformedUrlIsRejectedNamingTheVariable() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("LLM_PROVIDER", "ollama", "LLM_API_URL", "localhost:11434"))));

        assertEquals("LLM_API_URL", e.variable());
    }

    @Test
    void theSystemPromptIsReadFromAFile(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("prompt.txt");
        Files.writeString(file, "\nYou are a pirate.\nSpeak like one.\n", StandardCharsets.UTF_8);

        LlmConfig config = LlmConfig.from(Config.of(Map.of("SYSTEM_PROMPT_FILE", file.toString())));

        assertEquals("You are a pirate.\nSpeak like one.", config.systemPrompt());
    }

    @Test
    void aMissingPromptFileIsRejectedNamingTheVariable(@TempDir Path dir) {
        ConfigException e = assertThrows(ConfigException.class, () -> LlmConfig.from(
                Config.of(Map.of("SYSTEM_PROMPT_FILE", dir.resolve("nope.txt").toString()))));

        assertEquals("SYSTEM_PROMPT_FILE", e.variable());
    }

    @Test
    void anEmptyPromptFileIsRejected(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("empty.txt"), " \n ");

        ConfigException e = assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("SYSTEM_PROMPT_FILE", file.toString()))));

        assertEquals("SYSTEM_PROMPT_FILE", e.variable());
    }

    @Test
    void aPromptAndAPromptFileTogetherAreRejected(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("p.txt"), "file prompt");

        ConfigException e = assertThrows(ConfigException.class, () -> LlmConfig.from(Config.of(Map.of(
                "SYSTEM_PROMPT", "inline prompt", "SYSTEM_PROMPT_FILE", file.toString()))));

        assertEquals("SYSTEM_PROMPT_FILE", e.variable());
    }

    @Test
    void outOfRangeNumbersAreRejectedNamingTheVariable() {
        assertEquals("LLM_TEMPERATURE", assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("LLM_TEMPERATURE", "7")))).variable());
        assertEquals("REPLY_MAX_PART_CHARS", assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("REPLY_MAX_PART_CHARS", "5000")))).variable());
        assertEquals("SCRIPTED_TOKENS_PER_SECOND", assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("SCRIPTED_TOKENS_PER_SECOND", "-1")))).variable());
        assertEquals("LLM_REPLY_TIMEOUT_MS", assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("LLM_REPLY_TIMEOUT_MS", "soon")))).variable());
    }

    @Test
    void anApologyLongerThanAPartIsRejected() {
        ConfigException e = assertThrows(ConfigException.class, () -> LlmConfig.from(Config.of(Map.of(
                "REPLY_MAX_PART_CHARS", "10", "LLM_APOLOGY_TEXT", "this is far too long"))));

        assertEquals("LLM_APOLOGY_TEXT", e.variable());
    }

    @Test
    void timeoutsAndRetriesHaveDefaultsAndAreRead() {
        LlmConfig defaults = LlmConfig.from(Config.of(Map.of()));
        assertEquals(Duration.ofSeconds(60), defaults.firstTokenTimeout());
        assertEquals(Duration.ofSeconds(30), defaults.idleTimeout());
        assertEquals(3, defaults.maxAttempts());
        assertEquals(Duration.ofMillis(500), defaults.retryBackoff());
        assertEquals(Duration.ofSeconds(10), defaults.retryBackoffMax());

        LlmConfig config = LlmConfig.from(Config.of(Map.of(
                "LLM_FIRST_TOKEN_TIMEOUT_MS", "4000",
                "LLM_IDLE_TIMEOUT_MS", "1500",
                "LLM_MAX_ATTEMPTS", "1",
                "LLM_RETRY_BACKOFF_MS", "250",
                "LLM_RETRY_BACKOFF_MAX_MS", "250")));
        assertEquals(Duration.ofSeconds(4), config.firstTokenTimeout());
        assertEquals(Duration.ofMillis(1500), config.idleTimeout());
        assertEquals(1, config.maxAttempts());
        assertEquals(Duration.ofMillis(250), config.retryBackoff());
        assertEquals(Duration.ofMillis(250), config.retryBackoffMax());
        assertTrue(config.toString().contains("maxAttempts=1"), config::toString);
    }

    @Test
    void invalidTimeoutsAndRetriesAreRejectedNamingTheVariable() {
        assertEquals("LLM_MAX_ATTEMPTS", assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("LLM_MAX_ATTEMPTS", "0")))).variable());
        assertEquals("LLM_IDLE_TIMEOUT_MS", assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("LLM_IDLE_TIMEOUT_MS", "0")))).variable());
        assertEquals("LLM_FIRST_TOKEN_TIMEOUT_MS", assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("LLM_FIRST_TOKEN_TIMEOUT_MS", "fast")))).variable());
        assertEquals("LLM_RETRY_BACKOFF_MAX_MS", assertThrows(ConfigException.class, () -> LlmConfig.from(Config.of(
                Map.of("LLM_RETRY_BACKOFF_MS", "2000", "LLM_RETRY_BACKOFF_MAX_MS", "1000")))).variable());
    }

    @Test
    void theConsumerSideDefaultsToAutoMode256InFlightAndClaimsTwiceTheReplyTimeout() {
        ScaleConfig scale = LlmConfig.from(Config.of(Map.of("LLM_REPLY_TIMEOUT_MS", "30000"))).scale();

        assertEquals(Mode.AUTO, scale.mode());
        assertEquals(256, scale.maxInFlight());
        assertEquals(4, scale.maxDeliveries(), "one below the broker's share.delivery.count.limit");
        assertEquals(Duration.ofSeconds(60), scale.claimTtl());
        assertEquals(Duration.ofHours(24), scale.doneTtl());
        assertTrue(scale.redisFailOpen());
        assertEquals(512, scale.maxBuffered(), "twice the in-flight budget");
    }

    @Test
    void theDeprecatedConcurrencySetsTheInFlightBudgetUntilTheNewNameIsSet() {
        // given only the old name, then both
        ScaleConfig legacy = LlmConfig.from(Config.of(Map.of("LLM_CONCURRENCY", "12"))).scale();
        ScaleConfig both = LlmConfig.from(Config.of(Map.of("LLM_CONCURRENCY", "12", "LLM_MAX_IN_FLIGHT", "300")))
                .scale();

        // then the old name still works alone, and the new one wins when both are set
        assertEquals(12, legacy.maxInFlight());
        assertEquals(300, both.maxInFlight());
        // and a broken old value fails the start even when ignored
        assertEquals("LLM_CONCURRENCY", assertThrows(ConfigException.class, () -> LlmConfig.from(Config.of(
                Map.of("LLM_CONCURRENCY", "lots", "LLM_MAX_IN_FLIGHT", "300")))).variable());
    }

    @Test
    void everyConsumerSettingIsRead() {
        ScaleConfig scale = LlmConfig.from(Config.of(Map.of(
                "LLM_MODE", "Group",
                "LLM_MAX_IN_FLIGHT", "8",
                "LLM_MAX_DELIVERIES", "3",
                "LLM_CLAIM_TTL_MS", "200000",
                "LLM_DONE_TTL_MS", "3600000",
                "LLM_REDIS_FAIL_OPEN", "false",
                "LLM_MAX_BUFFERED", "16"))).scale();

        assertEquals(new ScaleConfig(Mode.GROUP, 8, 3, Duration.ofSeconds(200), Duration.ofHours(1), false, 16),
                scale);
    }

    @Test
    void inconsistentConsumerSettingsAreRejectedNamingTheVariable() {
        assertEquals("LLM_MODE", assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("LLM_MODE", "queue")))).variable());
        assertEquals("LLM_MAX_IN_FLIGHT", assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("LLM_MAX_IN_FLIGHT", "0")))).variable());
        assertEquals("LLM_MAX_IN_FLIGHT", assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("LLM_MAX_IN_FLIGHT", "4097")))).variable());
        assertEquals("LLM_MAX_DELIVERIES", assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("LLM_MAX_DELIVERIES", "1")))).variable());
        assertEquals("LLM_CLAIM_TTL_MS", assertThrows(ConfigException.class, () -> LlmConfig.from(Config.of(
                Map.of("LLM_REPLY_TIMEOUT_MS", "10000", "LLM_CLAIM_TTL_MS", "10000")))).variable(),
                "a claim must outlast the generation it protects");
        assertEquals("LLM_DONE_TTL_MS", assertThrows(ConfigException.class, () -> LlmConfig.from(Config.of(
                Map.of("LLM_CLAIM_TTL_MS", "600000", "LLM_DONE_TTL_MS", "60000")))).variable());
        assertEquals("LLM_REDIS_FAIL_OPEN", assertThrows(ConfigException.class,
                () -> LlmConfig.from(Config.of(Map.of("LLM_REDIS_FAIL_OPEN", "maybe")))).variable());
        assertEquals("LLM_MAX_BUFFERED", assertThrows(ConfigException.class, () -> LlmConfig.from(Config.of(
                Map.of("LLM_MAX_IN_FLIGHT", "8", "LLM_MAX_BUFFERED", "4")))).variable());
    }
}
