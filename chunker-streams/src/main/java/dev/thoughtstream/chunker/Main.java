package dev.thoughtstream.chunker;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.KafkaSettings;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Runs the chunker until the JVM is asked to stop (SIGTERM / Ctrl-C) or the streams fail. */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) throws InterruptedException {
        ChunkerConfig config;
        KafkaSettings kafka;
        try {
            Config env = Config.load();
            config = ChunkerConfig.from(env);
            kafka = KafkaSettings.from(env);
        } catch (ConfigException e) {
            LOG.error("invalid configuration: {}", e.getMessage());
            System.exit(2);
            return;
        }
        LOG.info("chunker configuration: {}; {}", config, kafka);

        ChunkerService service = new ChunkerService(config, kafka);
        Runtime.getRuntime().addShutdownHook(new Thread(service::close, "chunker-shutdown"));
        try {
            service.start();
        } catch (RuntimeException e) {
            LOG.error("chunker could not start", e);
            System.exit(1);
        }

        KafkaStreams.State end = service.awaitStopped();
        if (end == KafkaStreams.State.ERROR) {
            // Exit non-zero so a supervisor restarts the process; the shutdown hook closes the service.
            LOG.error("chunker streams failed; exiting");
            System.exit(1);
        }
    }
}
