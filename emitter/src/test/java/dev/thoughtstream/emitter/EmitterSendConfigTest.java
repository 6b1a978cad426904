package dev.thoughtstream.emitter;

import static dev.thoughtstream.testkit.config.ConfigAssertions.assertRejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.emitter.telegram.TelegramMessageSender.ParseMode;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

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

        assertEquals(ParseMode.NONE, c.sending().parseMode());
        assertFalse(c.sending().dryRun());
    }

    @ParameterizedTest
    @CsvSource({
        "none, NONE",
        "MarkdownV2, MARKDOWNV2",
        "markdownv2, MARKDOWNV2",
        "HTML, HTML",
        "html, HTML",
        "Markdown, MARKDOWN"
    })
    void everyTelegramParseModeIsAcceptedInAnyCase(String value, ParseMode expected) {
        assertEquals(
                expected,
                EmitterConfig.from(config("EMITTER_PARSE_MODE", value))
                        .sending()
                        .parseMode());
    }

    @Test
    void dryRunIsReadAsABoolean() {
        assertTrue(
                EmitterConfig.from(config("EMITTER_DRY_RUN", "true")).sending().dryRun());
        assertFalse(
                EmitterConfig.from(config("EMITTER_DRY_RUN", "false")).sending().dryRun());
    }

    @Test
    void anUnknownParseModeFailsNamingTheVariableAndTheChoices() {
        assertRejects(
                "EMITTER_PARSE_MODE",
                () -> EmitterConfig.from(config("EMITTER_PARSE_MODE", "markdown3")),
                "markdownv2");
    }

    @Test
    void aDryRunThatIsNotABooleanFailsNamingTheVariable() {
        assertRejects("EMITTER_DRY_RUN", () -> EmitterConfig.from(config("EMITTER_DRY_RUN", "maybe")));
    }
}
