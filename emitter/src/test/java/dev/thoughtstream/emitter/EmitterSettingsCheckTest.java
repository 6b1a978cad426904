package dev.thoughtstream.emitter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigCheck;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every bad variable of the emitter is reported at once, each with its name and value. */
class EmitterSettingsCheckTest {

    @Test
    void everyBadVariableIsNamedWithItsValue() {
        // given a bad value in each of the emitter's settings: typing, claims, rate limits, consumer, sending
        Map<String, String> bad = Map.of(
                "TYPING_CPS", "quick",
                "TYPING_JITTER", "2",
                "EMITTER_MAX_SEND_ATTEMPTS", "0",
                "EMITTER_REDIS_OUTAGE", "fail-sometimes",
                "EMITTER_CHAT_BURST", "0",
                "EMITTER_MAX_BUFFERED", "many",
                "EMITTER_PARSE_MODE", "bbcode",
                "EMITTER_DRY_RUN", "perhaps");
        Config config = Config.of(Map.of("TG_BOT_TOKEN", "123456:ABCdef")).with(bad);

        // when the emitter's validation is checked
        ConfigCheck check = ConfigCheck.of(config).check(new EmitterFactory()::validate);

        // then each is named, with the value it was given
        assertEquals(bad.keySet(), check.variables());
        for (String line : check.lines()) {
            String name = line.substring(0, line.indexOf(':'));
            assertTrue(line.contains(bad.get(name)), line);
        }
    }

    @Test
    void aTypingRangeTheWrongWayRoundSaysWhatWasGiven() {
        Config config =
                Config.of(Map.of("TG_BOT_TOKEN", "123456:ABCdef", "TYPING_MIN_MS", "500", "TYPING_MAX_MS", "100"));

        ConfigCheck check = ConfigCheck.of(config).check(new EmitterFactory()::validate);

        assertEquals(
                "invalid configuration: TYPING_MAX_MS: must be >= TYPING_MIN_MS (500) (was '100')", check.report());
    }
}
