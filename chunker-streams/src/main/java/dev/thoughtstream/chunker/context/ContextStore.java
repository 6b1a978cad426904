package dev.thoughtstream.chunker.context;

import dev.thoughtstream.chunker.ChunkerTopology;
import dev.thoughtstream.chunker.DeadlineKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.LongSupplier;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The chat-context store together with its prune index: every read and write of a chat's context goes through
 * here, so the two stores never disagree and the retention rules hold for every value written.
 *
 * <p>The index holds one {@link DeadlineKey}{@code (pruneAtMs, chatId)} per stored context, {@code pruneAtMs} being
 * when the context next has something to prune ({@link ChatContext#nextPruneAtMs}), so that {@link #pruneDue} finds
 * the chats that stopped writing without scanning every chat. Why, and how the index stays in step:
 * docs/chunker.md, "The two indexes" and "Idle chats".
 *
 * <p>The methods mirror {@link KeyValueStore}'s {@code get}, {@code put} and {@code delete}, so the processors use
 * this class as they would use the store. Reads are answered from the instance's {@link ContextCache} when it has
 * the chat; every write goes to the store, then to the cache. A processor creates its ContextStore in {@code init}
 * and {@link #close}s it in {@code close}; both forget the task's cached contexts.
 */
public final class ContextStore {
    private static final Logger LOG = LoggerFactory.getLogger(ContextStore.class);

    private final KeyValueStore<Long, ChatContext> contexts;
    private final KeyValueStore<DeadlineKey, Long> pruneIndex;
    private final ContextPolicy policy;
    private final LongSupplier wallClock;
    private final ContextCache cache;
    private final TaskId task;

    /**
     * @param wallClock the stream task's wall-clock time ({@code ProcessorContext::currentSystemTimeMs}), which
     *                  stamps writes for the idle TTL
     * @param cache     the instance's cache of deserialized contexts; this task's entries are forgotten here
     * @param task      the stream task whose stores these are
     */
    ContextStore(
            KeyValueStore<Long, ChatContext> contexts,
            KeyValueStore<DeadlineKey, Long> pruneIndex,
            ContextPolicy policy,
            LongSupplier wallClock,
            ContextCache cache,
            TaskId task) {
        this.contexts = Objects.requireNonNull(contexts, "contexts");
        this.pruneIndex = Objects.requireNonNull(pruneIndex, "pruneIndex");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.wallClock = Objects.requireNonNull(wallClock, "wallClock");
        this.cache = Objects.requireNonNull(cache, "cache");
        this.task = Objects.requireNonNull(task, "task");
        // A processor is being initialised: whatever the cache holds for the task may predate a restore.
        cache.forget(task);
    }

    /**
     * The context and prune index stores of the processor's task, which must be connected to both; called from the
     * processor's {@code init}.
     */
    public static ContextStore from(ProcessorContext<?, ?> context, ContextPolicy policy, ContextCache cache) {
        return new ContextStore(
                context.getStateStore(ChunkerTopology.CONTEXT_STORE),
                context.getStateStore(ChunkerTopology.CONTEXT_PRUNE_INDEX_STORE),
                policy,
                context::currentSystemTimeMs,
                cache,
                context.taskId());
    }

    /** The chat's context, or null when it has none. */
    public ChatContext get(long chatId) {
        ChatContext cached = cache.get(task, chatId);
        if (cached != null) {
            return cached;
        }
        ChatContext stored = contexts.get(chatId);
        if (stored != null) {
            cache.put(task, chatId, stored);
        }
        return stored;
    }

    /**
     * Called from the processor's {@code close}: Kafka Streams is suspending or closing the task, and its store may
     * next change by restoration, which the cache would not see.
     */
    public void close() {
        cache.forget(task);
    }

    /**
     * Stores the chat's context as of now: pruned (window, minimum, byte cap), stamped as the chat's latest activity,
     * and indexed for its next pruning. A null value deletes, as in {@link KeyValueStore#put}.
     */
    public void put(long chatId, ChatContext context) {
        put(chatId, get(chatId), context);
    }

    /**
     * {@link #put(long, ChatContext)} for a caller that has just read the chat's context: {@code previous} is what
     * {@link #get} returned in this same processing step (null, or an empty context, when there was none). It saves
     * reading and deserializing the whole stored value again only to find its prune-index position, the larger part
     * of a write's cost at full contexts (see docs/benchmarks.md).
     */
    public void put(long chatId, ChatContext previous, ChatContext context) {
        if (context == null) {
            delete(chatId);
            return;
        }
        long nowMs = wallClock.getAsLong();
        ChatContext touched = context.prunedAt(nowMs, policy).withBookkeeping(nowMs, 0L);
        write(chatId, previous, touched.withBookkeeping(nowMs, touched.nextPruneAtMs(policy)));
    }

    /** Forgets the chat's context and its index entry; returns what was stored, or null. */
    public ChatContext delete(long chatId) {
        ChatContext old = contexts.delete(chatId);
        cache.put(task, chatId, null);
        if (old != null && old.pruneAtMs() != 0L) {
            pruneIndex.delete(new DeadlineKey(old.pruneAtMs(), chatId));
        }
        return old;
    }

    /**
     * The punctuation's work: for at most {@code CONTEXT_PRUNE_MAX_CHATS} chats whose index entry is due at
     * {@code nowMs}, oldest entry first, deletes the context of a chat idle for the TTL and prunes the others.
     * Pruning is not activity: it keeps {@code touchedAtMs}, so an idle chat still reaches its TTL.
     */
    PruneRun pruneDue(long nowMs) {
        List<DeadlineKey> due = new ArrayList<>();
        boolean more = false;
        // Collect first, change after: the iterator must not see its own writes, and must be closed promptly.
        try (KeyValueIterator<DeadlineKey, Long> it =
                pruneIndex.range(DeadlineKey.LOWEST, DeadlineKey.lastDueAt(nowMs))) {
            while (it.hasNext()) {
                if (due.size() == policy.pruneMaxChats()) {
                    more = true;
                    break;
                }
                KeyValue<DeadlineKey, Long> entry = it.next();
                due.add(entry.key);
            }
        }
        int pruned = 0;
        int expired = 0;
        int stale = 0;
        long idleTtlMs = policy.idleTtl().toMillis();
        for (DeadlineKey key : due) {
            long chatId = key.chatId();
            ChatContext context = get(chatId);
            if (context == null || context.pruneAtMs() != key.deadlineMs()) {
                // Cannot happen while both stores change in one transaction; clean up rather than visit it again.
                LOG.warn(
                        "chat {}: prune index entry {} does not match the stored context; removing it",
                        chatId,
                        key.deadlineMs());
                pruneIndex.delete(key);
                stale++;
            } else if (nowMs - context.touchedAtMs() >= idleTtlMs) {
                contexts.delete(chatId);
                cache.put(task, chatId, null);
                pruneIndex.delete(key);
                expired++;
                LOG.debug(
                        "chat {}: context of {} messages deleted, idle since {}",
                        chatId,
                        context.messages().size(),
                        context.touchedAtMs());
            } else {
                ChatContext kept = context.prunedAt(nowMs, policy);
                write(chatId, context, kept.withBookkeeping(context.touchedAtMs(), kept.nextPruneAtMs(policy)));
                pruned++;
                LOG.debug(
                        "chat {}: pruned {} of {} context messages",
                        chatId,
                        context.messages().size() - kept.messages().size(),
                        context.messages().size());
            }
        }
        PruneRun run = new PruneRun(pruned, expired, stale, more);
        if (more) {
            LOG.info("context pruning: {}; more chats are due, the next run continues", run);
        } else if (!due.isEmpty()) {
            LOG.debug("context pruning: {}", run);
        }
        return run;
    }

    private void write(long chatId, ChatContext old, ChatContext stored) {
        if (old != null && old.pruneAtMs() != 0L && old.pruneAtMs() != stored.pruneAtMs()) {
            pruneIndex.delete(new DeadlineKey(old.pruneAtMs(), chatId));
        }
        contexts.put(chatId, stored);
        cache.put(task, chatId, stored);
        pruneIndex.put(new DeadlineKey(stored.pruneAtMs(), chatId), chatId);
    }

    /**
     * What one pruning run did.
     *
     * @param pruned  chats whose expired messages were removed (possibly none, if the settings changed)
     * @param expired chats whose whole context was deleted after the idle TTL
     * @param stale   index entries without a matching context, removed
     * @param more    true when the run stopped at {@code CONTEXT_PRUNE_MAX_CHATS} with more chats due
     */
    record PruneRun(int pruned, int expired, int stale, boolean more) {}
}
