package dev.thoughtstream.devstack;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * Keeps devstack's stop to its one line. Each service logs its own stop at INFO ("ingest stopped", "chunker
 * closed", ...), which a deployed service's log should keep, but devstack stops eight of them at once in a
 * terminal: at the default level (INFO) those lines are raised to WARN while it stops, so warnings and errors still
 * show. A level set on purpose ({@code LOG_LEVEL=DEBUG}, or {@code WARN}) is left as it is.
 */
final class QuietStop {
    /** The project's logger, whose level {@code LOG_LEVEL} sets in log4j2.xml. */
    static final String LOGGER = "dev.thoughtstream";

    private QuietStop() {}

    /** From now on, our loggers' INFO lines are dropped if INFO is their level. */
    static void hideLifecycleLines() {
        if (LogManager.getLogger(LOGGER).getLevel() == Level.INFO) {
            Configurator.setLevel(LOGGER, Level.WARN);
        }
    }
}
