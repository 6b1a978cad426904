package dev.thoughtstream.chunker;

import dev.thoughtstream.common.telegram.ChatCommand;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
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
 * Turns a chat's messages into thoughts (to the thoughts topic), and answers commands and messages without words
 * itself (straight to the replies topic, no model involved).
 *
 * <h2>Timing</h2>
 * <ul>
 *   <li><b>Session semantics.</b> A thought opens with a chat's first text message and stays open while further
 *       messages keep arriving before its deadline. Its deadline is {@code arrival of the last message + gap}
 *       ({@code CHUNK_GAP_MS}), plus {@code CHUNK_CONTINUATION_MS} when that message
 *       {@linkplain Continuation looks unfinished} (ends with a comma, colon, dash, ellipsis or a dangling word
 *       such as "and"), but never later than {@code openedAt + CHUNK_MAX_WAIT_MS}. It is due when the wall clock
 *       reaches the deadline ({@code now >= deadline}). So a person who keeps writing is answered at the latest
 *       {@code CHUNK_MAX_WAIT_MS} after their first message, and the deadline index alone enforces that.</li>
 *   <li><b>Size caps.</b> A thought closes at once, without waiting for its deadline, when a message brings it to
 *       {@code CHUNK_MAX_MESSAGES} messages or {@code CHUNK_MAX_CHARS} characters of text (UTF-16 units, as
 *       Telegram counts). The message that reaches the cap is part of the thought it closes; the next message
 *       opens a new one. A single message longer than the cap closes its thought at once (with whatever it joined).</li>
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
 *       commit interval before read_committed consumers see it): for a finished last message, within gap +
 *       punctuation interval of it.</li>
 *   <li><b>Late punctuation.</b> If anything arrives for a chat whose open thought is already past its deadline
 *       (the punctuation has not run yet, e.g. right after a restart), that thought is closed first, so the
 *       result does not depend on when punctuation happens to run.</li>
 *   <li><b>Deadline index.</b> Besides the open thoughts (by chat id) a second store holds one entry per open
 *       thought keyed by {@link DeadlineKey} {@code (deadline, chat id)}, ordered by deadline. A punctuation
 *       range-scans only the entries with {@code deadline <= now}, so its cost is the number of due thoughts, not
 *       the number of chats. Moving a deadline deletes the old entry and writes the new one.</li>
 * </ul>
 *
 * <h2>Edits</h2>
 * <ul>
 *   <li>An {@code edited_message} of a message in the open thought replaces that message's text in place (when
 *       it is not older than the text already there, so a redelivered earlier edit cannot undo a later one). The
 *       thought stays open and its deadline is computed afresh as for a new message: the person is active, and an
 *       edit that makes the last message look unfinished (or finished) should count as such.</li>
 *   <li>An edit of any other message (its thought was emitted, or it was never seen) is a new message: it joins
 *       the open thought, or opens one, carrying {@code editedAtMs}. The model has already answered the original,
 *       so the correction deserves an answer of its own. A thought opened by an edit has the id
 *       {@code <chat>:<message>:edit-<update id>}, because {@code <chat>:<message>} may already name the thought
 *       the original was in, and ids downstream (reply ids, the emitter's claims) must not collide.</li>
 *   <li>An edit that reads as a command is ignored: Telegram does not re-run commands on edit either.</li>
 * </ul>
 *
 * <h2>Duplicates</h2>
 * Telegram message ids grow within a chat, and the context store remembers the newest user message id emitted
 * (raised by {@code /reset} to the command's id). A new message, command or wordless message at or below it, or
 * already in the open thought, is a redelivery and is skipped. Edits cannot be judged by their id (they carry the
 * original's), so that rule does not apply to them; they are kept from repeating by ingest, which writes each
 * Telegram update id once (Redis claim), and by exactly-once processing here (a record's effects and its input
 * offset commit together). A duplicate that still slips through (ingest can write twice if it crashes between
 * Kafka's acknowledgement and recording the update id) produces the same deterministic thought or reply id, and
 * the emitter's claims keep it from reaching the person twice.
 *
 * <h2>Commands and messages without words</h2>
 * <ul>
 *   <li>{@code /start}, {@code /help} and {@code /reset} ({@link ChatCommand}, also as {@code /cmd@botname} and
 *       with arguments) are answered with one {@link ReplyPart} ({@code seq} 0, {@code last}) on the replies
 *       topic, with thought id {@code <chat>:<message>:<command>}, reply id {@code r:<thought id>} and
 *       {@code lastMessageId} = the command's message id. A command never joins a thought. After {@code /start}
 *       or {@code /help} an open thought stays open with its deadline unchanged, and is answered as usual after
 *       the command's reply. {@code /reset} deletes the open thought (and its deadline index entry): its messages
 *       are neither answered nor remembered; then the chat's context is emptied and the reset confirmed. Unknown
 *       commands are ordinary text.</li>
 *   <li>A message with a caption is text (the caption), marked with its {@code attachment}. A message with no
 *       words at all (sticker, voice, photo without caption, location...) is answered with
 *       {@code NON_TEXT_REPLY} (thought id {@code <chat>:<message>:non-text}) and opens no thought; an open
 *       thought is left as it is. Of an album (photos sharing a {@code media_group_id}, one message each), only
 *       the first wordless photo is answered, and none when a photo before it carried a caption: one reply per
 *       album, remembered in the albums store.</li>
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
 * Updates the chunker does not act on (service messages, other update kinds) are skipped (logged at DEBUG). A
 * message that cannot be used throws {@link MalformedRecordException} before any state changes; the processing
 * exception handler dead-letters it.
 *
 * <p>All state is in persistent, changelogged stores, and all writes go through the exactly-once transaction,
 * so open thoughts, deadlines and context survive a restart or a move to another instance.
 */
public final class ThoughtBufferProcessor implements Processor<Long, StoredUpdate, Long, Object> {
    private static final Logger LOG = LoggerFactory.getLogger(ThoughtBufferProcessor.class);

    private final long gapMs;
    private final Duration punctuateInterval;
    private final ContextPolicy contextPolicy;
    private final ThoughtLimits limits;
    private final BotReplies replies;

    private ProcessorContext<Long, Object> context;
    private KeyValueStore<Long, OpenThought> openThoughts;
    private KeyValueStore<DeadlineKey, Long> deadlines;
    private ContextStore contexts;
    private KeyValueStore<Long, String> albums;
    private Cancellable punctuation;

    private final ChunkerMetrics metrics;

    public ThoughtBufferProcessor(ChunkerConfig config) {
        this(config, ChunkerMetrics.detached());
    }

    public ThoughtBufferProcessor(ChunkerConfig config, ChunkerMetrics metrics) {
        Objects.requireNonNull(config, "config");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.gapMs = config.chunkGap().toMillis();
        this.punctuateInterval = config.punctuateInterval();
        this.contextPolicy = config.context();
        this.limits = config.limits();
        this.replies = config.replies();
    }

    @Override
    public void init(ProcessorContext<Long, Object> context) {
        this.context = context;
        this.openThoughts = context.getStateStore(ChunkerTopology.OPEN_THOUGHTS_STORE);
        this.deadlines = context.getStateStore(ChunkerTopology.DEADLINE_INDEX_STORE);
        this.contexts = ContextStore.from(context, contextPolicy);
        this.albums = context.getStateStore(ChunkerTopology.ALBUMS_STORE);
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
            return;
        }
        if (parsed instanceof ParsedUpdate.Malformed malformed) {
            throw new MalformedRecordException("update " + stored.updateId() + ": " + malformed.reason());
        }
        ParsedUpdate.ChatMessage message = (ParsedUpdate.ChatMessage) parsed;
        Long chatId = record.key();
        if (chatId == null || chatId != message.chatId()) {
            // The key decides the partition, hence which task holds the chat's state; trusting either side of
            // a mismatch would split one chat's state across tasks.
            throw new MalformedRecordException("update " + stored.updateId() + ": record key " + chatId
                    + " is not the message's chat id " + message.chatId());
        }
        long nowMs = context.currentSystemTimeMs();
        closeIfOverdue(chatId, nowMs);
        if (message instanceof ParsedUpdate.TextMessage text) {
            acceptText(chatId, text, stored.updateId(), nowMs);
        } else if (message instanceof ParsedUpdate.NonTextMessage nonText) {
            acceptNonText(chatId, nonText, nowMs);
        }
    }

    private void closeIfOverdue(long chatId, long nowMs) {
        OpenThought open = openThoughts.get(chatId);
        if (open != null && open.deadlineMs() <= nowMs) {
            emit(open, nowMs, "overdue since " + open.deadlineMs());
            metrics.closedByLateMessage();
            discard(open);
        }
    }

    private void acceptText(long chatId, ParsedUpdate.TextMessage message, long updateId, long nowMs) {
        Optional<ChatCommand> command = message.attachment() == null
                ? ChatCommand.recognise(message.text(), replies.botUsername())
                : Optional.empty();
        if (command.isPresent() && message.isEdit()) {
            LOG.debug("chat {}: ignoring an edit of message {} that reads as /{}", chatId, message.messageId(),
                    command.get().commandName());
            return;
        }
        if (!message.isEdit() && isRedelivery(chatId, message.messageId())) {
            return;
        }
        if (command.isPresent()) {
            answerCommand(chatId, command.get(), message.messageId(), nowMs);
            return;
        }
        if (!message.isEdit()) {
            rememberAlbum(chatId, message.mediaGroupId());
        }
        OpenThought open = openThoughts.get(chatId);
        OpenThought next = withMessage(chatId, open, message, updateId, nowMs);
        if (next == null) {
            return;
        }
        String cap = limits.capReached(next);
        if (cap != null) {
            if (open != null) {
                discard(open);
            }
            emit(next, nowMs, "closed early, " + cap);
            metrics.closedByCap();
            return;
        }
        next = next.withDeadline(limits.deadline(gapMs, next.openedAtMs(), next.lastText(), nowMs));
        if (open != null && open.deadlineMs() != next.deadlineMs()) {
            deadlines.delete(new DeadlineKey(open.deadlineMs(), chatId));
        }
        openThoughts.put(chatId, next);
        if (open == null || open.deadlineMs() != next.deadlineMs()) {
            deadlines.put(new DeadlineKey(next.deadlineMs(), chatId), chatId);
        }
        LOG.debug("chat {}: message {} in thought {} ({} messages), due at {}", chatId, message.messageId(),
                next.thoughtId(), next.messages().size(), next.deadlineMs());
    }

    /**
     * The open thought with {@code message} in it (its deadline still to be set), or null when the message changes
     * nothing: a redelivery of a message it holds, or an edit older than the text it holds.
     */
    private OpenThought withMessage(long chatId, OpenThought open, ParsedUpdate.TextMessage message, long updateId,
            long nowMs) {
        if (open == null) {
            String thoughtId = message.isEdit()
                    ? Thought.idFor(chatId, message.messageId()) + ":edit-" + updateId
                    : Thought.idFor(chatId, message.messageId());
            // (due at once until the caller sets its deadline, once the caps have been checked)
            return OpenThought.start(chatId, thoughtId, message.toBuffered(nowMs), nowMs);
        }
        int at = open.indexOf(message.messageId());
        if (at < 0) {
            return open.append(message.toBuffered(nowMs), open.deadlineMs());
        }
        if (!message.isEdit()) {
            LOG.debug("chat {}: skipping message {}, already in open thought {}", chatId, message.messageId(),
                    open.thoughtId());
            return null;
        }
        Long current = open.messages().get(at).editedAtMs();
        if (current != null && current > message.editedAtMs()) {
            LOG.debug("chat {}: skipping an edit of message {} older than the one in thought {}", chatId,
                    message.messageId(), open.thoughtId());
            return null;
        }
        LOG.debug("chat {}: message {} edited in open thought {}", chatId, message.messageId(), open.thoughtId());
        return open.withEdit(message.messageId(), message.text(), message.editedAtMs());
    }

    private void acceptNonText(long chatId, ParsedUpdate.NonTextMessage message, long nowMs) {
        if (isRedelivery(chatId, message.messageId())) {
            return;
        }
        String album = message.mediaGroupId();
        if (album != null && album.equals(albums.get(chatId))) {
            LOG.debug("chat {}: {} message {} belongs to album {}, already answered or captioned", chatId,
                    message.kind(), message.messageId(), album);
            return;
        }
        rememberAlbum(chatId, album);
        reply(chatId, message.messageId(), "non-text", replies.nonText(), nowMs);
    }

    /**
     * Keeps the chat's latest album, so that its other photos are not answered again; forgets it at the first
     * message outside an album (albums arrive as consecutive messages), so the store holds only recent albums.
     */
    private void rememberAlbum(long chatId, String album) {
        if (album != null) {
            if (!album.equals(albums.get(chatId))) {
                albums.put(chatId, album);
            }
        } else if (albums.get(chatId) != null) {
            albums.delete(chatId);
        }
    }

    private boolean isRedelivery(long chatId, long messageId) {
        ChatContext chatContext = contexts.get(chatId);
        if (chatContext != null && messageId <= chatContext.lastUserMessageId()) {
            LOG.debug("chat {}: skipping message {}, already handled (last emitted {})", chatId, messageId,
                    chatContext.lastUserMessageId());
            return true;
        }
        return false;
    }

    private void answerCommand(long chatId, ChatCommand command, long messageId, long nowMs) {
        if (command == ChatCommand.RESET) {
            reset(chatId, messageId, nowMs);
        }
        reply(chatId, messageId, command.commandName(), replies.forCommand(command), nowMs);
    }

    /**
     * Forgets the open thought and the context. The context entry is replaced by an empty one whose newest
     * handled message id is the reset's own (and at least every id handled before), so that neither a redelivered
     * old message nor a redelivered {@code /reset} is taken as new.
     */
    private void reset(long chatId, long messageId, long nowMs) {
        long handled = messageId;
        OpenThought open = openThoughts.get(chatId);
        if (open != null) {
            discard(open);
            handled = Math.max(handled, open.newestMessageId());
            LOG.info("chat {}: /reset dropped open thought {} with {} messages", chatId, open.thoughtId(),
                    open.messages().size());
        }
        ChatContext before = contexts.get(chatId);
        if (before != null) {
            handled = Math.max(handled, before.lastUserMessageId());
        }
        contexts.put(chatId, before, ChatContext.empty().withUserMessages(List.of(), handled, nowMs, contextPolicy));
        LOG.info("chat {}: context cleared by /reset (message {})", chatId, messageId);
    }

    /** Answers without the model: one final part on the replies topic, with ids derived from the message. */
    private void reply(long chatId, long messageId, String what, String text, long nowMs) {
        String thoughtId = Thought.idFor(chatId, messageId) + ":" + what;
        ReplyPart part = new ReplyPart(ReplyPart.SCHEMA_VERSION, ReplyPart.replyIdFor(thoughtId), thoughtId, chatId,
                messageId, 0, true, text, nowMs);
        context.forward(new Record<>(chatId, part, nowMs), ChunkerTopology.REPLIES_SINK);
        metrics.directReply(what);
        LOG.debug("chat {}: answered message {} ({}) directly as {}", chatId, messageId, what, part.replyId());
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
                emit(open, nowMs, "due at " + open.deadlineMs());
                metrics.closedAtDeadline(nowMs - open.deadlineMs());
                discard(open);
            } else {
                // Cannot happen while the two stores change in one transaction; clean up rather than loop on it.
                LOG.warn("chat {}: deadline index entry {} has no matching open thought; removing it",
                        key.chatId(), key.deadlineMs());
                deadlines.delete(key);
            }
        }
    }

    /** Removes a stored open thought and its deadline index entry. */
    private void discard(OpenThought open) {
        deadlines.delete(new DeadlineKey(open.deadlineMs(), open.chatId()));
        openThoughts.delete(open.chatId());
    }

    /** Sends {@code open} to the thoughts topic and adds its messages to the context. */
    private void emit(OpenThought open, long closedAtMs, String why) {
        long chatId = open.chatId();
        ChatContext before = contexts.get(chatId);
        if (before == null) {
            before = ChatContext.empty();
        }
        Thought thought = open.close(closedAtMs, before.snapshot(closedAtMs, contextPolicy),
                before.lastUserMessageId());
        context.forward(new Record<>(chatId, thought, closedAtMs), ChunkerTopology.THOUGHTS_SINK);
        contexts.put(chatId, before, before.withUserMessages(open.asContext(), open.newestMessageId(), closedAtMs,
                contextPolicy));
        LOG.debug("chat {}: emitted thought {} with {} messages and {} context messages at {}: {}", chatId,
                thought.thoughtId(), thought.messages().size(), thought.context().size(), closedAtMs, why);
    }

    @Override
    public void close() {
        if (punctuation != null) {
            punctuation.cancel();
        }
    }
}
