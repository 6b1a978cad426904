package dev.thoughtstream.llm;

import dev.langchain4j.model.chat.StreamingChatModel;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.kafka.TopicAdmin;
import dev.thoughtstream.common.redis.RedisChatActivity;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.service.NamedThreads;
import dev.thoughtstream.common.service.ServiceLauncher;
import dev.thoughtstream.common.topic.Topics;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.RedisClient;

/** llm-processor: chat.thoughts → chat.replies. Configuration and exit codes: see README and {@link ServiceLauncher}. */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);
    /** The processor only reads the staleness register; ingest, which writes it, decides how long it lives. */
    private static final Duration ACTIVITY_TTL = Duration.ofDays(1);
    private static final Duration SUBSCRIBE_WAIT = Duration.ofSeconds(5);

    private Main() {}

    public static void main(String[] args) {
        ServiceLauncher.run(LlmProcessor.SERVICE, (config, metrics) -> {
            KafkaSettings kafka = KafkaSettings.from(config);
            LlmConfig llm = LlmConfig.from(config);
            RedisSettings redisSettings = RedisSettings.from(config);
            LOG.info("starting llm-processor: {}, {}, {}", llm, kafka, redisSettings);
            Topics topics = Topics.withPrefix(kafka.topicPrefix());
            // Paces the scripted model and runs reply timeouts. Cancelled timeouts are removed at once, or every
            // answered thought would leave one behind for the whole reply timeout.
            ScheduledThreadPoolExecutor scheduler =
                    new ScheduledThreadPoolExecutor(2, NamedThreads.factory("llm-scheduler", true));
            scheduler.setRemoveOnCancelPolicy(true);
            RedisClient redis = RedisClaimStore.connect(redisSettings);
            RedisClaimStore claims = new RedisClaimStore(redis, redisSettings.keyPrefix());
            RedisChatActivity activity = new RedisChatActivity(redis, redisSettings.keyPrefix(), ACTIVITY_TTL);
            LlmProcessor processor;
            try {
                if (!activity.startSubscriber(SUBSCRIBE_WAIT)) {
                    // Not fatal: staleness is read from the register until the subscription is up.
                    LOG.warn("not yet subscribed to the staleness signal after {}; generations are cancelled only "
                            + "once it is up (stale thoughts are still skipped)", SUBSCRIBE_WAIT);
                }
                TopicAdmin.ensureTopics(kafka, topics, Duration.ofSeconds(30));
                StreamingChatModel model = ModelFactory.streaming(llm, scheduler);
                Clock clock = Clock.systemUTC();
                processor = new LlmProcessor(kafka, topics, llm, ReplyGenerator.from(llm, model, scheduler, clock),
                        activity, claims, metrics, clock);
                processor.start();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                release(activity, claims, scheduler);
                throw new IllegalStateException("interrupted while starting", e);
            } catch (RuntimeException e) {
                release(activity, claims, scheduler);
                throw e;
            }
            return ServiceLauncher.running(processor::awaitTermination, processor::failure, () -> {
                processor.close();
                release(activity, claims, scheduler);
            }, processor::isRunning);
        });
    }

    private static void release(RedisChatActivity activity, RedisClaimStore claims,
            ScheduledThreadPoolExecutor scheduler) {
        activity.close();
        claims.close(); // closes the Redis client both use
        scheduler.shutdownNow();
    }
}
