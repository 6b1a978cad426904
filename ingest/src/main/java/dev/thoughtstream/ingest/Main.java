package dev.thoughtstream.ingest;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.service.ServiceLauncher;
import java.time.Clock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** ingest: Telegram → tg.updates. Configuration and exit codes: see README and {@link ServiceLauncher}. */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) {
        ServiceLauncher.run("ingest", (config, metrics) -> {
            IngestConfig ingest = IngestConfig.from(config);
            KafkaSettings kafka = KafkaSettings.from(config);
            RedisSettings redis = RedisSettings.from(config);
            LOG.info("starting ingest: {}, {}, {}", ingest, kafka, redis);
            RedisClaimStore claims = RedisClaimStore.open(redis);
            IngestService service = new IngestService(ingest, kafka, claims, Clock.systemUTC());
            try {
                service.start();
            } catch (RuntimeException e) {
                claims.close();
                throw e;
            }
            // The poller thread is a daemon: the launcher's wait is what keeps the JVM alive.
            return ServiceLauncher.running(service::awaitTermination, service::failure, () -> {
                service.close();
                claims.close();
            }, service::isPolling);
        });
    }
}
