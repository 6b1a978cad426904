package dev.thoughtstream.common.logging;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.regex.Pattern;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.config.plugins.Plugin;
import org.apache.logging.log4j.core.config.plugins.PluginFactory;
import org.apache.logging.log4j.layout.template.json.resolver.EventResolver;
import org.apache.logging.log4j.layout.template.json.resolver.EventResolverContext;
import org.apache.logging.log4j.layout.template.json.resolver.EventResolverFactory;
import org.apache.logging.log4j.layout.template.json.resolver.TemplateResolverConfig;
import org.apache.logging.log4j.layout.template.json.resolver.TemplateResolverFactory;
import org.apache.logging.log4j.layout.template.json.util.JsonWriter;

/**
 * The JSON layout's {@code "$resolver": "redactedException"}: the failure's full stack trace as one string with bot
 * tokens replaced, as the text layout's {@code %replace{%xEx{full}}} does, and no field at all when the event has no
 * failure. Log4j's own {@code exception} resolver cannot redact, and its {@code pattern} resolver would write an
 * empty field on every line.
 */
@Plugin(name = "RedactedExceptionResolverFactory", category = TemplateResolverFactory.CATEGORY)
public final class RedactedExceptionResolverFactory implements EventResolverFactory {
    /** The same expression as log4j2.xml's {@code redact} property: TelegramBots and OkHttp put tokens in URLs. */
    static final Pattern BOT_TOKEN = Pattern.compile("bot[0-9]+:[A-Za-z0-9_-]+");

    private static final RedactedExceptionResolverFactory INSTANCE = new RedactedExceptionResolverFactory();

    private static final EventResolver RESOLVER = new EventResolver() {
        @Override
        public boolean isResolvable(LogEvent event) {
            return event.getThrown() != null;
        }

        @Override
        public void resolve(LogEvent event, JsonWriter writer) {
            Throwable thrown = event.getThrown();
            if (thrown == null) {
                writer.writeNull();
                return;
            }
            StringWriter trace = new StringWriter();
            thrown.printStackTrace(new PrintWriter(trace));
            writer.writeString(BOT_TOKEN.matcher(trace.toString()).replaceAll("bot<redacted>"));
        }
    };

    private RedactedExceptionResolverFactory() {}

    @PluginFactory
    public static RedactedExceptionResolverFactory getInstance() {
        return INSTANCE;
    }

    @Override
    public String getName() {
        return "redactedException";
    }

    @Override
    public EventResolver create(EventResolverContext context, TemplateResolverConfig config) {
        return RESOLVER;
    }
}
