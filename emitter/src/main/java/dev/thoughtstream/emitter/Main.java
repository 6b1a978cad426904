package dev.thoughtstream.emitter;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.redis.RedisClaimStore;
import java.time.Clock;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * emitter: chat.replies → Telegram (+ chat.delivered). Config from the environment (see README).
 * Exit codes: 2 invalid configuration, 1 failed to start or the loop failed, 0 stopped by a signal.
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) throws InterruptedException {
        EmitterConfig emitter;
        KafkaSettings kafka;
        RedisSettings redis;
        try {
            Config config = Config.load();
            emitter = EmitterConfig.from(config);
            kafka = KafkaSettings.from(config);
            redis = RedisSettings.from(config);
        } catch (ConfigException e) {
            LOG.error("invalid configuration: {}", e.getMessage());
            System.exit(2);
            return;
        }
        LOG.info("starting emitter: {}, {}, {}", emitter.telegram(), kafka, redis);

        OkHttpClient http = TelegramClients.http();
        RedisClaimStore claims = RedisClaimStore.open(redis);
        EmitterService service = new EmitterService(emitter, kafka, TelegramClients.create(emitter.telegram(), http),
                claims, Clock.systemUTC());
        try {
            service.start();
        } catch (RuntimeException e) {
            LOG.error("cannot start the emitter", e);
            service.close();
            claims.close();
            TelegramClients.release(http);
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.close();
            claims.close();
            TelegramClients.release(http);
        }, "emitter-shutdown"));
        service.awaitTermination();
        if (service.failure().isPresent()) {
            // A supervisor restarts us; the committed offsets and the claims make that safe.
            System.exit(1);
        }
    }
}
