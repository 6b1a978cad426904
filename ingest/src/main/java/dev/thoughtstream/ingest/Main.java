package dev.thoughtstream.ingest;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.redis.RedisClaimStore;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * ingest: Telegram → tg.updates. Config from the environment (see README's config table). Exit status 2 for
 * invalid configuration, 1 when ingest cannot start or its polling fails; it runs until the JVM is asked to stop.
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) throws InterruptedException {
        IngestConfig ingest;
        KafkaSettings kafka;
        RedisSettings redis;
        try {
            Config config = Config.load();
            ingest = IngestConfig.from(config);
            kafka = KafkaSettings.from(config);
            redis = RedisSettings.from(config);
        } catch (ConfigException e) {
            LOG.error("invalid configuration: {}", e.getMessage());
            System.exit(2);
            return;
        }
        LOG.info("starting ingest: {}, {}, {}", ingest, kafka, redis);

        RedisClaimStore claims = RedisClaimStore.open(redis);
        IngestService service = new IngestService(ingest, kafka, claims, Clock.systemUTC());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.close();
            claims.close();
        }, "ingest-shutdown"));
        try {
            service.start();
        } catch (RuntimeException e) {
            LOG.error("cannot start ingest: {}", e.getMessage(), e);
            System.exit(1);
            return;
        }
        // The poller thread is a daemon: without this wait the JVM would end right after start.
        service.awaitTermination();
        if (service.failure().isPresent()) {
            System.exit(1);
        }
    }
}
