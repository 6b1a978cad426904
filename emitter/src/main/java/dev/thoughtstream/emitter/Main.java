package dev.thoughtstream.emitter;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.redis.RedisClaimStore;
import java.time.Clock;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** emitter: chat.replies → Telegram (+ chat.delivered). Config from the environment (see README). */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) {
        Config config = Config.load();
        EmitterConfig emitter = EmitterConfig.from(config);
        KafkaSettings kafka = KafkaSettings.from(config);
        RedisSettings redis = RedisSettings.from(config);
        LOG.info("starting emitter: {}, {}, {}", emitter.telegram(), kafka, redis);

        OkHttpClient http = TelegramClients.http();
        RedisClaimStore claims = new RedisClaimStore(RedisClaimStore.connect(redis), "ts:");
        EmitterService service = new EmitterService(emitter, kafka, TelegramClients.create(emitter.telegram(), http),
                claims, Clock.systemUTC());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            service.close();
            claims.close();
            TelegramClients.release(http);
        }, "emitter-shutdown"));
        service.start();
    }
}
