package dev.thoughtstream.testkit.config;

import static dev.thoughtstream.testkit.config.ConfigAssertions.assertRejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ConfigAssertionsTest {

    @Test
    void passesAndReturnsTheExceptionWhenTheNamedVariableIsRejected() {
        ConfigException e =
                assertRejects("PORT", () -> Config.of(Map.of("PORT", "abc")).integer("PORT", 1, 1, 10), "abc");

        assertEquals("PORT", e.variable());
    }

    @Test
    void failsWhenTheSettingsAreAccepted() {
        AssertionError e = assertThrows(
                AssertionError.class,
                () -> assertRejects("PORT", () -> Config.of(Map.of("PORT", "5")).integer("PORT", 1, 1, 10)));

        assertTrue(e.getMessage().contains("accepted"), e.getMessage());
    }

    @Test
    void failsWhenAnotherVariableIsNamed() {
        AssertionError e = assertThrows(
                AssertionError.class,
                () -> assertRejects("PORT", () -> {
                    throw new ConfigException("HOST", "is required but not set");
                }));

        assertTrue(e.getMessage().contains("named HOST"), e.getMessage());
    }

    @Test
    void failsWhenTheMessageDoesNotSayWhatWasWrong() {
        assertThrows(
                AssertionError.class,
                () -> assertRejects(
                        "PORT", () -> Config.of(Map.of("PORT", "abc")).integer("PORT", 1, 1, 10), "must be between"));
    }

    @Test
    void failsWhenSomethingElseIsThrown() {
        assertThrows(
                AssertionError.class,
                () -> assertRejects("PORT", () -> {
                    throw new IllegalStateException("boom");
                }));
    }
}
