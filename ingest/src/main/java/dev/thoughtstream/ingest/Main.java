package dev.thoughtstream.ingest;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.redis.RedisChatActivity;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.service.ServiceLauncher;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/** ingest: Telegram → tg.updates. Configuration and exit codes: see README and {@link ServiceLauncher}. */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);
    /** How long a chat's newest message id is kept: staleness matters for minutes; a day covers any redelivery. */
    static final Duration ACTIVITY_TTL = Duration.ofDays(1);

    private Main() {}

    public static void main(String[] args) {
        ServiceLauncher.run("ingest", (config, metrics) -> {
            IngestConfig ingest = IngestConfig.from(config);
            KafkaSettings kafka = KafkaSettings.from(config);
            RedisSettings redis = RedisSettings.from(config);
            LOG.info("starting ingest: {}, {}, {}", ingest, kafka, redis);
            RedisClient client = RedisClaimStore.connect(redis);
            RedisClaimStore claims = new RedisClaimStore(client, redis.keyPrefix());
            // Ingest only writes the staleness signal, so it needs no subscriber.
            RedisChatActivity activity = new RedisChatActivity(client, redis.keyPrefix(), ACTIVITY_TTL);
            Clock clock = Clock.systemUTC();
            try {
                HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
                IntakeRules rules = IntakeSetup.rules(ingest, claims, client, redis.keyPrefix(), metrics, http, clock);
                if (ingest.mode() == IngestMode.WEBHOOK) {
                    // The one hook of webhook mode: it replaces long polling (and needs no lease).
                    WebhookIngest webhook = new WebhookIngest(ingest, kafka, claims, activity, rules, metrics, http,
                            clock);
                    webhook.start();
                    return ServiceLauncher.running(webhook::awaitTermination, Optional::empty, () -> {
                        webhook.close();
                        activity.close();
                        claims.close();
                    }, webhook::isServing);
                }
                // One poller at a time: every ingest of this bot competes for the same lease in the same Redis.
                PollerLease lease = new PollerLease(client,
                        PollerLease.keyFor(redis.keyPrefix(), ingest.telegram().botId()), PollerLease.defaultOwner(),
                        ingest.lease().ttl());
                LOG.info("poller lease: {}", lease);
                IngestService service = new IngestService(ingest, kafka, claims, activity, rules, lease, metrics,
                        clock);
                service.start();
                // The poller thread is a daemon: the launcher's wait is what keeps the JVM alive.
                return ServiceLauncher.running(service::awaitTermination, service::failure, () -> {
                    service.close();
                    activity.close();
                    claims.close(); // closes the Redis client both use
                }, service::isReady);
            } catch (RuntimeException e) {
                activity.close();
                claims.close();
                throw e;
            }
        });
    }
}
