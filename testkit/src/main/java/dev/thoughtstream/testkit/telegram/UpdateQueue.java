package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bot's pending updates with Telegram's confirmation semantics: an update stays pending (and is handed out
 * again to every poller) until a getUpdates call with a higher offset confirms it, a webhook delivery of it
 * succeeds, or it is a day old (then Telegram drops it). Also arbitrates long polls: only one getUpdates may be
 * pending; a newer one terminates the older with 409, and none may run while a webhook is set.
 *
 * <p>Webhook deliveries are handed out as the Bot API server hands them out (tdlib/telegram-bot-api,
 * telegram-bot-api/WebhookActor.cpp): up to {@code max_connections} at once (40 unless setWebhook says otherwise),
 * one at a time per queue, where a chat's messages and edits share the chat's queue ({@code Client::add_message_update}
 * is given the chat id as the queue id). A queue's next update is not sent while an earlier one of it is in flight
 * or waiting to be retried; other queues go on. Among the queues ready to send, the server takes the one that became
 * ready first and, among those ready at the same moment, the lowest queue id ({@code WebhookActor::Queue}'s order):
 * a backlog is sent in chat id order, not in the order people wrote. It looks at no more than
 * {@code 2 * max_connections} queues at a time ({@code max_loaded_updates_}). Failed updates are retried after
 * {@link WebhookRetryPolicy}'s delays. All times come from the emulator's {@link Clock}.
 *
 * <p>As the server does, the queue keeps each queue's pending updates apart ({@code WebhookActor::QueueUpdates}'s
 * {@code event_ids}) and knows the queues by their head, so handing a delivery out looks at no more than those
 * {@code 2 * max_connections} queues, and forgetting a delivered, confirmed or expired update costs a few sorted-map
 * operations (O(log n)), however many updates are pending behind it. Every path that adds or removes a pending
 * update goes through {@link #add} or {@link #unlink} (or {@link #dropAll}, which empties all three), which keep
 * {@link #pending}, {@link #byQueue} and {@link #heads} in step.
 */
final class UpdateQueue {
    private static final Logger LOG = LoggerFactory.getLogger(UpdateQueue.class);

    static final String TERMINATED_BY_OTHER_POLL =
            "terminated by other getUpdates request; make sure that only one bot instance is running";
    static final String WEBHOOK_ACTIVE =
            "can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first";

    /** The Bot API's default number of simultaneous webhook connections (setWebhook's {@code max_connections}). */
    static final int DEFAULT_MAX_CONNECTIONS = 40;

    /**
     * The longest the deliverer sleeps while a retry is due later: a clock a test moves by hand is noticed this
     * soon, however far it is moved.
     */
    static final long CLOCK_CHECK_MILLIS = 20;

    /** Non-chat updates get queue ids of their own above every chat id, as {@code unique_queue_id_} does. */
    private static final long UNIQUE_QUEUE_BASE = 1L << 60;

    private final Clock clock;
    private final WebhookRetryPolicy retryPolicy;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();

    /**
     * Every pending update by its id. Ids are assigned here, increasing (a restart of ids waits for an empty queue),
     * so this is also the order the updates were made in: getUpdates answers in it, and the earliest expire first.
     */
    private final TreeMap<Long, Pending> pending = new TreeMap<>();
    /**
     * Each queue's pending updates, in update-id order ({@code WebhookActor::QueueUpdates::event_ids}); its first is
     * the queue's head, the one update of it that may be in flight. A queue is here only while it has updates pending.
     */
    private final Map<Long, ArrayDeque<Pending>> byQueue = new HashMap<>();
    /**
     * Each queue's head by its update id: iterating it meets the queues in the order they first appear among the
     * pending updates, the order in which the server loads queues up to {@code max_loaded_updates_}.
     */
    private final TreeMap<Long, Pending> heads = new TreeMap<>();
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
    /** When the webhook was set (epoch ms): updates waiting from before become ready then. */
    private long webhookSetAtMillis;
    /** Deliveries handed out and not yet finished. */
    private int inFlight;
    /** The update in flight of each queue that has one: the queue's next update waits for it. */
    private final Map<Long, Long> inFlightByQueue = new HashMap<>();
    /** Queues whose head failed: when it may be tried again, and its failures so far. */
    private final Map<Long, Retry> retries = new HashMap<>();
    /** When {@link #handOut} found nothing due, the earliest time something will be (MAX_VALUE: nothing waits). */
    private long wakeAtMillis;

    /** Bumped on every webhook change so a delivery in flight for an old webhook does not count. */
    private long webhookVersion;

    private Long lastErrorDate;
    private String lastErrorMessage;
    private long delivered;
    private long failedAttempts;
    private long expired;

    /**
     * @param enqueuedAtMillis when the update was made (epoch ms); it becomes ready to send then
     * @param expiresAtMillis  when Telegram drops it undelivered (a day later)
     */
    record Pending(long updateId, ObjectNode update, long queue, long enqueuedAtMillis, long expiresAtMillis) {}

    UpdateQueue(long firstUpdateId, Clock clock, WebhookRetryPolicy retryPolicy) {
        this.nextUpdateId = firstUpdateId;
        this.confirmedOffset = firstUpdateId;
        this.clock = clock;
        this.retryPolicy = retryPolicy;
    }

    /** What a webhook connection should send next. */
    record Delivery(String url, String secret, long version, long updateId, ObjectNode update, long queue) {}

    /** Adds an update built for the next update id; wakes pollers and the webhook deliverer. */
    long enqueue(LongFunction<ObjectNode> build) {
        lock.lock();
        try {
            long id = nextUpdateId++;
            ObjectNode update = build.apply(id);
            long now = clock.millis();
            add(new Pending(id, update, queueOf(id, update), now, now + WebhookRetryPolicy.UPDATE_LIFETIME.toMillis()));
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
                    dropExpired();
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
            while (!pending.isEmpty() && pending.firstKey() < offset) {
                unlink(pending.pollFirstEntry().getValue());
            }
            confirmedOffset = Math.max(confirmedOffset, Math.min(offset, nextUpdateId));
        } else if (offset < 0) {
            long keep = -offset;
            while (pending.size() > keep) {
                Pending dropped = pending.pollFirstEntry().getValue();
                unlink(dropped);
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
        for (Pending p : pending.values()) {
            if (batch.size() >= limit) {
                break;
            }
            batch.add(p.update());
        }
        return batch;
    }

    /**
     * Drops the updates a day old that are not in flight (Telegram's update queue forgets expired updates; one in
     * flight is judged when its answer comes). Updates are made in clock order, so the expired ones lead.
     */
    private void dropExpired() {
        long now = clock.millis();
        boolean dropped = false;
        for (Iterator<Pending> it = pending.values().iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (p.expiresAtMillis() > now) {
                break;
            }
            if (Long.valueOf(p.updateId()).equals(inFlightByQueue.get(p.queue()))) {
                continue;
            }
            it.remove();
            unlink(p);
            if (!inFlightByQueue.containsKey(p.queue())) {
                // It was its queue's head (the oldest expires first): the queue's next update starts afresh.
                retries.remove(p.queue());
            }
            expired++;
            dropped = true;
            LOG.warn("Dropping update {}: undelivered for a day", p.updateId());
        }
        if (dropped) {
            confirmUpToLowestPending();
        }
    }

    /** Every id below the earliest update still pending is confirmed. */
    private void confirmUpToLowestPending() {
        long lowestPending = pending.isEmpty() ? nextUpdateId : pending.firstKey();
        confirmedOffset = Math.max(confirmedOffset, lowestPending);
    }

    int pendingCount() {
        lock.lock();
        try {
            dropExpired();
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
    private static long queueOf(long updateId, ObjectNode update) {
        for (String kind : new String[] {"message", "edited_message"}) {
            JsonNode chat = update.path(kind).path("chat").path("id");
            if (chat.canConvertToLong()) {
                return chat.asLong();
            }
        }
        return UNIQUE_QUEUE_BASE + updateId;
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
            webhookSetAtMillis = clock.millis();
            forgetWebhookState();
        } finally {
            lock.unlock();
        }
    }

    void deleteWebhook(boolean dropPending) {
        setWebhook(null, null, dropPending);
    }

    /** What a new webhook starts from: Telegram clears the last error and the retry state with each setWebhook. */
    private void forgetWebhookState() {
        webhookVersion++;
        lastErrorDate = null;
        lastErrorMessage = null;
        delivered = 0;
        failedAttempts = 0;
        expired = 0;
        retries.clear();
        changed.signalAll();
    }

    WebhookInfo webhookInfo() {
        lock.lock();
        try {
            dropExpired();
            return new WebhookInfo(
                    webhookUrl == null ? "" : webhookUrl,
                    webhookSecret != null,
                    pending.size(),
                    lastErrorDate,
                    lastErrorMessage,
                    delivered,
                    failedAttempts,
                    webhookUrl == null ? 0 : webhookMaxConnections,
                    expired);
        } finally {
            lock.unlock();
        }
    }

    /**
     * Blocks until there is a webhook, a free connection and a queue whose head is ready (not in flight, not waiting
     * to be retried); hands out that head and marks its queue busy. Null once closed.
     */
    Delivery awaitDelivery() throws InterruptedException {
        lock.lock();
        try {
            while (!closed) {
                Delivery next = handOut();
                if (next != null) {
                    return next;
                }
                if (wakeAtMillis == Long.MAX_VALUE) {
                    changed.await();
                } else {
                    long wait = Math.min(CLOCK_CHECK_MILLIS, wakeAtMillis - clock.millis());
                    changed.await(Math.max(1, wait), TimeUnit.MILLISECONDS);
                }
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /** {@link #awaitDelivery} without waiting: the delivery due now, or null when none is. */
    Delivery pollDelivery() {
        lock.lock();
        try {
            return closed ? null : handOut();
        } finally {
            lock.unlock();
        }
    }

    private Delivery handOut() {
        wakeAtMillis = Long.MAX_VALUE;
        if (webhookUrl == null || inFlight >= webhookMaxConnections) {
            return null;
        }
        dropExpired();
        long now = clock.millis();
        Pending next = null;
        long nextReadyAt = Long.MAX_VALUE;
        int loaded = 0;
        // Only heads: a queue's updates go one at a time, in order. The queues in the order of their heads' ids are
        // the distinct queues in the order they first appear among the pending updates.
        for (Pending p : heads.values()) {
            if (++loaded > 2 * webhookMaxConnections) {
                break;
            }
            if (inFlightByQueue.containsKey(p.queue())) {
                continue;
            }
            Retry retry = retries.get(p.queue());
            long readyAt = retry != null ? retry.wakeAtMillis() : Math.max(p.enqueuedAtMillis(), webhookSetAtMillis);
            if (readyAt > now) {
                wakeAtMillis = Math.min(wakeAtMillis, readyAt);
            } else if (readyAt < nextReadyAt || (readyAt == nextReadyAt && p.queue() < next.queue())) {
                next = p;
                nextReadyAt = readyAt;
            }
        }
        if (next == null) {
            return null;
        }
        inFlightByQueue.put(next.queue(), next.updateId());
        inFlight++;
        return new Delivery(webhookUrl, webhookSecret, webhookVersion, next.updateId(), next.update(), next.queue());
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
            if (remove(delivery.updateId()) != null) {
                confirmUpToLowestPending();
                delivered++;
            }
        } finally {
            lock.unlock();
        }
    }

    /**
     * A failed attempt: Telegram's last error becomes this one, and the queue waits as {@link WebhookRetryPolicy}
     * says (other queues go on) before the update is tried again, unless by then the update would be older than a
     * day: then it is dropped.
     *
     * @param retryAfterSeconds the answer's {@code Retry-After}, 0 without one
     * @return how long the queue now waits (ms), or -1 when the update was dropped or is no longer pending
     */
    long deliveryFailed(Delivery delivery, String message, long retryAfterSeconds) {
        lock.lock();
        try {
            release(delivery);
            if (delivery.version() != webhookVersion) {
                return -1;
            }
            long now = clock.millis();
            lastErrorDate = Math.floorDiv(now, 1000);
            lastErrorMessage = message;
            failedAttempts++;
            Pending failed = find(delivery.updateId());
            if (failed == null) {
                return -1;
            }
            Retry previous = retries.get(delivery.queue());
            WebhookRetryPolicy.Step step =
                    retryPolicy.next(previous == null ? retryPolicy.none() : previous.failures(), retryAfterSeconds);
            if (now + step.waitMillis() > failed.expiresAtMillis()) {
                // WebhookActor::on_update_error: "Drop update" when the next try would come after it expires.
                remove(failed.updateId());
                retries.remove(delivery.queue());
                confirmUpToLowestPending();
                expired++;
                LOG.warn("Dropping update {}: it would expire before its next delivery attempt", failed.updateId());
                return -1;
            }
            retries.put(delivery.queue(), new Retry(now + step.waitMillis(), step.failures()));
            return step.waitMillis();
        } finally {
            lock.unlock();
        }
    }

    private Pending find(long updateId) {
        return pending.get(updateId);
    }

    private Pending remove(long updateId) {
        Pending p = pending.remove(updateId);
        if (p != null) {
            unlink(p);
        }
        return p;
    }

    /** Makes {@code p} pending: last of all updates and last of its queue, whose head it is when the queue was idle. */
    private void add(Pending p) {
        pending.put(p.updateId(), p);
        ArrayDeque<Pending> updates = byQueue.computeIfAbsent(p.queue(), q -> new ArrayDeque<>());
        if (updates.isEmpty()) {
            heads.put(p.updateId(), p);
        }
        updates.addLast(p);
    }

    /**
     * Takes {@code p}, which the caller has just taken out of {@link #pending}, out of its queue; when it was the
     * head, the queue's next update (if any) becomes the head.
     */
    private void unlink(Pending p) {
        ArrayDeque<Pending> updates = byQueue.get(p.queue());
        if (updates.peekFirst() == p) {
            updates.removeFirst();
            heads.remove(p.updateId());
            Pending head = updates.peekFirst();
            if (head == null) {
                byQueue.remove(p.queue());
            } else {
                heads.put(head.updateId(), head);
            }
            return;
        }
        // Behind the head: only dropExpired takes such an update, one of those right behind a head in flight, so the
        // walk stops near the front (and ArrayDeque closes the gap from its nearer end).
        for (Iterator<Pending> it = updates.iterator(); it.hasNext(); ) {
            if (it.next() == p) {
                it.remove();
                return;
            }
        }
    }

    private void release(Delivery delivery) {
        inFlight--;
        inFlightByQueue.remove(delivery.queue());
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
            forgetWebhookState();
        } finally {
            lock.unlock();
        }
    }

    private void dropAll() {
        if (!pending.isEmpty()) {
            LOG.debug("Dropping {} pending updates", pending.size());
        }
        pending.clear();
        byQueue.clear();
        heads.clear();
        confirmedOffset = nextUpdateId;
    }

    /** A queue whose head failed: it waits until {@code wakeAtMillis} (epoch ms) with {@code failures} so far. */
    private record Retry(long wakeAtMillis, WebhookRetryPolicy.Failures failures) {}

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
