package dev.thoughtstream.common.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.URI;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configurator;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The services' log4j2.xml drops a few Kafka WARN messages known to be harmless, one message each: the message goes,
 * and any other WARN of the same logger stays. Runs the production configuration (the tests' own is another file).
 */
class HarmlessKafkaWarningsTest {
    private LoggerContext context;
    private final List<String> shown = new CopyOnWriteArrayList<>();

    @BeforeEach
    void startTheServicesLoggingConfiguration() throws Exception {
        URI production = Objects.requireNonNull(getClass().getClassLoader().getResource("log4j2.xml"))
                .toURI();
        context = Configurator.initialize("harmless-warnings-" + System.nanoTime(), null, production);
        AbstractAppender capture = new AbstractAppender("capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                shown.add(event.getMessage().getFormattedMessage());
            }
        };
        capture.start();
        context.getConfiguration().getRootLogger().addAppender(capture, Level.ALL, null);
        context.updateLoggers();
    }

    @AfterEach
    void stop() {
        Configurator.shutdown(context);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(
            delimiter = '|',
            value = {
                "org.apache.kafka.controller.QuorumController"
                        + "|[QuorumController id=1] Performing controller activation. Loaded ZK migration state of NONE.",
                "org.apache.kafka.streams.processor.internals.StateDirectory"
                        + "|Using an OS temp directory in the state.dir property can cause failures with writing the"
                        + " checkpoint file due to the fact that this directory can be cleared by the OS.",
                "org.apache.kafka.streams.StreamsConfig"
                        + "|Processing exception handler is not enabled for the GlobalThread.",
                "kafka.server.DefaultAutoTopicCreationManager"
                        + "|Auto topic creation failed for __transaction_state with error 'TOPIC_ALREADY_EXISTS':"
                        + " Topic '__transaction_state' already exists.",
                "org.apache.kafka.clients.NetworkClient"
                        + "|[NetworkClient clientId=1] Attempting to close NetworkClient that has already been closed.",
                "org.apache.kafka.clients.consumer.internals.OffsetFetcherUtils"
                        + "|[Consumer clientId=c, groupId=g] Not updating last stable offset for partition"
                        + " tg.updates-0 as it is no longer assigned",
            })
    void aKnownHarmlessWarningIsDroppedAndTheLoggersOtherWarningsStay(String logger, String harmless) {
        // when the logger warns the harmless message, then something else
        context.getLogger(logger).warn(harmless);
        context.getLogger(logger).warn("something else went wrong");

        // then only the other warning is shown
        assertEquals(List.of("something else went wrong"), shown);
    }
}
