package dev.thoughtstream.testkit.config;

import dev.thoughtstream.common.config.ConfigException;
import java.util.Arrays;

/**
 * The one assertion of every configuration test: reading the settings fails fast with a {@link ConfigException}
 * that names the variable at fault (and, optionally, says what was wrong with it). Plain {@link AssertionError}s,
 * so the testkit needs no test framework of its own.
 */
public final class ConfigAssertions {

    /** Reads settings; anything it throws besides a {@link ConfigException} fails the assertion. */
    @FunctionalInterface
    public interface SettingsRead {
        void read() throws Exception;
    }

    private ConfigAssertions() {}

    /**
     * Asserts that {@code read} throws a {@link ConfigException} naming {@code variable} whose message contains every
     * one of {@code saying}; returns it for further checks.
     */
    public static ConfigException assertRejects(String variable, SettingsRead read, String... saying) {
        try {
            read.read();
        } catch (ConfigException e) {
            if (!variable.equals(e.variable())) {
                throw new AssertionError(
                        "expected the ConfigException to name " + variable + " but it named " + e.variable() + ": "
                                + e.getMessage(),
                        e);
            }
            for (String part : saying) {
                if (!e.getMessage().contains(part)) {
                    throw new AssertionError(
                            "expected the message about " + variable + " to say '" + part + "' but it was: "
                                    + e.getMessage(),
                            e);
                }
            }
            return e;
        } catch (Exception e) {
            throw new AssertionError("expected a ConfigException naming " + variable + " but got " + e, e);
        }
        throw new AssertionError("expected a ConfigException naming " + variable
                + (saying.length == 0 ? "" : " saying " + Arrays.toString(saying)) + " but the settings were accepted");
    }
}
