package dev.thoughtstream.emitter;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.redis.RedisChatActivity;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.service.ServiceLauncher;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import okhttp3.OkHttpClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/**
 * emitter: chat.replies → Telegram (+ chat.delivered). Configuration and exit codes: see README and
 * {@link ServiceLauncher}; after a failure a supervisor restarts it, and the committed offsets and the claims make
 * that safe.
 */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);
    /** The emitter only reads the staleness register; ingest, which writes it, decides how long it lives. */
    private static final Duration ACTIVITY_TTL = Duration.ofDays(1);
    private static final Duration SUBSCRIBE_WAIT = Duration.ofSeconds(5);

    private Main() {}

    public static void main(String[] args) {
        ServiceLauncher.run("emitter", (config, metrics) -> {
            EmitterConfig emitter = EmitterConfig.from(config);
            KafkaSettings kafka = KafkaSettings.from(config);
            RedisSettings redis = RedisSettings.from(config);
            LOG.info("starting emitter: {}, {}, {}", emitter.telegram(), kafka, redis);
            OkHttpClient http = TelegramClients.http();
            RedisClient client = RedisClaimStore.connect(redis);
            RedisClaimStore claims = new RedisClaimStore(client, redis.keyPrefix());
            RedisChatActivity activity = new RedisChatActivity(client, redis.keyPrefix(), ACTIVITY_TTL);
            ScheduledThreadPoolExecutor scheduler = EmitterThreads.scheduler();
            EmitterService service = null;
            try {
                if (!activity.startSubscriber(SUBSCRIBE_WAIT)) {
                    // Not fatal: staleness is read from the register before each send until the subscription is up.
                    LOG.warn("not yet subscribed to the staleness signal after {}; waiting parts are dropped once it "
                            + "is up (stale parts are still not sent)", SUBSCRIBE_WAIT);
                }
                service = new EmitterService(emitter, kafka, TelegramClients.create(emitter.telegram(), http), claims,
                        activity, metrics, Clock.systemUTC(), scheduler);
                service.start();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                release(null, activity, claims, scheduler, http);
                throw new IllegalStateException("interrupted while starting", e);
            } catch (RuntimeException e) {
                release(service, activity, claims, scheduler, http);
                throw e;
            }
            EmitterService started = service;
            return ServiceLauncher.running(started::awaitTermination, started::failure,
                    () -> release(started, activity, claims, scheduler, http), started::isRunning);
        });
    }

    private static void release(EmitterService service, RedisChatActivity activity, RedisClaimStore claims,
            ScheduledThreadPoolExecutor scheduler, OkHttpClient http) {
        if (service != null) {
            service.close();
        }
        activity.close();
        claims.close(); // closes the Redis client both use
        scheduler.shutdownNow();
        TelegramClients.release(http);
    }
}
