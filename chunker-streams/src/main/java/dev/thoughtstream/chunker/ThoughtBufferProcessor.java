package dev.thoughtstream.chunker;

import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns a chat's text messages into thoughts: consecutive messages with no pause longer than the gap.
 *
 * <h2>Timing</h2>
 * <ul>
 *   <li><b>Session semantics.</b> A thought opens with a chat's first text message and stays open while further
 *       messages keep arriving less than {@code CHUNK_GAP_MS} apart. It closes once the gap has passed after its
 *       last message with nothing new: its deadline is {@code arrival of the last message + gap}, and it is due
 *       when the wall clock reaches the deadline ({@code now >= deadline}).</li>
 *   <li><b>Wall-clock time, not record time.</b> Arrival is {@code context.currentSystemTimeMs()} when the
 *       record is processed, not the record's timestamp. Record time would merge or split thoughts wrongly
 *       whenever the topic is read late: after a restart or a rebalance, replayed records carry old timestamps,
 *       and the gap must be measured against the clock that drives emission. The cost is that messages replayed
 *       in a burst (e.g. after a long outage) are grouped by when the chunker sees them.</li>
 *   <li><b>Emission by wall-clock punctuation.</b> Every {@code CHUNK_PUNCTUATE_INTERVAL_MS} a
 *       {@link PunctuationType#WALL_CLOCK_TIME} punctuation closes the due thoughts. Stream time would not
 *       advance on a partition that receives nothing more, so a stream-time punctuation or
 *       {@code suppress(untilWindowCloses)} would hold the last thought of a quiet partition forever. A thought
 *       is therefore emitted between 0 and one punctuation interval after its deadline (plus the exactly-once
 *       commit interval before read_committed consumers see it).</li>
 *   <li><b>Late punctuation.</b> If a message arrives for a chat whose open thought is already past its
 *       deadline (the punctuation has not run yet, e.g. right after a restart), that thought is closed first and
 *       the message opens a new one, so the result does not depend on when punctuation happens to run.</li>
 *   <li><b>Deadline index.</b> Besides the open thoughts (by chat id) a second store holds one entry per open
 *       thought keyed by {@link DeadlineKey} {@code (deadline, chat id)}, ordered by deadline. A punctuation
 *       range-scans only the entries with {@code deadline <= now}, so its cost is the number of due thoughts, not
 *       the number of chats. Moving a deadline deletes the old entry and writes the new one.</li>
 * </ul>
 *
 * <h2>Context</h2>
 * When a thought closes it carries a snapshot of the chat's context store: the conversation before it, as the
 * retention rule ({@code CONTEXT_WINDOW_MS}, at least {@code CONTEXT_MIN_MESSAGES}, at most
 * {@code CONTEXT_MAX_BYTES}; see {@link ContextStore}) keeps it at that moment, trimmed to
 * {@code CONTEXT_MAX_CHARS} from the newest back. Then its own messages are appended to the context.
 * The bot's side is appended by {@link DeliveryContextProcessor}, which shares the context store: the updates
 * and delivered topics are co-partitioned by chat id, so a chat's state lives in one task.
 *
 * <h2>Bad input</h2>
 * Updates that are not text messages are skipped (logged at DEBUG). A text message that cannot be used throws
 * {@link MalformedRecordException} before any state changes; the processing exception handler dead-letters it.
 * Telegram message ids grow within a chat, so a message at or below the last emitted id, or already in the open
 * thought, is a redelivery and is skipped.
 *
 * <p>All state is in persistent, changelogged stores, and all writes go through the exactly-once transaction,
 * so open thoughts, deadlines and context survive a restart or a move to another instance.
 */
public final class ThoughtBufferProcessor implements Processor<Long, StoredUpdate, Long, Thought> {
    private static final Logger LOG = LoggerFactory.getLogger(ThoughtBufferProcessor.class);

    private final long gapMs;
    private final Duration punctuateInterval;
    private final ContextPolicy contextPolicy;

    private ProcessorContext<Long, Thought> context;
    private KeyValueStore<Long, OpenThought> openThoughts;
    private KeyValueStore<DeadlineKey, Long> deadlines;
    private ContextStore contexts;
    private Cancellable punctuation;

    public ThoughtBufferProcessor(ChunkerConfig config) {
        Objects.requireNonNull(config, "config");
        this.gapMs = config.chunkGap().toMillis();
        this.punctuateInterval = config.punctuateInterval();
        this.contextPolicy = config.context();
    }

    @Override
    public void init(ProcessorContext<Long, Thought> context) {
        this.context = context;
        this.openThoughts = context.getStateStore(ChunkerTopology.OPEN_THOUGHTS_STORE);
        this.deadlines = context.getStateStore(ChunkerTopology.DEADLINE_INDEX_STORE);
        this.contexts = ContextStore.from(context, contextPolicy);
        this.punctuation = context.schedule(punctuateInterval, PunctuationType.WALL_CLOCK_TIME, this::closeDueThoughts);
    }

    @Override
    public void process(Record<Long, StoredUpdate> record) {
        StoredUpdate stored = record.value();
        if (stored == null) {
            LOG.debug("chat {}: skipping a tombstone on the updates topic", record.key());
            return;
        }
        ParsedUpdate parsed = UpdateParser.parse(stored.update());
        if (parsed instanceof ParsedUpdate.Ignored ignored) {
            LOG.debug("chat {}: ignoring update {}: {}", record.key(), stored.updateId(), ignored.kind());
        } else if (parsed instanceof ParsedUpdate.Malformed malformed) {
            throw new MalformedRecordException("update " + stored.updateId() + ": " + malformed.reason());
        } else if (parsed instanceof ParsedUpdate.TextMessage message) {
            Long chatId = record.key();
            if (chatId == null || chatId != message.chatId()) {
                // The key decides the partition, hence which task holds the chat's state; trusting either side of
                // a mismatch would split one chat's state across tasks.
                throw new MalformedRecordException("update " + stored.updateId() + ": record key " + chatId
                        + " is not the message's chat id " + message.chatId());
            }
            accept(chatId, message, context.currentSystemTimeMs());
        }
    }

    private void accept(long chatId, ParsedUpdate.TextMessage message, long nowMs) {
        OpenThought open = openThoughts.get(chatId);
        if (open != null && open.deadlineMs() <= nowMs) {
            close(open, nowMs);
            open = null;
        }
        ChatContext chatContext = contexts.get(chatId);
        if (chatContext != null && message.messageId() <= chatContext.lastUserMessageId()) {
            LOG.debug("chat {}: skipping message {}, already emitted (last emitted {})", chatId,
                    message.messageId(), chatContext.lastUserMessageId());
            return;
        }
        if (open != null && open.contains(message.messageId())) {
            LOG.debug("chat {}: skipping message {}, already in open thought {}", chatId, message.messageId(),
                    open.thoughtId());
            return;
        }
        long deadlineMs = nowMs + gapMs;
        BufferedMessage buffered = message.toBuffered(nowMs);
        OpenThought next;
        if (open == null) {
            next = OpenThought.start(chatId, buffered, deadlineMs);
        } else {
            deadlines.delete(new DeadlineKey(open.deadlineMs(), chatId));
            next = open.append(buffered, deadlineMs);
        }
        openThoughts.put(chatId, next);
        deadlines.put(new DeadlineKey(deadlineMs, chatId), chatId);
        LOG.debug("chat {}: message {} in thought {} ({} messages), due at {}", chatId, message.messageId(),
                next.thoughtId(), next.messages().size(), deadlineMs);
    }

    /** The punctuation: closes every open thought whose deadline is at or before {@code nowMs}. */
    void closeDueThoughts(long nowMs) {
        List<DeadlineKey> due = new ArrayList<>();
        // Collect first, change after: the iterator must not see its own deletes, and must be closed promptly.
        try (KeyValueIterator<DeadlineKey, Long> it = deadlines.range(DeadlineKey.LOWEST, DeadlineKey.lastDueAt(nowMs))) {
            while (it.hasNext()) {
                KeyValue<DeadlineKey, Long> entry = it.next();
                due.add(entry.key);
            }
        }
        for (DeadlineKey key : due) {
            OpenThought open = openThoughts.get(key.chatId());
            if (open != null && open.deadlineMs() == key.deadlineMs()) {
                close(open, nowMs);
            } else {
                // Cannot happen while the two stores change in one transaction; clean up rather than loop on it.
                LOG.warn("chat {}: deadline index entry {} has no matching open thought; removing it",
                        key.chatId(), key.deadlineMs());
                deadlines.delete(key);
            }
        }
    }

    private void close(OpenThought open, long closedAtMs) {
        long chatId = open.chatId();
        ChatContext before = contexts.get(chatId);
        if (before == null) {
            before = ChatContext.empty();
        }
        Thought thought = open.close(closedAtMs, before.snapshot(closedAtMs, contextPolicy));
        context.forward(new Record<>(chatId, thought, closedAtMs));
        List<ContextMessage> userSide = open.asContext();
        contexts.put(chatId, before.withUserMessages(userSide, open.lastMessageId(), closedAtMs, contextPolicy));
        deadlines.delete(new DeadlineKey(open.deadlineMs(), chatId));
        openThoughts.delete(chatId);
        LOG.debug("chat {}: emitted thought {} with {} messages and {} context messages, {} ms after its deadline",
                chatId, thought.thoughtId(), thought.messages().size(), thought.context().size(),
                closedAtMs - open.deadlineMs());
    }

    @Override
    public void close() {
        if (punctuation != null) {
            punctuation.cancel();
        }
    }
}
