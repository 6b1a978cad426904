package dev.thoughtstream.common.logging;

import dev.thoughtstream.common.config.Config;
import java.util.Arrays;
import java.util.Map;

/**
 * The logging variables every command reads, checked with the rest of its configuration. log4j2.xml applies them
 * before any code runs; an unknown level there would be taken without a word, so it is refused here instead.
 *
 * @param level        {@code LOG_LEVEL}: thoughtstream's own code (default {@code INFO})
 * @param libraryLevel {@code LOG_LEVEL_ROOT}: the libraries, Kafka, TelegramBots and the rest (default {@code WARN})
 * @param format       {@code LOG_FORMAT}: text or JSON lines
 */
public record LogSettings(Level level, Level libraryLevel, LogFormat format) {
    public static final String LOG_LEVEL = "LOG_LEVEL";
    public static final String LOG_LEVEL_ROOT = "LOG_LEVEL_ROOT";

    /** Log4j's standard levels (org.apache.logging.log4j.Level), which log4j2.xml takes in any case. */
    public enum Level {
        OFF,
        FATAL,
        ERROR,
        WARN,
        INFO,
        DEBUG,
        TRACE,
        ALL
    }

    /** The system properties log4j2.xml reads before {@code LOG_LEVEL} and {@code LOG_LEVEL_ROOT}. */
    static final String LEVEL_PROPERTY = "thoughtstream.log.level";

    static final String ROOT_LEVEL_PROPERTY = "thoughtstream.log.level.root";

    /**
     * Call first in a {@code main}, before anything logs: when {@code environment} holds a level Log4j does not know,
     * Log4j starts with the default level instead, rather than print a warning with a stack trace of its own before
     * the configuration check names the variable.
     */
    public static void beforeLogging(Map<String, String> environment) {
        defaultWhenUnknown(environment.get(LOG_LEVEL), LEVEL_PROPERTY, Level.INFO);
        defaultWhenUnknown(environment.get(LOG_LEVEL_ROOT), ROOT_LEVEL_PROPERTY, Level.WARN);
    }

    private static void defaultWhenUnknown(String value, String property, Level defaultLevel) {
        if (value == null || System.getProperty(property) != null) {
            return;
        }
        boolean known = Arrays.stream(Level.values()).anyMatch(l -> l.name().equalsIgnoreCase(value.strip()));
        if (!known) {
            System.setProperty(property, defaultLevel.name());
        }
    }

    /** The checked values; the message of an invalid one names the variable and the allowed values. */
    public static LogSettings from(Config config) {
        return new LogSettings(
                config.enumValue(LOG_LEVEL, Level.class, Level.INFO),
                config.enumValue(LOG_LEVEL_ROOT, Level.class, Level.WARN),
                LogFormat.from(config));
    }
}
