package dev.thoughtstream.emitter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.emitter.TelegramMessageSender.ParseMode;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** {@code EMITTER_PARSE_MODE} and {@code EMITTER_DRY_RUN}. */
class EmitterSendConfigTest {

    private static Config config(String... pairs) {
        Map<String, String> values = new HashMap<>();
        values.put("TG_BOT_TOKEN", "123:abc_DEF-ghi");
        for (int i = 0; i < pairs.length; i += 2) {
            values.put(pairs[i], pairs[i + 1]);
        }
        return Config.of(values);
    }

    @Test
    void byDefaultTextIsPlainAndMessagesReallyGoOut() {
        EmitterConfig c = EmitterConfig.from(config());

        assertEquals(ParseMode.NONE, c.parseMode());
        assertFalse(c.dryRun());
    }

    @ParameterizedTest
    @CsvSource({"none, NONE", "MarkdownV2, MARKDOWNV2", "markdownv2, MARKDOWNV2", "HTML, HTML", "html, HTML",
            "Markdown, MARKDOWN"})
    void everyTelegramParseModeIsAcceptedInAnyCase(String value, ParseMode expected) {
        assertEquals(expected, EmitterConfig.from(config("EMITTER_PARSE_MODE", value)).parseMode());
    }

    @Test
    void dryRunIsReadAsABoolean() {
        assertTrue(EmitterConfig.from(config("EMITTER_DRY_RUN", "true")).dryRun());
        assertFalse(EmitterConfig.from(config("EMITTER_DRY_RUN", "false")).dryRun());
    }

    @Test
    void anUnknownParseModeFailsNamingTheVariableAndTheChoices() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> EmitterConfig.from(config("EMITTER_PARSE_MODE", "markdown3")));

        assertTrue(e.getMessage().contains("EMITTER_PARSE_MODE"), e.getMessage());
        assertTrue(e.getMessage().contains("markdownv2"), e.getMessage());
    }

    @Test
    void aDryRunThatIsNotABooleanFailsNamingTheVariable() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> EmitterConfig.from(config("EMITTER_DRY_RUN", "maybe")));

        assertTrue(e.getMessage().contains("EMITTER_DRY_RUN"), e.getMessage());
    }
}
