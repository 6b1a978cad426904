package dev.thoughtstream.ops;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigCheck;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The operators' commands report every bad variable they read at once. */
class OpsSettingsCheckTest {

    @Test
    void everyBadVariableIsNamed() {
        Config config = Config.of(Map.of(
                "TOPIC_PARTITIONS", "abc",
                "LLM_MODE", "both",
                "CHUNKER_APPLICATION_ID", "my app",
                "EMITTER_GROUP_ID", "emitter/1"));

        ConfigCheck check = ConfigCheck.of(config).check(OpsSettings::from);

        assertEquals(
                Set.of(
                        "KAFKA_BOOTSTRAP_SERVERS",
                        "TOPIC_PARTITIONS",
                        "LLM_MODE",
                        "CHUNKER_APPLICATION_ID",
                        "EMITTER_GROUP_ID"),
                check.variables());
    }
}
