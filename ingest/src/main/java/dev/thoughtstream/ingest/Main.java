package dev.thoughtstream.ingest;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.redis.RedisClaimStore;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** ingest: Telegram → tg.updates. Config from the environment (see README's config table). */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) {
        Config config = Config.load();
        IngestConfig ingest = IngestConfig.from(config);
        KafkaSettings kafka = KafkaSettings.from(config);
        RedisSettings redis = RedisSettings.from(config);
        LOG.info("starting ingest: {}, {}, {}", ingest.telegram(), kafka, redis);

        RedisClaimStore claims = new RedisClaimStore(RedisClaimStore.connect(redis), "ts:");
        IngestService service = new IngestService(ingest, kafka, claims, Clock.systemUTC());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.close();
            claims.close();
        }, "ingest-shutdown"));
        service.start();
    }
}
