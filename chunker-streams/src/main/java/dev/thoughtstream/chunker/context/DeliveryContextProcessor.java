package dev.thoughtstream.chunker.context;

import dev.thoughtstream.chunker.parse.MalformedRecordException;
import dev.thoughtstream.chunker.thought.ThoughtBufferProcessor;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.logging.LogContext;
import java.util.Objects;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adds the bot's side of the conversation to the context store: every reply part the emitter reports as
 * {@link Delivery.Outcome#SENT}. Parts that were dropped as stale or failed never reached the person, so the
 * model must not believe it said them. Shares the context store with {@link ThoughtBufferProcessor}; the
 * delivered topic is co-partitioned with the updates topic.
 *
 * <p>A delivery reported twice (the emitter may write its outcome again after a crash) carries the same text and
 * time, and is remembered once.
 *
 * <p>This processor also runs the context's pruning punctuation ({@link ContextStore#pruneDue}): every
 * {@code CONTEXT_PRUNE_INTERVAL_MS} of wall-clock time, chats that stopped writing lose their expired messages,
 * and chats idle for {@code CONTEXT_IDLE_TTL_MS} lose their whole context. Wall-clock time, because stream time
 * stands still on a partition nobody writes to, which is exactly where idle chats live.
 */
public final class DeliveryContextProcessor implements Processor<Long, Delivery, Void, Void> {
    private static final Logger LOG = LoggerFactory.getLogger(DeliveryContextProcessor.class);

    private final ContextPolicy contextPolicy;
    private final ContextCache contextCache;

    private ProcessorContext<Void, Void> context;
    private ContextStore contexts;
    private Cancellable pruning;

    /**
     * @param contextCache shared by every task of the instance and by {@link ThoughtBufferProcessor}
     */
    public DeliveryContextProcessor(ContextPolicy contextPolicy, ContextCache contextCache) {
        this.contextPolicy = Objects.requireNonNull(contextPolicy, "contextPolicy");
        this.contextCache = Objects.requireNonNull(contextCache, "contextCache");
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
        this.context = context;
        this.contexts = ContextStore.from(context, contextPolicy, contextCache);
        this.pruning =
                context.schedule(contextPolicy.pruneInterval(), PunctuationType.WALL_CLOCK_TIME, contexts::pruneDue);
    }

    @Override
    public void process(Record<Long, Delivery> record) {
        Delivery delivery = record.value();
        if (delivery == null) {
            // Nothing of ours writes a record without a value; every topic dead-letters one (docs/architecture.md).
            throw new MalformedRecordException("record has no value; a delivery was expected");
        }
        try (LogContext ignored = LogContext.of(record.key(), delivery.thoughtId(), delivery.replyId())) {
            if (delivery.outcome() != Delivery.Outcome.SENT) {
                LOG.debug(
                        "chat {}: reply part {}#{} was {}, not part of the context",
                        record.key(),
                        delivery.replyId(),
                        delivery.seq(),
                        delivery.outcome());
                return;
            }
            Long chatId = record.key();
            if (chatId == null || chatId != delivery.chatId()) {
                throw new MalformedRecordException("delivery " + delivery.replyId() + "#" + delivery.seq()
                        + ": record key " + chatId + " is not the delivery's chat id " + delivery.chatId());
            }
            if (delivery.text() == null) {
                throw new MalformedRecordException(
                        "delivery " + delivery.replyId() + "#" + delivery.seq() + ": SENT without text");
            }
            ContextMessage said = new ContextMessage(ContextMessage.Role.ASSISTANT, delivery.text(), delivery.atMs());
            ChatContext before = contexts.get(chatId);
            if (before == null) {
                before = ChatContext.empty();
            }
            if (before.remembers(said, contextPolicy)) {
                LOG.debug(
                        "chat {}: reply part {}#{} already in the context", chatId, delivery.replyId(), delivery.seq());
                return;
            }
            contexts.put(chatId, before, before.withMessage(said, context.currentSystemTimeMs(), contextPolicy));
            LOG.debug(
                    "chat {}: reply part {}#{} of thought {} added to the context",
                    chatId,
                    delivery.replyId(),
                    delivery.seq(),
                    delivery.thoughtId());
        }
    }

    @Override
    public void close() {
        if (pruning != null) {
            pruning.cancel();
        }
        if (contexts != null) {
            contexts.close();
        }
    }
}
