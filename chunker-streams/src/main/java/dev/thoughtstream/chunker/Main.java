package dev.thoughtstream.chunker;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.service.ServiceLauncher;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** chunker-streams: tg.updates → chat.thoughts. Configuration and exit codes: see README and {@link ServiceLauncher}. */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) {
        ServiceLauncher.run("chunker", (env, metrics) -> {
            ChunkerConfig config = ChunkerConfig.from(env);
            KafkaSettings kafka = KafkaSettings.from(env);
            LOG.info("chunker configuration: {}; {}", config, kafka);
            ChunkerService service = new ChunkerService(config, kafka, java.time.Clock.systemUTC(), metrics);
            try {
                service.start();
            } catch (RuntimeException e) {
                service.close();
                throw e;
            }
            AtomicReference<KafkaStreams.State> end = new AtomicReference<>();
            return ServiceLauncher.running(() -> end.set(service.awaitStopped()),
                    () -> end.get() == KafkaStreams.State.ERROR
                            ? Optional.of(new IllegalStateException("the chunker's streams failed (state ERROR)"))
                            : Optional.empty(),
                    service::close,
                    () -> service.state() == KafkaStreams.State.RUNNING || service.state() == KafkaStreams.State.REBALANCING);
        });
    }
}
