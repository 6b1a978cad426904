package dev.thoughtstream.chunker;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.service.ServiceFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Builds the chunker: {@code tg.updates} (+ {@code chat.delivered}) → {@code chat.thoughts}, on Kafka Streams. */
public final class ChunkerFactory implements ServiceFactory {
    private static final Logger LOG = LoggerFactory.getLogger(ChunkerFactory.class);

    @Override
    public String name() {
        return ChunkerService.NAME;
    }

    /** The chunker keeps its state in Kafka Streams' stores; it never touches Redis. */
    @Override
    public boolean usesRedis() {
        return false;
    }

    @Override
    public void validate(Config config) {
        ChunkerConfig.from(config);
    }

    @Override
    public Service create(Config config, Infra infra) {
        ChunkerConfig chunker = ChunkerConfig.from(config);
        LOG.info("chunker: {}; {}", chunker, infra.kafka());
        return new ChunkerService(
                chunker,
                infra.kafka(),
                infra.clock(),
                infra.metrics(),
                infra.tracing().forService(name()));
    }
}
