package dev.thoughtstream.emitter;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.service.ServiceLauncher;
import java.time.Clock;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * emitter: chat.replies → Telegram (+ chat.delivered). Configuration and exit codes: see README and
 * {@link ServiceLauncher}; after a failure a supervisor restarts it, and the committed offsets and the claims make
 * that safe.
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) {
        ServiceLauncher.run("emitter", (config, metrics) -> {
            EmitterConfig emitter = EmitterConfig.from(config);
            KafkaSettings kafka = KafkaSettings.from(config);
            RedisSettings redis = RedisSettings.from(config);
            LOG.info("starting emitter: {}, {}, {}", emitter.telegram(), kafka, redis);
            OkHttpClient http = TelegramClients.http();
            RedisClaimStore claims = RedisClaimStore.open(redis);
            EmitterService service = new EmitterService(emitter, kafka,
                    TelegramClients.create(emitter.telegram(), http), claims, Clock.systemUTC());
            Runnable stop = () -> {
                service.close();
                claims.close();
                TelegramClients.release(http);
            };
            try {
                service.start();
            } catch (RuntimeException e) {
                stop.run();
                throw e;
            }
            return ServiceLauncher.running(service::awaitTermination, service::failure, stop, service::isRunning);
        });
    }
}
