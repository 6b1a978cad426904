package dev.thoughtstream.ingest;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.service.ServiceFactory;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.ingest.intake.InMemoryFloodWindow;
import dev.thoughtstream.ingest.intake.IntakeRules;
import dev.thoughtstream.ingest.intake.UpdateJudge;
import dev.thoughtstream.ingest.poll.IngestService;
import dev.thoughtstream.ingest.poll.PollerLease;
import dev.thoughtstream.ingest.webhook.WebhookIngest;
import dev.thoughtstream.ingest.write.ActivityRecorder;
import java.net.http.HttpClient;
import java.time.Duration;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/**
 * Builds ingest: Telegram → {@code tg.updates}, by long polling under the poller lease, or as a webhook endpoint
 * ({@code INGEST_MODE}). The intake rules come from the configuration; the bot's username from getMe when needed.
 */
public final class IngestFactory implements ServiceFactory {
    private static final Logger LOG = LoggerFactory.getLogger(IngestFactory.class);

    @Override
    public String name() {
        return IngestConfig.SERVICE_NAME;
    }

    @Override
    public void validate(Config config) {
        IngestConfig.from(config);
    }

    @Override
    public Service create(Config config, Infra infra) {
        IngestConfig ingest = IngestConfig.from(config);
        LOG.info("ingest: {}, {}", ingest, infra.kafka());
        ClaimStore claims = infra.claims();
        // Ingest only writes the staleness signal, so it needs no subscription.
        ActivityRecorder activity = ActivityRecorder.of(infra.activity());
        HttpClient botApi =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        Optional<RedisClient> redis = infra.redis();
        Metrics metrics = infra.metrics();
        StageTracer tracer = infra.tracing().forService(name());
        IntakeRules rules = redis.isPresent()
                ? IntakeSetup.rules(ingest, claims, redis.get(), infra.redisKeyPrefix(), metrics, botApi, infra.clock())
                : IntakeSetup.rules(ingest, claims, new InMemoryFloodWindow(), metrics, botApi, infra.clock());
        UpdateJudge judge = IntakeSetup.judge(ingest, claims, rules);
        if (ingest.mode() == IngestMode.WEBHOOK) {
            // Webhook mode replaces long polling, and any number of instances may serve the URL: no lease.
            return new WebhookIngest(
                    ingest,
                    new WebhookIngest.Dependencies(
                            infra.kafka(),
                            judge,
                            activity,
                            metrics,
                            new BotApiClient(ingest.telegram(), botApi),
                            infra.clock(),
                            tracer));
        }
        PollerLease lease = PollerLease.none();
        if (redis.isPresent()) {
            // One poller at a time: every ingest of this bot competes for the same lease in the same Redis.
            lease = new PollerLease(
                    redis.get(),
                    PollerLease.keyFor(infra.redisKeyPrefix(), ingest.telegram().botId()),
                    // With an instance id, a restarted ingest takes back the lease its crashed process left.
                    infra.instanceId().isPresent() ? infra.owner() : PollerLease.defaultOwner(),
                    ingest.lease().ttl());
            LOG.info("poller lease: {}", lease);
        } else {
            LOG.warn("*** IN-MEMORY fallback: ingest polls WITHOUT a poller lease; run only one devstack per bot ***");
        }
        return new IngestService(
                ingest,
                new IngestService.Dependencies(infra.kafka(), judge, activity, lease, metrics, infra.clock(), tracer));
    }
}
