package dev.thoughtstream.llm;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/** Every event logged (at the loggers' configured levels) while it is attached to the root logger. */
public final class CapturedLogs extends AbstractAppender implements AutoCloseable {
    /** One event: its level, its logger, and its message formatted as the log file shows it. */
    public record Event(Level level, String logger, String message) {}

    private final List<Event> events = new CopyOnWriteArrayList<>();

    private CapturedLogs() {
        super("captured-" + UUID.randomUUID(), null, null, true, Property.EMPTY_ARRAY);
    }

    public static CapturedLogs attach() {
        CapturedLogs appender = new CapturedLogs();
        appender.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().addAppender(appender, Level.ALL, null);
        context.updateLoggers();
        return appender;
    }

    @Override
    public void append(LogEvent event) {
        events.add(new Event(
                event.getLevel(), event.getLoggerName(), event.getMessage().getFormattedMessage()));
    }

    /** The events of {@code logger} (its full class name) at {@code level}, in order. */
    public List<Event> of(Class<?> logger, Level level) {
        return events.stream()
                .filter(e -> e.logger().equals(logger.getName()) && e.level().equals(level))
                .toList();
    }

    /** Every message, for failure output. */
    public List<String> messages() {
        return events.stream().map(e -> e.level() + " " + e.message()).toList();
    }

    @Override
    public void close() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().removeAppender(getName());
        context.updateLoggers();
        stop();
    }
}
