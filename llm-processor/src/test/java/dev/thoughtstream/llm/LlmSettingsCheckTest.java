package dev.thoughtstream.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigCheck;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every bad variable of the llm-processor, its model and its budget is reported at once, each with its name. */
class LlmSettingsCheckTest {

    @Test
    void everyBadVariableIsNamedWithItsValue() {
        // given an unknown provider and bad values in the replies, retries, scaling and budget settings
        Map<String, String> bad = Map.of(
                "LLM_PROVIDER", "foo",
                "LLM_TEMPERATURE", "hot",
                "SCRIPTED_LATENCY_MS", "-1",
                "LLM_REPLY_TIMEOUT_MS", "forever",
                "LLM_MAX_ATTEMPTS", "0",
                "LLM_MODE", "both",
                "LLM_MAX_DELIVERIES", "x",
                "LLM_REQUESTS_PER_MINUTE", "lots",
                "LLM_BUDGET_INSTANCES", "0");
        Config config = Config.of(bad);

        // when the llm-processor's validation is checked
        ConfigCheck check = ConfigCheck.of(config).check(new LlmProcessorFactory()::validate);

        // then each is named, with the value it was given
        assertEquals(bad.keySet(), check.variables());
        for (String line : check.lines()) {
            String name = line.substring(0, line.indexOf(':'));
            assertTrue(line.contains("'" + bad.get(name) + "'") || line.contains(" " + bad.get(name)), line);
        }
    }

    @Test
    void aMissingOpenAiKeyDoesNotHideTheVariablesAfterItAndAKeyIsNeverShown() {
        // given OpenAI without a key (required for api.openai.com), a bad timeout and a prompt file that is not there
        Config config = Config.of(Map.of(
                "LLM_PROVIDER", "openai",
                "LLM_TIMEOUT_MS", "1",
                "SYSTEM_PROMPT_FILE", "/nonexistent/prompt.txt"));

        ConfigCheck check = ConfigCheck.of(config).check(new LlmProcessorFactory()::validate);

        assertEquals(Set.of("LLM_API_KEY", "LLM_TIMEOUT_MS", "SYSTEM_PROMPT_FILE"), check.variables());

        // and a key given with a bad URL is not repeated
        ConfigCheck withKey = ConfigCheck.of(Config.of(
                        Map.of("LLM_PROVIDER", "openai", "LLM_API_KEY", "sk-proj-secret123", "LLM_API_URL", "ftp://x")))
                .check(new LlmProcessorFactory()::validate);
        assertEquals(Set.of("LLM_API_URL"), withKey.variables());
        assertFalse(withKey.report().contains("sk-proj-secret123"), withKey.report());
    }
}
