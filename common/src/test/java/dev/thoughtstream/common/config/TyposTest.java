package dev.thoughtstream.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** A variable nobody reads that is a letter or two away from one that is read is a likely typo; others are not. */
class TyposTest {
    private static final Set<String> READ =
            Set.of("TOPIC_PARTITIONS", "LLM_PROVIDER", "HTTP_PORT", "KAFKA_CLIENT_*", "EMITTER_DRY_RUN");

    @Test
    void aNameCloseToOneThatIsReadIsSuspectedWithTheNameItResembles() {
        Set<String> given = Set.of("TOPIC_PARTITON", "LLM_PROVDIER", "EMITER_DRY_RUN", "TOPIC_PARTITIONS");

        assertEquals(
                Map.of(
                        "TOPIC_PARTITON", "TOPIC_PARTITIONS",
                        "LLM_PROVDIER", "LLM_PROVIDER",
                        "EMITER_DRY_RUN", "EMITTER_DRY_RUN"),
                Typos.among(given, READ));
    }

    @Test
    void anEnvironmentsOwnVariablesAndPrefixLookupsAreLeftAlone() {
        Set<String> given = Set.of("HTTP_PROXY", "PATH", "HOME", "KAFKA_CLIENT_SASL_MECHANISM", "JAVA_HOME");

        assertEquals(Map.of(), Typos.among(given, READ));
    }
}
