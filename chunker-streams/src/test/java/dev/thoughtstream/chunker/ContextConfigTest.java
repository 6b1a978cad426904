package dev.thoughtstream.chunker;

import static dev.thoughtstream.testkit.config.ConfigAssertions.assertRejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.chunker.context.ContextPolicy;
import dev.thoughtstream.common.config.Config;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The context retention settings: byte cap, idle TTL and the pruning punctuation. */
class ContextConfigTest {

    @Test
    void defaultsCapAChatAt256KiBForgetItAfter30IdleDaysAndPruneEveryMinuteAtMost1000ChatsARun() {
        ContextPolicy context = ChunkerConfig.from(Config.of(Map.of())).context();

        assertEquals(262_144, context.maxBytes());
        assertEquals(Duration.ofDays(30), context.idleTtl());
        assertEquals(Duration.ofMinutes(1), context.pruneInterval());
        assertEquals(1000, context.pruneMaxChats());
    }

    @Test
    void everyContextVariableIsRead() {
        ContextPolicy context = ChunkerConfig.from(Config.of(Map.of(
                        "CONTEXT_WINDOW_MS", "60000",
                        "CONTEXT_MIN_MESSAGES", "7",
                        "CONTEXT_MAX_CHARS", "500",
                        "CONTEXT_MAX_BYTES", "4096",
                        "CONTEXT_IDLE_TTL_MS", "86400000",
                        "CONTEXT_PRUNE_INTERVAL_MS", "5000",
                        "CONTEXT_PRUNE_MAX_CHATS", "50")))
                .context();

        assertEquals(
                new ContextPolicy(Duration.ofMinutes(1), 7, 500, 4096, Duration.ofDays(1), Duration.ofSeconds(5), 50),
                context);
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource({
        "CONTEXT_MAX_BYTES, 1023",
        "CONTEXT_MAX_BYTES, 1000001",
        "CONTEXT_MAX_BYTES, lots",
        "CONTEXT_IDLE_TTL_MS, 59999",
        "CONTEXT_IDLE_TTL_MS, forever",
        "CONTEXT_PRUNE_INTERVAL_MS, 0",
        "CONTEXT_PRUNE_MAX_CHATS, 0",
    })
    void anInvalidValueFailsFastNamingTheVariable(String variable, String value) {
        assertRejects(variable, () -> read(variable, value));
    }

    @Test
    void theStartupLogLineNamesTheContextVariables() {
        String line = ChunkerConfig.from(Config.of(Map.of())).toString();

        for (String variable : new String[] {
            "CONTEXT_MAX_BYTES=262144",
            "CONTEXT_IDLE_TTL_MS=2592000000",
            "CONTEXT_PRUNE_INTERVAL_MS=60000",
            "CONTEXT_PRUNE_MAX_CHATS=1000"
        }) {
            assertTrue(line.contains(variable), variable + " in " + line);
        }
    }

    /** The settings read from exactly these variables: name, value, name, value... */
    private static ChunkerConfig read(String... namesAndValues) {
        Map<String, String> variables = new HashMap<>();
        for (int i = 0; i < namesAndValues.length; i += 2) {
            variables.put(namesAndValues[i], namesAndValues[i + 1]);
        }
        return ChunkerConfig.from(Config.of(variables));
    }
}
