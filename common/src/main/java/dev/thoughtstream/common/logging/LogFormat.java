package dev.thoughtstream.common.logging;

import dev.thoughtstream.common.config.Config;
import java.util.Locale;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;

/**
 * {@code LOG_FORMAT}: how the services write their log lines to standard output. {@code text} (the default) for
 * people, {@code json} (one JSON object a line, see {@code log4j2-json.json}) for log tools. log4j2.xml picks the
 * layout from the environment before any code runs; {@link #use()} makes a value that came from {@code .env} (which
 * Log4j does not read) or in another case take effect too.
 */
public enum LogFormat {
    TEXT,
    JSON;

    public static final String LOG_FORMAT = "LOG_FORMAT";
    /** The system property log4j2.xml reads before {@code LOG_FORMAT}; set by {@link #use()} only. */
    static final String PROPERTY = "thoughtstream.log.format";

    /** The checked value; the message of an invalid one names the variable and the allowed values. */
    public static LogFormat from(Config config) {
        return config.enumValue(LOG_FORMAT, LogFormat.class, TEXT);
    }

    /** This format's name as log4j2.xml spells it. */
    public String value() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Switches the process's logging to this format if log4j2.xml chose the other one (the value was not in the
     * environment as {@code json}); does nothing otherwise.
     */
    public void use() {
        if (this == active()) {
            return;
        }
        System.setProperty(PROPERTY, value());
        if (LogManager.getContext(false) instanceof LoggerContext context) {
            context.reconfigure();
        }
    }

    /** The format log4j2.xml chose: the property first, then the environment, exactly as it compares them. */
    static LogFormat active() {
        String property = System.getProperty(PROPERTY);
        if (property != null) {
            return JSON.value().equals(property) ? JSON : TEXT;
        }
        return JSON.value().equals(System.getenv(LOG_FORMAT)) ? JSON : TEXT;
    }
}
