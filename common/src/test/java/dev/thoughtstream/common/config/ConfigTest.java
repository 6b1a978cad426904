package dev.thoughtstream.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
    enum Provider {
        OLLAMA,
        OPENAI,
        SCRIPTED
    }

    @Test
    void environmentVariablesWinOverTheDotenvFile(@TempDir Path dir) throws Exception {
        Path dotenv = dir.resolve(".env");
        Files.writeString(dotenv, """
                # comment
                export LLM_MODEL="llama3.2"
                LLM_PROVIDER=ollama
                TG_BOT_TOKEN='123:abc'
                """);

        Config config = Config.load(Map.of("LLM_PROVIDER", "openai"), dotenv);

        assertEquals("openai", config.required("LLM_PROVIDER"));
        assertEquals("llama3.2", config.required("LLM_MODEL"));
        assertEquals("123:abc", config.secret("TG_BOT_TOKEN").reveal());
    }

    @Test
    void aMissingDotenvFileIsNotAnError(@TempDir Path dir) {
        Config config = Config.load(Map.of("A", "1"), dir.resolve("absent.env"));

        assertEquals(1, config.integer("A", 0));
    }

    @Test
    void aMalformedDotenvLineFailsNamingTheFileAndLine(@TempDir Path dir) throws Exception {
        Path dotenv = dir.resolve(".env");
        Files.writeString(dotenv, "GOOD=1\nnot a pair\n");

        ConfigException e = assertThrows(ConfigException.class, () -> Config.load(Map.of(), dotenv));

        assertTrue(e.getMessage().contains("line 2"), e.getMessage());
    }

    @Test
    void aMissingRequiredVariableFailsNamingIt() {
        ConfigException e =
                assertThrows(ConfigException.class, () -> Config.of(Map.of()).required("TG_BOT_TOKEN"));

        assertEquals("TG_BOT_TOKEN", e.variable());
        assertTrue(e.getMessage().startsWith("TG_BOT_TOKEN:"));
    }

    @Test
    void aBlankValueCountsAsUnset() {
        Config config = Config.of(Map.of("X", "  "));

        assertFalse(config.isSet("X"));
        assertEquals("d", config.string("X", "d"));
    }

    @Test
    void numbersAreParsedAndRangeChecked() {
        Config config = Config.of(Map.of("CHUNK_GAP_MS", "1_500", "BAD", "fast", "NEG", "-1"));

        assertEquals(Duration.ofMillis(1500), config.millis("CHUNK_GAP_MS", 0, 0, 60_000));
        ConfigException notANumber = assertThrows(ConfigException.class, () -> config.integer("BAD", 1));
        assertTrue(notANumber.getMessage().contains("BAD")
                && notANumber.getMessage().contains("fast"));
        ConfigException outOfRange = assertThrows(ConfigException.class, () -> config.integer("NEG", 1, 0, 10));
        assertEquals("NEG", outOfRange.variable());
    }

    @Test
    void enumsMatchCaseInsensitivelyAndListTheChoicesOnError() {
        Config config = Config.of(Map.of("LLM_PROVIDER", "OpenAI", "OTHER", "gpt"));

        assertEquals(Provider.OPENAI, config.enumValue("LLM_PROVIDER", Provider.class, Provider.SCRIPTED));
        assertEquals(Provider.SCRIPTED, config.enumValue("UNSET", Provider.class, Provider.SCRIPTED));
        ConfigException e =
                assertThrows(ConfigException.class, () -> config.enumValue("OTHER", Provider.class, Provider.SCRIPTED));
        assertTrue(e.getMessage().contains("ollama | openai | scripted"), e.getMessage());
    }

    @Test
    void booleansAcceptTheUsualSpellings() {
        Config config = Config.of(Map.of("A", "yes", "B", "OFF", "C", "maybe"));

        assertTrue(config.bool("A", false));
        assertFalse(config.bool("B", true));
        assertThrows(ConfigException.class, () -> config.bool("C", false));
    }

    @Test
    void urlsMustBeHttpWithAHost() {
        Config config = Config.of(Map.of("TG_API_URL", "http://127.0.0.1:8088", "LLM_API_URL", "localhost:11434"));

        assertEquals(8088, config.httpUrl("TG_API_URL", null).getPort());
        assertEquals(
                "api.telegram.org",
                config.httpUrl("UNSET", "https://api.telegram.org").getHost());
        ConfigException e = assertThrows(ConfigException.class, () -> config.httpUrl("LLM_API_URL", null));
        assertEquals("LLM_API_URL", e.variable());
    }

    @Test
    void idListsAreParsed() {
        Config config = Config.of(Map.of("ALLOWED_USER_IDS", " 1, 2 ,,3", "BAD_IDS", "1,x"));

        assertEquals(Set.of(1L, 2L, 3L), config.longSet("ALLOWED_USER_IDS"));
        assertEquals(Set.of(), config.longSet("UNSET"));
        assertThrows(ConfigException.class, () -> config.longSet("BAD_IDS"));
    }

    @Test
    void aSecretNeverPrintsItsValue() {
        Secret token = new Secret("123456:ABC-def");

        assertEquals("<redacted>", token.toString());
        assertEquals("GET /bot<redacted>/getMe", token.redact("GET /bot123456:ABC-def/getMe"));
    }

    @Test
    void aFailureIsDescribedOnOneLineWithTheSecretRemoved() {
        Secret token = new Secret("123456:ABC-def");
        Exception failure = new IllegalStateException(
                "call failed",
                new java.io.IOException("Failed to connect to https://api.telegram.org/bot123456:ABC-def/sendMessage"));

        assertEquals(
                "IllegalStateException: call failed <- IOException: Failed to connect to "
                        + "https://api.telegram.org/bot<redacted>/sendMessage",
                token.describe(failure));
    }

    @Test
    void withOverridesLayersValues() {
        Config base = Config.of(Map.of("A", "1", "B", "2"));

        Config layered = base.with(Map.of("B", "3"));

        assertEquals("1", layered.required("A"));
        assertEquals("3", layered.required("B"));
        assertEquals("2", base.required("B"));
    }
}
