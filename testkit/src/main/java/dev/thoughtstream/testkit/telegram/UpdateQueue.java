package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
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
    /** Never reset, not even by {@link #reset()}: a running poller's offset must stay meaningful. */
    private long nextUpdateId;
    private long confirmedOffset;
    private long pollGeneration;
    private int activePolls;
    private boolean closed;

    private String webhookUrl;
    private String webhookSecret;
    /** Bumped on every webhook change so a delivery in flight for an old webhook does not count. */
    private long webhookVersion;
    private Long lastErrorDate;
    private String lastErrorMessage;
    private long delivered;
    private long failedAttempts;

    record Pending(long updateId, ObjectNode update) {}

    UpdateQueue(long firstUpdateId) {
        this.nextUpdateId = firstUpdateId;
        this.confirmedOffset = firstUpdateId;
    }

    /** What the webhook deliverer should send next. */
    record Delivery(String url, String secret, long version, long updateId, ObjectNode update) {}

    /** Adds an update built for the next update id; wakes pollers and the webhook deliverer. */
    long enqueue(LongFunction<ObjectNode> build) {
        lock.lock();
        try {
            long id = nextUpdateId++;
            pending.addLast(new Pending(id, build.apply(id)));
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

    /** Telegram: positive offset confirms every id below it; negative keeps only the last |offset| updates. */
    private void confirm(long offset) {
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

    /** setWebhook; an empty url removes the webhook (as in Telegram). Pending long polls end with 409. */
    void setWebhook(String url, String secret, boolean dropPending) {
        lock.lock();
        try {
            if (dropPending) {
                dropAll();
            }
            webhookUrl = url == null || url.isEmpty() ? null : url;
            webhookSecret = webhookUrl == null || secret == null || secret.isEmpty() ? null : secret;
            webhookVersion++;
            lastErrorDate = null;
            lastErrorMessage = null;
            delivered = 0;
            failedAttempts = 0;
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
            return new WebhookInfo(webhookUrl == null ? "" : webhookUrl, webhookSecret != null, pending.size(),
                    lastErrorDate, lastErrorMessage, delivered, failedAttempts);
        } finally {
            lock.unlock();
        }
    }

    /** Blocks until there is a webhook and something to deliver; null once closed. */
    Delivery awaitDelivery() throws InterruptedException {
        lock.lock();
        try {
            while (!closed && (webhookUrl == null || pending.isEmpty())) {
                changed.await();
            }
            if (closed) {
                return null;
            }
            Pending head = pending.peekFirst();
            return new Delivery(webhookUrl, webhookSecret, webhookVersion, head.updateId(), head.update());
        } finally {
            lock.unlock();
        }
    }

    /** A 2xx from the webhook confirms the update, unless the webhook changed meanwhile. */
    void delivered(Delivery delivery) {
        lock.lock();
        try {
            if (delivery.version() != webhookVersion) {
                return;
            }
            Pending head = pending.peekFirst();
            if (head != null && head.updateId() == delivery.updateId()) {
                pending.removeFirst();
                confirmedOffset = Math.max(confirmedOffset, delivery.updateId() + 1);
            }
            delivered++;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void deliveryFailed(Delivery delivery, String message, long epochSeconds) {
        lock.lock();
        try {
            if (delivery.version() != webhookVersion) {
                return;
            }
            lastErrorDate = epochSeconds;
            lastErrorMessage = message;
            failedAttempts++;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits out a retry delay, returning early when the webhook changes (a fresh webhook deserves a prompt
     * first attempt). Returns false once closed.
     */
    boolean awaitRetry(long delayMillis, long version) throws InterruptedException {
        lock.lock();
        try {
            long remaining = TimeUnit.MILLISECONDS.toNanos(delayMillis);
            while (!closed && remaining > 0 && version == webhookVersion) {
                remaining = changed.awaitNanos(remaining);
            }
            return !closed;
        } finally {
            lock.unlock();
        }
    }

    /** Forgets every pending update and the webhook; update ids keep increasing (see {@link #nextUpdateId}). */
    void reset() {
        lock.lock();
        try {
            dropAll();
            webhookUrl = null;
            webhookSecret = null;
            webhookVersion++;
            lastErrorDate = null;
            lastErrorMessage = null;
            delivered = 0;
            failedAttempts = 0;
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
