package dev.thoughtstream.common.logging;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;

/** The message and the context data of every event logged while it is attached to the root logger. */
final class CapturedEvents extends AbstractAppender implements AutoCloseable {
    record Captured(String message, Map<String, String> context) {}

    final List<Captured> events = new CopyOnWriteArrayList<>();

    private CapturedEvents(String name) {
        super(name, null, null, true, Property.EMPTY_ARRAY);
    }

    static CapturedEvents attach(String name) {
        CapturedEvents appender = new CapturedEvents(name);
        appender.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().addAppender(appender, Level.ALL, null);
        context.updateLoggers();
        return appender;
    }

    @Override
    public void append(LogEvent event) {
        events.add(new Captured(
                event.getMessage().getFormattedMessage(),
                Map.copyOf(event.getContextData().toMap())));
    }

    Captured the(String message) {
        return events.stream()
                .filter(e -> e.message().equals(message))
                .findFirst()
                .orElseThrow(() -> new AssertionError("no event '" + message + "' among " + events));
    }

    @Override
    public void close() {
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().removeAppender(getName());
        context.updateLoggers();
        stop();
    }
}
