package dev.thoughtstream.common.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigCheck;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** LOG_LEVEL and LOG_LEVEL_ROOT are checked like every other variable instead of being taken without a word. */
class LogSettingsTest {

    @Test
    void anUnknownLevelIsReportedWithItsNameValueAndTheLevelsLog4jKnows() {
        Config config = Config.of(Map.of("LOG_LEVEL", "LOUD", "LOG_LEVEL_ROOT", "verbose", "LOG_FORMAT", "xml"));

        ConfigCheck check = ConfigCheck.of(config).check(LogSettings::from);

        assertEquals(
                List.of(
                        "LOG_FORMAT: expected one of text | json but was 'xml'",
                        "LOG_LEVEL: expected one of off | fatal | error | warn | info | debug | trace | all but was 'LOUD'",
                        "LOG_LEVEL_ROOT: expected one of off | fatal | error | warn | info | debug | trace | all but was"
                                + " 'verbose'"),
                check.lines());
    }

    @Test
    void levelsAreTakenInAnyCaseWithLog4jsDefaultsWhenUnset() {
        assertEquals(
                new LogSettings(LogSettings.Level.INFO, LogSettings.Level.WARN, LogFormat.TEXT),
                LogSettings.from(Config.of(Map.of())));
        assertEquals(
                new LogSettings(LogSettings.Level.DEBUG, LogSettings.Level.ERROR, LogFormat.JSON),
                LogSettings.from(
                        Config.of(Map.of("LOG_LEVEL", "debug", "LOG_LEVEL_ROOT", "Error", "LOG_FORMAT", "json"))));
    }

    @Test
    void anUnknownLevelMakesLog4jStartWithTheDefaultAndAKnownOneIsHandedToLog4j() {
        try {
            // given an unknown level for our code and a known one for the libraries (from .env, say, which
            // log4j2.xml cannot read)
            LogSettings.beforeLogging(Map.of("LOG_LEVEL", "LOUD", "LOG_LEVEL_ROOT", "error"));

            // then log4j2.xml is told the default for the first and the given level for the second
            assertEquals("INFO", System.getProperty(LogSettings.LEVEL_PROPERTY));
            assertEquals("ERROR", System.getProperty(LogSettings.ROOT_LEVEL_PROPERTY));
        } finally {
            System.clearProperty(LogSettings.LEVEL_PROPERTY);
            System.clearProperty(LogSettings.ROOT_LEVEL_PROPERTY);
        }
    }

    @Test
    void unsetLevelsAndALevelGivenOnTheCommandLineAreLeftAlone() {
        try {
            // given -Dthoughtstream.log.level=TRACE on the command line, and no LOG_LEVEL_ROOT
            System.setProperty(LogSettings.LEVEL_PROPERTY, "TRACE");

            LogSettings.beforeLogging(Map.of("LOG_LEVEL", "debug"));

            // then neither is touched
            assertEquals("TRACE", System.getProperty(LogSettings.LEVEL_PROPERTY));
            assertNull(System.getProperty(LogSettings.ROOT_LEVEL_PROPERTY));
        } finally {
            System.clearProperty(LogSettings.LEVEL_PROPERTY);
            System.clearProperty(LogSettings.ROOT_LEVEL_PROPERTY);
        }
    }
}
