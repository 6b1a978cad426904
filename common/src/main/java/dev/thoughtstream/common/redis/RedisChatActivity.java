package dev.thoughtstream.common.redis;

import dev.thoughtstream.common.retry.Backoff;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.JedisPubSub;
import redis.clients.jedis.RedisClient;

/**
 * The staleness signal on Redis.
 *
 * <ul>
 *   <li>Register: {@code <prefix>chat:<chatId>:newest} holds the newest ingested user message id (with a TTL: the
 *       signal matters for minutes, not days). It is raised atomically by a Lua script that compares, sets and
 *       publishes in one step, so two ingest instances can never lower it or announce an older message.</li>
 *   <li>Promptness: the script publishes {@code "<chatId> <messageId>"} on {@code <prefix>chat-activity}.
 *       Subscribers keep a bounded local cache of what they heard, so a staleness check is a map lookup, and
 *       call their listeners so work in flight can be cancelled at once.</li>
 *   <li>Misses and outages: a chat not in the cache is read from the register. While the subscription is down
 *       (Redis restart, network) the cache could go stale, so it is cleared and bypassed until the subscriber is
 *       back. Callers decide what a Redis error means for them (the services fail open: not stale).</li>
 * </ul>
 */
public final class RedisChatActivity implements ChatActivity {
    private static final Logger LOG = LoggerFactory.getLogger(RedisChatActivity.class);
    private static final int CACHE_LIMIT = 100_000;
    /**
     * How long a chat's newest message id is kept: staleness matters for minutes, and a day covers any redelivery
     * (ingest, which writes the signal, decides; the readers only read it).
     */
    public static final Duration SIGNAL_TTL = Duration.ofDays(1);
    /** How long a service waits at start for its subscription before going on without it (it is not fatal). */
    public static final Duration SUBSCRIBE_WAIT = Duration.ofSeconds(5);
    /** Between attempts to subscribe again after the subscription was lost or ended. */
    private static final Backoff RESUBSCRIBE_BACKOFF =
            Backoff.exponential(Duration.ofMillis(100), Duration.ofSeconds(5));

    /**
     * KEYS[i] the register of the i-th chat; ARGV[1] ttl ms, ARGV[2] channel, then per chat its message id
     * (ARGV[2i+1]) and chat id (ARGV[2i+2]). Returns the chat ids whose register it raised. One script for a whole
     * batch of chats, so ingest pays one round trip per batch rather than one per message.
     */
    private static final String RECORD = """
            local raised = {}
            for i, key in ipairs(KEYS) do
              local id = ARGV[2 * i + 1]
              local chat = ARGV[2 * i + 2]
              local current = redis.call('GET', key)
              if not current or tonumber(current) < tonumber(id) then
                redis.call('SET', key, id, 'PX', ARGV[1])
                redis.call('PUBLISH', ARGV[2], chat .. ' ' .. id)
                raised[#raised + 1] = chat
              end
            end
            return raised
            """;

    private final RedisClient redis;
    private final String keyPrefix;
    private final String channel;
    private final long ttlMs;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final Map<Long, Long> cache = new LinkedHashMap<>(1024, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, Long> eldest) {
            return size() > CACHE_LIMIT;
        }
    };
    private final CountDownLatch closed = new CountDownLatch(1);
    private final CountDownLatch firstSubscription = new CountDownLatch(1);
    private volatile boolean subscribed;
    private volatile JedisPubSub pubSub;
    private Thread subscriber;

    public RedisChatActivity(RedisClient redis, String keyPrefix, Duration ttl) {
        this.redis = redis;
        this.keyPrefix = keyPrefix;
        this.channel = keyPrefix + "chat-activity";
        this.ttlMs = ttl.toMillis();
    }

    /** Starts the subscriber and waits (up to {@code timeout}) for its first subscription; false if not yet. */
    public synchronized boolean startSubscriber(Duration timeout) throws InterruptedException {
        if (subscriber == null) {
            subscriber = new Thread(this::subscribeLoop, "chat-activity-subscriber");
            subscriber.setDaemon(true);
            subscriber.start();
        }
        return firstSubscription.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    private String key(long chatId) {
        return keyPrefix + "chat:" + chatId + ":newest";
    }

    @Override
    public boolean recordIngested(long chatId, long messageId) {
        return !recordIngested(Map.of(chatId, messageId)).isEmpty();
    }

    @Override
    public Set<Long> recordIngested(Map<Long, Long> newestByChat) {
        if (newestByChat.isEmpty()) {
            return Set.of();
        }
        List<String> keys = new ArrayList<>(newestByChat.size());
        List<String> args = new ArrayList<>(2 + 2 * newestByChat.size());
        args.add(Long.toString(ttlMs));
        args.add(channel);
        newestByChat.forEach((chat, message) -> {
            keys.add(key(chat));
            args.add(Long.toString(message));
            args.add(Long.toString(chat));
        });
        Object r = redis.eval(RECORD, keys, args);
        if (!(r instanceof List<?> chats)) {
            throw new IllegalStateException("unexpected answer from the staleness script: " + r);
        }
        Set<Long> raised = new LinkedHashSet<>();
        for (Object chat : chats) {
            raised.add(
                    Long.parseLong(chat instanceof byte[] b ? new String(b, StandardCharsets.UTF_8) : chat.toString()));
        }
        return raised;
    }

    @Override
    public OptionalLong newest(long chatId) {
        if (subscribed) {
            synchronized (cache) {
                Long cached = cache.get(chatId);
                if (cached != null) {
                    return OptionalLong.of(cached);
                }
            }
        }
        String raw = redis.get(key(chatId));
        if (raw == null) {
            return OptionalLong.empty();
        }
        long id = Long.parseLong(raw);
        if (subscribed) {
            remember(chatId, id);
        }
        return OptionalLong.of(id);
    }

    private void remember(long chatId, long messageId) {
        synchronized (cache) {
            cache.merge(chatId, messageId, Math::max);
        }
    }

    @Override
    public void subscribe(Listener listener) {
        listeners.add(listener);
    }

    private void subscribeLoop() {
        Backoff.Sequence retries = RESUBSCRIBE_BACKOFF.sequence();
        while (closed.getCount() > 0) {
            JedisPubSub sub = new JedisPubSub() {
                @Override
                public void onSubscribe(String ch, int count) {
                    subscribed = true;
                    firstSubscription.countDown();
                    LOG.info("subscribed to {}", ch);
                }

                @Override
                public void onMessage(String ch, String message) {
                    handle(message);
                }
            };
            pubSub = sub;
            long backoffMs;
            try {
                redis.subscribe(sub, channel);
                retries.reset();
                backoffMs = retries.nextMillis();
            } catch (RuntimeException e) {
                if (closed.getCount() == 0) {
                    return;
                }
                backoffMs = retries.nextMillis();
                LOG.warn(
                        "staleness subscription to {} lost ({}); reading the register directly, retrying in {} ms",
                        channel,
                        e.toString(),
                        backoffMs);
            } finally {
                // Messages may be missed while unsubscribed: forget the cache rather than trust it.
                subscribed = false;
                synchronized (cache) {
                    cache.clear();
                }
            }
            try {
                if (closed.await(backoffMs, TimeUnit.MILLISECONDS)) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private void handle(String message) {
        int space = message.indexOf(' ');
        long chatId;
        long messageId;
        try {
            chatId = Long.parseLong(message.substring(0, space));
            messageId = Long.parseLong(message.substring(space + 1));
        } catch (RuntimeException e) {
            LOG.warn("ignoring a malformed staleness message on {}: '{}'", channel, message);
            return;
        }
        remember(chatId, messageId);
        for (Listener l : listeners) {
            try {
                l.newerMessage(chatId, messageId);
            } catch (RuntimeException e) {
                LOG.warn("a staleness listener failed for chat {} message {}", chatId, messageId, e);
            }
        }
    }

    /** True while the pub/sub subscription is live (cache in use). */
    public boolean isSubscribed() {
        return subscribed;
    }

    /** Stops the subscriber; the Redis client belongs to the caller. */
    @Override
    public synchronized void close() {
        closed.countDown();
        JedisPubSub sub = pubSub;
        if (sub != null && sub.isSubscribed()) {
            try {
                sub.unsubscribe();
            } catch (RuntimeException e) {
                LOG.debug("unsubscribing on close: {}", e.toString());
            }
        }
        if (subscriber != null) {
            try {
                subscriber.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
