package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigCheck;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every bad variable of the chunker is reported at once, each with its name and value. */
class ChunkerSettingsCheckTest {

    @Test
    void everyBadVariableIsNamedWithItsValue() {
        // given the chunker's variables with many bad values
        Map<String, String> bad = Map.of(
                "CHUNK_GAP_MS", "fast",
                "CONTEXT_MIN_MESSAGES", "-1",
                "CHUNKER_APPLICATION_ID", "my app",
                "STREAMS_NUM_THREADS", "100",
                "CHUNK_MAX_MESSAGES", "0",
                "BOT_USERNAME", "ab",
                "STREAMS_COMMIT_INTERVAL_MS", "1s");
        Config config = Config.of(bad);

        // when the chunker's validation is checked
        ConfigCheck check = ConfigCheck.of(config).check(new ChunkerFactory()::validate);

        // then each is named, with the value it was given
        assertEquals(bad.keySet(), check.variables());
        for (String line : check.lines()) {
            String name = line.substring(0, line.indexOf(':'));
            assertTrue(line.contains(bad.get(name)), line);
        }
    }
}
