package dev.thoughtstream.ingest;

import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.ingest.intake.AccessSettings;
import dev.thoughtstream.ingest.intake.FloodGuard;
import dev.thoughtstream.ingest.intake.FloodWindow;
import dev.thoughtstream.ingest.intake.GroupMode;
import dev.thoughtstream.ingest.intake.InMemoryFloodWindow;
import dev.thoughtstream.ingest.intake.IntakeRules;
import dev.thoughtstream.ingest.intake.RedisFloodWindow;
import dev.thoughtstream.ingest.intake.UpdateJudge;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/** Builds the {@link IntakeRules} and {@link UpdateJudge} of a running ingest from its configuration. */
public final class IntakeSetup {
    private static final Logger LOG = LoggerFactory.getLogger(IntakeSetup.class);
    /** A window's counts live a little longer than the window, so a late update still finds them. */
    static final Duration FLOOD_KEEP = FloodGuard.WINDOW.multipliedBy(2);

    private IntakeSetup() {}

    /**
     * The configured rules. The bot's username comes from {@code BOT_USERNAME} or, when unset and groups are
     * {@link GroupMode#ADDRESSED}, from getMe (needed to recognise mentions and {@code /cmd@bot} in groups).
     *
     * @param redis          the Redis client behind {@code claims}, for the flood guard's counts
     * @param redisKeyPrefix {@code REDIS_KEY_PREFIX}
     * @throws IllegalStateException when getMe is needed and fails (the message never holds the token)
     */
    public static IntakeRules rules(
            IngestConfig config,
            ClaimStore claims,
            RedisClient redis,
            String redisKeyPrefix,
            Metrics metrics,
            HttpClient http,
            Clock clock) {
        long botId = config.telegram().botId();
        return rules(
                config,
                claims,
                new RedisFloodWindow(redis, redisKeyPrefix + "ingest:flood:" + botId + ":", FLOOD_KEEP),
                metrics,
                http,
                clock);
    }

    /**
     * The configured rules over any {@link FloodWindow} (devstack's in-memory fallback passes an
     * {@link InMemoryFloodWindow}).
     */
    public static IntakeRules rules(
            IngestConfig config, ClaimStore claims, FloodWindow window, Metrics metrics, HttpClient http, Clock clock) {
        AccessSettings access = config.access();
        // Telegram's bot id is the token's prefix; getMe's answer is preferred when asked anyway.
        long botId = config.telegram().botId();
        String username = access.botUsername();
        // Only the group rules need the username (mentions, /cmd@bot).
        if (username.isEmpty() && access.groupMode() == GroupMode.ADDRESSED) {
            BotApiClient.BotProfile me = new BotApiClient(config.telegram(), http).getMe();
            username = me.username();
            botId = me.id();
            LOG.info("the bot is @{} (id {}), from getMe", username, me.id());
        }
        return IntakeRules.create(
                access,
                botId,
                username,
                claims,
                window,
                metrics,
                clock,
                config.telegram().apiUrl());
    }

    /** The judge of {@code rules}: dedup in {@code claims} under the bot's prefix, for {@code INGEST_DEDUP_TTL_MS}. */
    public static UpdateJudge judge(IngestConfig config, ClaimStore claims, IntakeRules rules) {
        return new UpdateJudge(
                rules, claims, UpdateJudge.dedupPrefix(config.telegram().botId()), config.dedupTtl());
    }
}
