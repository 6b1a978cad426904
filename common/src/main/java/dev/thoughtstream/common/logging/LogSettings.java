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
     * Call first in a {@code main}, before anything logs, with the variables as the command will read them (the
     * environment over {@code .env}). log4j2.xml reads only the real environment, so a level Log4j knows is handed to
     * it here, which is what makes a {@code .env}'s {@code LOG_LEVEL} count; a level it does not know starts Log4j at
     * the default instead, rather than a warning with a stack trace of its own before the configuration check names
     * the variable. A system property set on the command line wins.
     */
    public static void beforeLogging(Map<String, String> variables) {
        apply(variables.get(LOG_LEVEL), LEVEL_PROPERTY, Level.INFO);
        apply(variables.get(LOG_LEVEL_ROOT), ROOT_LEVEL_PROPERTY, Level.WARN);
    }

    private static void apply(String value, String property, Level defaultLevel) {
        if (value == null || value.isBlank() || System.getProperty(property) != null) {
            return;
        }
        Level level = Arrays.stream(Level.values())
                .filter(l -> l.name().equalsIgnoreCase(value.strip()))
                .findFirst()
                .orElse(defaultLevel);
        System.setProperty(property, level.name());
    }

    /** The checked values; the message of an invalid one names the variable and the allowed values. */
    public static LogSettings from(Config config) {
        return new LogSettings(
                config.enumValue(LOG_LEVEL, Level.class, Level.INFO),
                config.enumValue(LOG_LEVEL_ROOT, Level.class, Level.WARN),
                LogFormat.from(config));
    }
}
