package dev.thoughtstream.chunker.thought;

import dev.thoughtstream.chunker.ChunkerConfig;
import dev.thoughtstream.chunker.ChunkerMetrics;
import dev.thoughtstream.chunker.ChunkerTopology;
import dev.thoughtstream.chunker.DeadlineKey;
import dev.thoughtstream.chunker.ReprocessFence;
import dev.thoughtstream.chunker.context.ChatContext;
import dev.thoughtstream.chunker.context.ContextCache;
import dev.thoughtstream.chunker.context.ContextPolicy;
import dev.thoughtstream.chunker.context.ContextStore;
import dev.thoughtstream.chunker.parse.MalformedRecordException;
import dev.thoughtstream.chunker.parse.ParsedUpdate;
import dev.thoughtstream.chunker.parse.UpdateParser;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.logging.LogContext;
import dev.thoughtstream.common.telegram.ChatCommand;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.common.tracing.TraceAttributes;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.context.Context;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
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
 * <p>A thought stays open while messages keep coming before its deadline (the gap after the last message, longer
 * when that message {@linkplain Continuation looks unfinished}, never past the maximum wait), and closes early at a
 * size cap. Deadlines are measured on the wall clock and enforced by a wall-clock punctuation that range-scans the
 * deadline index ({@link DeadlineKey}), so a quiet partition still closes its thoughts and a punctuation costs only
 * the due thoughts. A closing thought carries a snapshot of the chat's context ({@link ContextStore}), then joins it.
 * Edits, redeliveries, {@code /start}, {@code /help}, {@code /reset}, wordless messages and albums each have a rule
 * of their own; all of them, and why, are in docs/chunker.md.
 *
 * <p>A message that cannot be used throws {@link MalformedRecordException} before any state changes, so it is
 * dead-lettered whole. All state is in changelogged stores written in the exactly-once transaction, so open
 * thoughts, deadlines and context survive a restart or a move to another instance.
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
    private final EarlyCommits earlyCommits;
    private final ContextCache contextCache;
    /** Output was written that no commit has been asked for yet. */
    private boolean uncommittedOutput;

    private final Supplier<ReprocessFence> fenceSource;
    private ReprocessFence fence = ReprocessFence.NONE;
    /** The record being processed lies below the reprocess fence: its direct replies are not sent again. */
    private boolean replaying;
    /**
     * Each thought's trace continues its first message's: the punctuation that closes it has no input record, so the
     * context of every message is kept with it in the open thought ({@link BufferedMessage#trace()}).
     */
    private final StageTracer tracer;
    /** The trace context of the record being processed (null: none, or tracing off). */
    private Map<String, String> recordTrace;

    /**
     * Without metrics, reprocess fence, tracing or early commits, with a context cache of its own: for benchmarks of
     * the processor alone.
     */
    public ThoughtBufferProcessor(ChunkerConfig config) {
        this(
                config,
                ChunkerMetrics.detached(),
                () -> ReprocessFence.NONE,
                StageTracer.noop(),
                EarlyCommits.never(),
                new ContextCache(config.contextCacheMaxBytes()));
    }

    /**
     * @param fence        read when a task starts, so it is the one the service loaded before the streams started
     * @param tracer       continues the updates' traces into the thoughts and direct replies
     * @param earlyCommits shared by every task of the instance: whether output is worth a commit at once
     * @param contextCache shared by every task of the instance and by {@link
     *                     dev.thoughtstream.chunker.context.DeliveryContextProcessor}
     */
    public ThoughtBufferProcessor(
            ChunkerConfig config,
            ChunkerMetrics metrics,
            Supplier<ReprocessFence> fence,
            StageTracer tracer,
            EarlyCommits earlyCommits,
            ContextCache contextCache) {
        Objects.requireNonNull(config, "config");
        this.earlyCommits = Objects.requireNonNull(earlyCommits, "earlyCommits");
        this.contextCache = Objects.requireNonNull(contextCache, "contextCache");
        this.tracer = Objects.requireNonNull(tracer, "tracer");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.fenceSource = Objects.requireNonNull(fence, "fence");
        this.gapMs = config.chunkGap().toMillis();
        this.punctuateInterval = config.punctuateInterval();
        this.contextPolicy = config.context();
        this.limits = config.limits();
        this.replies = config.replies();
    }

    @Override
    public void init(ProcessorContext<Long, Object> context) {
        this.context = context;
        this.fence = Objects.requireNonNull(fenceSource.get(), "fence");
        this.openThoughts = context.getStateStore(ChunkerTopology.OPEN_THOUGHTS_STORE);
        this.deadlines = context.getStateStore(ChunkerTopology.DEADLINE_INDEX_STORE);
        this.contexts = ContextStore.from(context, contextPolicy, contextCache);
        this.albums = context.getStateStore(ChunkerTopology.ALBUMS_STORE);
        this.punctuation = context.schedule(punctuateInterval, PunctuationType.WALL_CLOCK_TIME, this::closeDueThoughts);
    }

    @Override
    public void process(Record<Long, StoredUpdate> record) {
        StoredUpdate stored = record.value();
        if (stored == null) {
            // Nothing of ours writes a record without a value; every topic dead-letters one (docs/architecture.md).
            throw new MalformedRecordException("record has no value; an update was expected");
        }
        try (LogContext logContext = LogContext.of(record.key(), null, null)) {
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
            earlyCommits.recordInput(nowMs);
            replaying = fence.covers(context.recordMetadata().orElse(null));
            recordTrace = tracer.carrier(record.headers());
            closeIfOverdue(chatId, nowMs);
            if (!replaying) {
                closeReplayed(chatId, nowMs);
            }
            if (message instanceof ParsedUpdate.TextMessage text) {
                acceptText(chatId, text, stored.updateId(), nowMs);
            } else if (message instanceof ParsedUpdate.NonTextMessage nonText) {
                acceptNonText(chatId, nonText, nowMs);
            }
            commitIfWorthIt(nowMs);
        }
    }

    /**
     * Asks Streams to commit after this record or punctuation, if output was written and the input is light
     * ({@link EarlyCommits}); otherwise the output waits for the regular commit interval.
     */
    private void commitIfWorthIt(long nowMs) {
        if (!uncommittedOutput) {
            return;
        }
        switch (earlyCommits.decide(nowMs)) {
            case SOON -> {
                // Kept: the punctuation asks again in CHUNK_PUNCTUATE_INTERVAL_MS.
            }
            case INTERVAL -> uncommittedOutput = false;
            case NOW -> {
                uncommittedOutput = false;
                context.commit();
                metrics.earlyCommitRequested();
            }
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

    /**
     * The first new message of a chat closes the thought rebuilt from old input at once: that thought was answered
     * before the reset (or lost with the old state), so the new message opens a thought of its own and is answered
     * with the rebuilt context.
     */
    private void closeReplayed(long chatId, long nowMs) {
        OpenThought open = openThoughts.get(chatId);
        if (open != null && open.replayed()) {
            emit(open, nowMs, "rebuilt from input before the reprocess fence");
            discard(open);
        }
    }

    private void acceptText(long chatId, ParsedUpdate.TextMessage message, long updateId, long nowMs) {
        Optional<ChatCommand> command = message.attachment() == null
                ? ChatCommand.recognise(message.text(), replies.botUsername())
                : Optional.empty();
        if (command.isPresent() && message.isEdit()) {
            LOG.debug(
                    "chat {}: ignoring an edit of message {} that reads as /{}",
                    chatId,
                    message.messageId(),
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
        LOG.debug(
                "chat {}: message {} in thought {} ({} messages), due at {}",
                chatId,
                message.messageId(),
                next.thoughtId(),
                next.messages().size(),
                next.deadlineMs());
    }

    /**
     * The open thought with {@code message} in it (its deadline still to be set), or null when the message changes
     * nothing: a redelivery of a message it holds, or an edit older than the text it holds.
     */
    private OpenThought withMessage(
            long chatId, OpenThought open, ParsedUpdate.TextMessage message, long updateId, long nowMs) {
        if (open == null) {
            String thoughtId = message.isEdit()
                    ? Thought.idFor(chatId, message.messageId()) + ":edit-" + updateId
                    : Thought.idFor(chatId, message.messageId());
            // (due at once until the caller sets its deadline, once the caps have been checked)
            OpenThought started = OpenThought.start(
                    chatId, thoughtId, message.toBuffered(nowMs).withTrace(recordTrace), nowMs);
            return replaying ? started.asReplayed() : started;
        }
        int at = open.indexOf(message.messageId());
        if (at < 0) {
            OpenThought appended = open.append(message.toBuffered(nowMs).withTrace(recordTrace), open.deadlineMs());
            return replaying ? appended.asReplayed() : appended;
        }
        if (!message.isEdit()) {
            LOG.debug(
                    "chat {}: skipping message {}, already in open thought {}",
                    chatId,
                    message.messageId(),
                    open.thoughtId());
            return null;
        }
        Long current = open.messages().get(at).editedAtMs();
        if (current != null && current > message.editedAtMs()) {
            LOG.debug(
                    "chat {}: skipping an edit of message {} older than the one in thought {}",
                    chatId,
                    message.messageId(),
                    open.thoughtId());
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
            LOG.debug(
                    "chat {}: {} message {} belongs to album {}, already answered or captioned",
                    chatId,
                    message.kind(),
                    message.messageId(),
                    album);
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
            LOG.debug(
                    "chat {}: skipping message {}, already handled (last emitted {})",
                    chatId,
                    messageId,
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
            LOG.info(
                    "chat {}: /reset dropped open thought {} with {} messages",
                    chatId,
                    open.thoughtId(),
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
        if (replaying) {
            LOG.debug("chat {}: message {} ({}) was answered before the reprocess fence", chatId, messageId, what);
            return;
        }
        String thoughtId = Thought.idFor(chatId, messageId) + ":" + what;
        ReplyPart part = new ReplyPart(
                ReplyPart.SCHEMA_VERSION,
                ReplyPart.replyIdFor(thoughtId),
                thoughtId,
                chatId,
                messageId,
                0,
                true,
                text,
                nowMs);
        context.forward(new Record<>(chatId, part, nowMs, directReplyTrace(part)), ChunkerTopology.REPLIES_SINK);
        uncommittedOutput = true;
        metrics.directReply(what);
        LOG.debug("chat {}: answered message {} ({}) directly as {}", chatId, messageId, what, part.replyId());
    }

    /** The punctuation: closes every open thought whose deadline is at or before {@code nowMs}. */
    void closeDueThoughts(long nowMs) {
        List<DeadlineKey> due = new ArrayList<>();
        // Collect first, change after: the iterator must not see its own deletes, and must be closed promptly.
        try (KeyValueIterator<DeadlineKey, Long> it =
                deadlines.range(DeadlineKey.LOWEST, DeadlineKey.lastDueAt(nowMs))) {
            while (it.hasNext()) {
                KeyValue<DeadlineKey, Long> entry = it.next();
                due.add(entry.key);
            }
        }
        for (DeadlineKey key : due) {
            try (LogContext ignored = LogContext.ofChat(key.chatId())) {
                OpenThought open = openThoughts.get(key.chatId());
                if (open != null && open.deadlineMs() == key.deadlineMs()) {
                    emit(open, nowMs, "due at " + open.deadlineMs());
                    metrics.closedAtDeadline(nowMs - open.deadlineMs());
                    discard(open);
                } else {
                    // Cannot happen while the two stores change in one transaction; clean up rather than loop on it.
                    LOG.warn(
                            "chat {}: deadline index entry {} has no matching open thought; removing it",
                            key.chatId(),
                            key.deadlineMs());
                    deadlines.delete(key);
                }
            }
        }
        commitIfWorthIt(nowMs);
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
        Thought thought =
                open.close(closedAtMs, before.snapshot(closedAtMs, contextPolicy), before.lastUserMessageId());
        try (LogContext ignored = LogContext.ofThought(chatId, thought.thoughtId())) {
            if (!open.replayed()) {
                context.forward(
                        new Record<>(chatId, thought, closedAtMs, thoughtTrace(open, thought, closedAtMs, why)),
                        ChunkerTopology.THOUGHTS_SINK);
                uncommittedOutput = true;
            }
            contexts.put(
                    chatId,
                    before,
                    before.withUserMessages(open.asContext(), open.newestMessageId(), closedAtMs, contextPolicy));
            LOG.debug(
                    "chat {}: {} thought {} with {} messages and {} context messages at {}: {}",
                    chatId,
                    // Rebuilt from input processed before a reprocess: it only restores the context.
                    open.replayed() ? "closed (rebuilt, not sent again)" : "emitted",
                    thought.thoughtId(),
                    thought.messages().size(),
                    thought.context().size(),
                    closedAtMs,
                    why);
        }
    }

    /**
     * The thought's span, "chunker thought": a child of its first message's update span, from the moment the chunker
     * received that message to the close, linked to the other messages' update spans; its context goes into the
     * thought record's headers for the llm-processor. No headers (and no work) when tracing is off.
     */
    private Headers thoughtTrace(OpenThought open, Thought thought, long closedAtMs, String why) {
        if (!tracer.enabled()) {
            return new RecordHeaders();
        }
        List<BufferedMessage> messages = open.messages();
        SpanBuilder builder = tracer.span("chunker thought")
                .setParent(tracer.fromMap(messages.get(0).trace()))
                .setStartTimestamp(open.openedAtMs(), TimeUnit.MILLISECONDS)
                .setAttribute(TraceAttributes.CHAT_ID, thought.chatId())
                .setAttribute(TraceAttributes.THOUGHT_ID, thought.thoughtId())
                .setAttribute(TraceAttributes.REPLY_ID, ReplyPart.replyIdFor(thought.thoughtId()))
                .setAttribute("thoughtstream.thought.messages", messages.size())
                .setAttribute(
                        "thoughtstream.thought.context_messages",
                        thought.context().size())
                .setAttribute("thoughtstream.thought.closed", why);
        for (int i = 1; i < messages.size(); i++) {
            SpanContext other =
                    Span.fromContext(tracer.fromMap(messages.get(i).trace())).getSpanContext();
            if (other.isValid()) {
                builder.addLink(other);
            }
        }
        Span span = builder.startSpan();
        Headers headers = new RecordHeaders();
        tracer.inject(Context.root().with(span), headers);
        span.end(closedAtMs, TimeUnit.MILLISECONDS);
        return headers;
    }

    /** A direct reply's span, "chunker direct reply", in the trace of the message it answers. */
    private Headers directReplyTrace(ReplyPart part) {
        if (!tracer.enabled()) {
            return new RecordHeaders();
        }
        Span span = tracer.span("chunker direct reply")
                .setParent(tracer.fromMap(recordTrace))
                .setAttribute(TraceAttributes.CHAT_ID, part.chatId())
                .setAttribute(TraceAttributes.THOUGHT_ID, part.thoughtId())
                .setAttribute(TraceAttributes.REPLY_ID, part.replyId())
                .startSpan();
        Headers headers = new RecordHeaders();
        tracer.inject(Context.root().with(span), headers);
        span.end();
        return headers;
    }

    @Override
    public void close() {
        if (punctuation != null) {
            punctuation.cancel();
        }
        if (contexts != null) {
            contexts.close();
        }
    }
}
