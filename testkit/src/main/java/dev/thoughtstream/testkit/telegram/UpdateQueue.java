package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.common.retry.Backoff;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bot's pending updates with Telegram's confirmation semantics: an update stays pending (and is handed out
 * again to every poller) until a getUpdates call with a higher offset confirms it, or a webhook delivery of it
 * succeeds. Also arbitrates long polls: only one getUpdates may be pending; a newer one terminates the older
 * with 409, and none may run while a webhook is set.
 *
 * <p>Webhook deliveries are handed out as the Bot API server hands them out (tdlib/telegram-bot-api,
 * {@code WebhookActor}): up to {@code max_connections} at once (40 unless setWebhook says otherwise), one at a time
 * per queue, where a chat's messages and edits share the chat's queue ({@code Client::add_message_update} is given
 * the chat id as the queue id); a failed update is retried after a growing delay while other queues go on.
 */
final class UpdateQueue {
    private static final Logger LOG = LoggerFactory.getLogger(UpdateQueue.class);

    static final String TERMINATED_BY_OTHER_POLL =
            "terminated by other getUpdates request; make sure that only one bot instance is running";
    static final String WEBHOOK_ACTIVE =
            "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    /** Ordered by update id (ids are assigned here, increasing). */
    private final Deque<Pending> pending = new ArrayDeque<>();
    /**
     * Never reset by {@link #reset()}, so a running poller's offset stays meaningful; only {@link #restartIds} moves it
     * (down, usually), as Telegram does after a long idle.
     */
    private long nextUpdateId;

    private long confirmedOffset;
    private long pollGeneration;
    private int activePolls;
    private boolean closed;

    private String webhookUrl;
    private String webhookSecret;
    private int webhookMaxConnections = DEFAULT_MAX_CONNECTIONS;
    /** Deliveries handed out and not yet finished. */
    private int inFlight;
    /** Queues with a delivery in flight: their next update waits for it. */
    private final Set<String> busyQueues = new HashSet<>();
    /** Queues whose head failed: when it may be tried again, and how it got there. */
    private final Map<String, Retry> retries = new HashMap<>();
    /** Bumped on every webhook change so a delivery in flight for an old webhook does not count. */
    private long webhookVersion;

    private Long lastErrorDate;
    private String lastErrorMessage;
    private long delivered;
    private long failedAttempts;

    /** The Bot API's default number of simultaneous webhook connections (setWebhook's {@code max_connections}). */
    static final int DEFAULT_MAX_CONNECTIONS = 40;

    record Pending(long updateId, ObjectNode update, String queue) {}

    UpdateQueue(long firstUpdateId) {
        this.nextUpdateId = firstUpdateId;
        this.confirmedOffset = firstUpdateId;
    }

    /** What a webhook connection should send next. */
    record Delivery(String url, String secret, long version, long updateId, ObjectNode update, String queue) {}

    /** Adds an update built for the next update id; wakes pollers and the webhook deliverer. */
    long enqueue(LongFunction<ObjectNode> build) {
        lock.lock();
        try {
            long id = nextUpdateId++;
            ObjectNode update = build.apply(id);
            pending.addLast(new Pending(id, update, queueOf(id, update)));
            changed.signalAll();
            return id;
        } finally {
            lock.unlock();
        }
    }

    /**
     * getUpdates: confirms by {@code offset}, then returns up to {@code limit} pending updates, waiting up to
     * {@code timeoutMillis} for the first one.
     *
     * @throws BotApiError 409 when a webhook is active or a newer getUpdates terminated this one
     */
    List<ObjectNode> poll(long offset, int limit, long timeoutMillis) {
        lock.lock();
        try {
            if (webhookUrl != null) {
                throw BotApiError.conflict(WEBHOOK_ACTIVE);
            }
            long generation = ++pollGeneration;
            changed.signalAll();
            confirm(offset);
            long remaining = TimeUnit.MILLISECONDS.toNanos(Math.max(0, timeoutMillis));
            activePolls++;
            try {
                while (true) {
                    if (generation != pollGeneration) {
                        throw BotApiError.conflict(TERMINATED_BY_OTHER_POLL);
                    }
                    if (webhookUrl != null) {
                        throw BotApiError.conflict(WEBHOOK_ACTIVE);
                    }
                    List<ObjectNode> batch = firstPending(limit);
                    if (!batch.isEmpty() || remaining <= 0 || closed) {
                        return batch;
                    }
                    remaining = changed.awaitNanos(remaining);
                }
            } catch (InterruptedException e) {
                // The server is shutting down: answer what an idle long poll answers.
                Thread.currentThread().interrupt();
                return List.of();
            } finally {
                activePolls--;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * Telegram: positive offset confirms every id below it; negative keeps only the last |offset| updates. A positive
     * offset the server's queue does not accept confirms nothing: the answer starts at the head of the queue.
     */
    private void confirm(long offset) {
        if (offset > 0 && !acceptsOffset(offset)) {
            LOG.debug(
                    "getUpdates offset {} is out of range (next update id {}); answering from the head",
                    offset,
                    nextUpdateId);
            return;
        }
        if (offset > 0) {
            while (!pending.isEmpty() && pending.peekFirst().updateId() < offset) {
                pending.removeFirst();
            }
            confirmedOffset = Math.max(confirmedOffset, Math.min(offset, nextUpdateId));
        } else if (offset < 0) {
            long keep = -offset;
            while (pending.size() > keep) {
                Pending dropped = pending.removeFirst();
                confirmedOffset = Math.max(confirmedOffset, dropped.updateId() + 1);
            }
        }
    }

    /**
     * Whether the real server would confirm by {@code offset} or ignore it. tdlib/telegram-bot-api, Client.cpp,
     * {@code Client::do_get_updates}: when {@code TQueue::get} refuses the offset it reads again from
     * {@code tqueue->get_head(...)}, forgetting nothing; tdlib/td, tddb/td/db/TQueue.cpp, {@code TQueueImpl::get}
     * refuses an id more than 10 above the queue's tail ("Specified from_id is in the future") or more than twice
     * {@code MAX_QUEUE_EVENTS} (1,000,000) below it ("in the past"). The tail is the id the next update gets. So a
     * poller whose offset belongs to the ids before a restart ({@link #restartIds}) keeps getting the new updates
     * from the head, and confirms them only with an offset above their own ids.
     */
    private boolean acceptsOffset(long offset) {
        return offset <= nextUpdateId + 10 && offset >= nextUpdateId - 2 * MAX_QUEUE_EVENTS;
    }

    /** tdlib/td TQueue's {@code MAX_QUEUE_EVENTS}. */
    static final long MAX_QUEUE_EVENTS = 1_000_000;

    /**
     * Telegram restarting its update ids: the next update gets {@code next}. The Bot API docs (getUpdates, Update):
     * "If there are no new updates for at least a week, then identifier of the next update will be chosen randomly
     * instead of sequentially"; the Bot API server's queue draws a new id once it has no tail id (tdlib/td,
     * TQueue.cpp, {@code TQueueImpl::push}). Since that follows a week without updates, nothing may be pending.
     *
     * @throws IllegalStateException while updates are pending
     * @throws IllegalArgumentException when {@code next} is not in 1..2^31-1
     */
    void restartIds(long next) {
        if (next < 1 || next > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("update ids must be in 1..2^31-1: " + next);
        }
        lock.lock();
        try {
            if (!pending.isEmpty()) {
                throw new IllegalStateException("Telegram restarts update ids only after a long idle, but "
                        + pending.size() + " update(s) are pending");
            }
            LOG.info("update ids restart at {} (the next would have been {})", next, nextUpdateId);
            nextUpdateId = next;
            confirmedOffset = next;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The id the next update gets. */
    long nextUpdateId() {
        lock.lock();
        try {
            return nextUpdateId;
        } finally {
            lock.unlock();
        }
    }

    private List<ObjectNode> firstPending(int limit) {
        List<ObjectNode> batch = new ArrayList<>(Math.min(limit, pending.size()));
        for (Pending p : pending) {
            if (batch.size() >= limit) {
                break;
            }
            batch.add(p.update());
        }
        return batch;
    }

    int pendingCount() {
        lock.lock();
        try {
            return pending.size();
        } finally {
            lock.unlock();
        }
    }

    long confirmedOffset() {
        lock.lock();
        try {
            return confirmedOffset;
        } finally {
            lock.unlock();
        }
    }

    int activePolls() {
        lock.lock();
        try {
            return activePolls;
        } finally {
            lock.unlock();
        }
    }

    /** A message's or an edit's chat; anything else is a queue of its own. */
    private static String queueOf(long updateId, ObjectNode update) {
        for (String kind : new String[] {"message", "edited_message"}) {
            JsonNode chat = update.path(kind).path("chat").path("id");
            if (chat.canConvertToLong()) {
                return "chat:" + chat.asLong();
            }
        }
        return "update:" + updateId;
    }

    /** setWebhook; an empty url removes the webhook (as in Telegram). Pending long polls end with 409. */
    void setWebhook(String url, String secret, boolean dropPending) {
        setWebhook(url, secret, dropPending, DEFAULT_MAX_CONNECTIONS);
    }

    /** setWebhook with its {@code max_connections} (1–100). */
    void setWebhook(String url, String secret, boolean dropPending, int maxConnections) {
        lock.lock();
        try {
            if (dropPending) {
                dropAll();
            }
            webhookUrl = url == null || url.isEmpty() ? null : url;
            webhookSecret = webhookUrl == null || secret == null || secret.isEmpty() ? null : secret;
            webhookMaxConnections = maxConnections;
            webhookVersion++;
            lastErrorDate = null;
            lastErrorMessage = null;
            delivered = 0;
            failedAttempts = 0;
            retries.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void deleteWebhook(boolean dropPending) {
        setWebhook(null, null, dropPending);
    }

    WebhookInfo webhookInfo() {
        lock.lock();
        try {
            return new WebhookInfo(
                    webhookUrl == null ? "" : webhookUrl,
                    webhookSecret != null,
                    pending.size(),
                    lastErrorDate,
                    lastErrorMessage,
                    delivered,
                    failedAttempts,
                    webhookUrl == null ? 0 : webhookMaxConnections);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Blocks until there is a webhook, a free connection and an update whose queue is neither busy nor waiting to
     * retry; hands out the earliest such update and marks its queue busy. Null once closed.
     */
    Delivery awaitDelivery() throws InterruptedException {
        lock.lock();
        try {
            while (!closed) {
                long wakeAt = Long.MAX_VALUE;
                if (webhookUrl != null && inFlight < webhookMaxConnections) {
                    long now = System.nanoTime();
                    Set<String> passed = new HashSet<>();
                    for (Pending p : pending) {
                        if (busyQueues.contains(p.queue()) || !passed.add(p.queue())) {
                            // Busy, or not the head of its queue: a queue's updates go one at a time, in order.
                            continue;
                        }
                        Retry retry = retries.get(p.queue());
                        if (retry != null && retry.dueAtNanos() - now > 0) {
                            wakeAt = Math.min(wakeAt, retry.dueAtNanos());
                            continue;
                        }
                        busyQueues.add(p.queue());
                        inFlight++;
                        return new Delivery(
                                webhookUrl, webhookSecret, webhookVersion, p.updateId(), p.update(), p.queue());
                    }
                }
                if (wakeAt == Long.MAX_VALUE) {
                    changed.await();
                } else {
                    changed.awaitNanos(Math.max(1, wakeAt - System.nanoTime()));
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /** A 2xx from the webhook confirms the update, unless the webhook changed meanwhile. */
    void delivered(Delivery delivery) {
        lock.lock();
        try {
            release(delivery);
            if (delivery.version() != webhookVersion) {
                return;
            }
            retries.remove(delivery.queue());
            for (Iterator<Pending> it = pending.iterator(); it.hasNext(); ) {
                if (it.next().updateId() == delivery.updateId()) {
                    it.remove();
                    break;
                }
            }
            // Every id below the earliest update still pending is confirmed.
            long lowestPending =
                    pending.isEmpty() ? nextUpdateId : pending.peekFirst().updateId();
            confirmedOffset = Math.max(confirmedOffset, lowestPending);
            delivered++;
        } finally {
            lock.unlock();
        }
    }

    /**
     * A failed attempt: its queue waits {@code retryDelayMillis}, growing by {@code backoff} with every failure in a
     * row (other queues go on), then the update is tried again.
     */
    void deliveryFailed(Delivery delivery, String message, long epochSeconds, Backoff backoff) {
        lock.lock();
        try {
            release(delivery);
            if (delivery.version() != webhookVersion) {
                return;
            }
            lastErrorDate = epochSeconds;
            lastErrorMessage = message;
            failedAttempts++;
            Retry previous = retries.get(delivery.queue());
            int failures = previous == null ? 1 : previous.failures() + 1;
            long delay = backoff.delayMillis(failures);
            retries.put(
                    delivery.queue(),
                    new Retry(System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(delay), failures, delay));
        } finally {
            lock.unlock();
        }
    }

    /** How long the queue of a failed delivery now waits before its next attempt (ms); 0 when it does not. */
    long retryDelayMillis(Delivery delivery) {
        lock.lock();
        try {
            Retry retry = retries.get(delivery.queue());
            return retry == null ? 0 : retry.delayMillis();
        } finally {
            lock.unlock();
        }
    }

    private void release(Delivery delivery) {
        inFlight--;
        busyQueues.remove(delivery.queue());
        changed.signalAll();
    }

    /** Forgets every pending update and the webhook; update ids keep increasing (see {@link #nextUpdateId}). */
    void reset() {
        lock.lock();
        try {
            dropAll();
            webhookUrl = null;
            webhookSecret = null;
            webhookMaxConnections = DEFAULT_MAX_CONNECTIONS;
            webhookVersion++;
            lastErrorDate = null;
            lastErrorMessage = null;
            delivered = 0;
            failedAttempts = 0;
            retries.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void dropAll() {
        if (!pending.isEmpty()) {
            LOG.debug("Dropping {} pending updates", pending.size());
        }
        pending.clear();
        confirmedOffset = nextUpdateId;
    }

    /** A queue waiting after {@code failures} failed attempts in a row: until {@code dueAtNanos} (nanoTime). */
    private record Retry(long dueAtNanos, int failures, long delayMillis) {}

    /** Ends waiting long polls (with an empty result) and stops the webhook deliverer. */
    void close() {
        lock.lock();
        try {
            closed = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }
}
