package dev.thoughtstream.llm.handle;

import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.kafka.DeadLetters;
import dev.thoughtstream.common.logging.LogContext;
import dev.thoughtstream.common.redis.ChatActivity;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.common.tracing.TraceAttributes;
import dev.thoughtstream.llm.LlmProcessor;
import dev.thoughtstream.llm.generate.ReplyGeneration;
import dev.thoughtstream.llm.generate.ReplyGenerator;
import dev.thoughtstream.llm.generate.ReplyResult;
import dev.thoughtstream.llm.handle.ProcessorMetrics.Retry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One thought from record to finished reply, the same in both consumer modes:
 *
 * <ol>
 *   <li>stale? The chat has a newer ingested message ({@link ChatActivity#isSuperseded}): skip, no model call.
 *       Redis errors count as "not stale" (fail open).</li>
 *   <li>claimed? ({@link ThoughtClaims}) Finished before: duplicate, no model call. Another live handling holds it:
 *       {@link Disposition#WAIT}.</li>
 *   <li>generate: every part goes to the replies topic as soon as the generator hands it over. A newer message of
 *       the chat cancels the generation ({@link #newerMessage}).</li>
 *   <li>finish: once every part is acknowledged by Kafka the claim becomes "done"; a failed generation (apology
 *       sent) also goes to the dead-letter topic.</li>
 * </ol>
 *
 * <p>Everything that blocks (Redis, waiting for Kafka) runs on the {@code work} executor, never on a consumer's
 * poll thread, and never on a producer or model callback thread.
 */
public final class ThoughtHandler {
    private static final Logger LOG = LoggerFactory.getLogger(ThoughtHandler.class);
    /** Beyond the reply timeout: the generation ends itself; this only guards against a bug that would hang us. */
    static final Duration RESULT_GRACE = Duration.ofSeconds(30);

    public static final String HEADER_THOUGHT_ID = "llm.thought.id";
    public static final String HEADER_REPLY_ID = "llm.reply.id";

    private final Topics topics;
    private final ReplyGenerator generator;
    private final ChatActivity activity;
    private final ThoughtClaims claims;
    private final Producer<byte[], byte[]> producer;
    private final ProcessorMetrics metrics;
    private final Executor work;
    private final Clock clock;
    private final Duration resultTimeout;
    /** {@code <instanceId>#<incarnation>}: every handling id starts with it ({@link ThoughtClaims}). */
    private final String owner;
    /** The generator's tracer: each handling is a span in the thought's trace, the model calls its children. */
    private final StageTracer tracer;

    private final AtomicLong handlings = new AtomicLong();
    /** Handlings under way, by chat, for the staleness signal to find. */
    private final ConcurrentHashMap<Long, Set<Run>> byChat = new ConcurrentHashMap<>();
    /** Set by {@link #haltAll()}: leave Redis as a crashed process would. */
    private volatile boolean halted;
    /** Set by {@link #stop()}: no handling starts any more. */
    private volatile boolean stopped;

    public ThoughtHandler(
            Topics topics,
            ReplyGenerator generator,
            ChatActivity activity,
            ThoughtClaims claims,
            Producer<byte[], byte[]> producer,
            ProcessorMetrics metrics,
            Executor work,
            Clock clock,
            Duration replyTimeout,
            String owner) {
        this.topics = Objects.requireNonNull(topics, "topics");
        this.generator = Objects.requireNonNull(generator, "generator");
        this.activity = Objects.requireNonNull(activity, "activity");
        this.claims = Objects.requireNonNull(claims, "claims");
        this.producer = Objects.requireNonNull(producer, "producer");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.work = Objects.requireNonNull(work, "work");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.resultTimeout = replyTimeout.plus(RESULT_GRACE);
        this.owner = Objects.requireNonNull(owner, "owner");
        this.tracer = generator.tracer();
    }

    /** Starts handling {@code thought} (read from {@code record}); returns at once. */
    public Handling start(ConsumerRecord<byte[], byte[]> record, Thought thought) {
        Run run = new Run(record, thought, owner + "/" + handlings.incrementAndGet());
        if (stopped) {
            run.finish(Disposition.RETRY, Retry.CANCELLED);
            return run;
        }
        try {
            work.execute(run::begin);
        } catch (RejectedExecutionException e) {
            // Only after close: the thought comes back to whoever consumes next.
            run.finish(Disposition.RETRY, Retry.CANCELLED);
        }
        return run;
    }

    /**
     * Sends {@code record} to the dead-letter topic with {@code reason}. Completes with {@code finished} once Kafka
     * has it, or {@link Disposition#RETRY} when it could not be written (nothing is lost: the record stays unfinished).
     */
    public CompletableFuture<Disposition> deadLetter(
            ConsumerRecord<byte[], byte[]> record, String reason, Disposition finished, Thought thought) {
        try (LogContext ignored = contextOf(thought)) {
            LOG.warn(
                    "{} {}-{}@{}: {}; sending it to {}",
                    thought == null ? "record" : "thought " + thought.thoughtId(),
                    record.topic(),
                    record.partition(),
                    record.offset(),
                    reason,
                    topics.deadLetters().name());
        }
        ProducerRecord<byte[], byte[]> dead =
                DeadLetters.of(topics.deadLetters().name(), record, LlmProcessor.SERVICE, reason, clock.millis());
        if (thought != null) {
            dead.headers().add(HEADER_THOUGHT_ID, thought.thoughtId().getBytes(StandardCharsets.UTF_8));
            dead.headers()
                    .add(
                            HEADER_REPLY_ID,
                            ReplyPart.replyIdFor(thought.thoughtId()).getBytes(StandardCharsets.UTF_8));
        }
        CompletableFuture<Disposition> result = new CompletableFuture<>();
        send(dead).whenComplete((md, error) -> {
            if (error != null) {
                try (LogContext ignored = contextOf(thought)) {
                    LOG.error(
                            "could not dead-letter {}-{}@{}; it stays unfinished and is tried again",
                            record.topic(),
                            record.partition(),
                            record.offset(),
                            error);
                }
                metrics.retried(Retry.PRODUCE_FAILED);
                result.complete(Disposition.RETRY);
            } else {
                metrics.deadLettered();
                if (finished == Disposition.DEAD_LETTERED) {
                    metrics.finished(finished);
                }
                result.complete(finished);
            }
        });
        return result;
    }

    /** The ids of {@code thought} (if known) and its reply, for the lines logged about it, on whichever thread. */
    private static LogContext contextOf(Thought thought) {
        if (thought == null) {
            return LogContext.of(null, null, null);
        }
        return LogContext.of(thought.chatId(), thought.thoughtId(), ReplyPart.replyIdFor(thought.thoughtId()));
    }

    /** The staleness signal: cancels the handlings of {@code chatId} that answer messages older than {@code messageId}. */
    public void newerMessage(long chatId, long messageId) {
        Set<Run> runsOfChat = byChat.get(chatId);
        if (runsOfChat == null) {
            return;
        }
        for (Run a : runsOfChat) {
            if (a.thought.lastMessageId() < messageId) {
                a.supersede(messageId);
            }
        }
    }

    /**
     * Shutdown: no handling starts any more, and every handling under way stops; they end as {@link Disposition#RETRY},
     * their claims released.
     */
    public void stop() {
        stopped = true;
        cancelAll();
    }

    private void cancelAll() {
        for (Set<Run> runsOfChat : byChat.values()) {
            for (Run a : runsOfChat) {
                a.cancel();
            }
        }
    }

    /**
     * The tests' stand-in for {@code kill -9}, as far as Redis and the model can tell: every handling stops, and no
     * claim is released or marked done afterwards, so the claims stay until their TTL.
     */
    public void haltAll() {
        halted = true;
        stop();
    }

    /** Handlings under way right now. */
    public int active() {
        return byChat.values().stream().mapToInt(Set::size).sum();
    }

    /**
     * What a generation's end means for the thought: a failure (the apology was sent as the reply) goes to the
     * dead-letter topic with this description; anything else is an answer. Exhaustive on purpose: a new outcome must
     * be decided here, or this does not compile.
     */
    public static Optional<String> failure(ReplyResult result) {
        return switch (result.outcome()) {
            // An empty answer is the model's answer, not a failure: the apology went out, nothing to dead-letter.
            case ANSWERED, TRUNCATED, TIMED_OUT, APOLOGISED, CANCELLED -> Optional.empty();
            case FAILED ->
                Optional.of(result.error().orElse("the model failed") + " (after " + result.calls()
                        + " model call(s); the apology was sent as reply " + result.replyId() + ")");
        };
    }

    /** Sends at once; the future completes on the producer's I/O thread when Kafka acknowledged (or refused) it. */
    private CompletableFuture<RecordMetadata> send(ProducerRecord<byte[], byte[]> record) {
        CompletableFuture<RecordMetadata> ack = new CompletableFuture<>();
        try {
            producer.send(record, (metadata, error) -> {
                if (error != null) {
                    ack.completeExceptionally(error);
                } else {
                    ack.complete(metadata);
                }
            });
        } catch (RuntimeException e) {
            // Refused before sending (closed producer, record too large...): the same as a refused acknowledgement.
            ack.completeExceptionally(e);
        }
        return ack;
    }

    /** One handling of one delivery of a thought; its id ({@code <owner>/<n>}) is what a claim holds. */
    final class Run implements Handling {
        final ConsumerRecord<byte[], byte[]> record;
        final Thought thought;
        final String handlingId;
        private final CompletableFuture<Disposition> result = new CompletableFuture<>();
        private final List<CompletableFuture<RecordMetadata>> acks = Collections.synchronizedList(new ArrayList<>());
        private final Object lock = new Object();
        // Guarded by lock.
        private ReplyGeneration generation;
        private boolean stale;
        private boolean stopped;
        private boolean claimed;
        /** This handling's span ("generate reply"), from its start to its disposition; null before it starts. */
        private volatile Span span;

        private Run(ConsumerRecord<byte[], byte[]> record, Thought thought, String handlingId) {
            this.record = record;
            this.thought = thought;
            this.handlingId = handlingId;
        }

        @Override
        public CompletableFuture<Disposition> result() {
            return result;
        }

        /** Stops the handling for a reason other than staleness (shutdown, rebalance): the thought comes back. */
        @Override
        public void cancel() {
            ReplyGeneration g;
            synchronized (lock) {
                if (stale) {
                    return;
                }
                stopped = true;
                g = generation;
            }
            try (LogContext ignored = contextOf(thought)) {
                if (g != null && g.cancel()) {
                    LOG.info(
                            "chat {} thought {}: generation of reply {} stopped (shutdown or rebalance)",
                            thought.chatId(),
                            thought.thoughtId(),
                            g.replyId());
                }
            }
        }

        /** The chat has message {@code messageId}, newer than this thought: stop generating. */
        void supersede(long messageId) {
            ReplyGeneration g;
            synchronized (lock) {
                if (stopped || stale) {
                    return;
                }
                stale = true;
                g = generation;
            }
            try (LogContext ignored = contextOf(thought)) {
                if (g != null && g.cancel()) {
                    LOG.info(
                            "chat {} thought {}: message {} is newer than {}; cancelled reply {}",
                            thought.chatId(),
                            thought.thoughtId(),
                            messageId,
                            thought.lastMessageId(),
                            g.replyId());
                }
            }
        }

        private void begin() {
            span = tracer.span("generate reply")
                    .setParent(tracer.extract(record.headers()))
                    .setSpanKind(SpanKind.CONSUMER)
                    .setAttribute(TraceAttributes.CHAT_ID, thought.chatId())
                    .setAttribute(TraceAttributes.THOUGHT_ID, thought.thoughtId())
                    .setAttribute(TraceAttributes.REPLY_ID, ReplyPart.replyIdFor(thought.thoughtId()))
                    .setAttribute(TraceAttributes.MESSAGING_SYSTEM, "kafka")
                    .setAttribute(TraceAttributes.MESSAGING_DESTINATION, record.topic())
                    .setAttribute(TraceAttributes.MESSAGING_OPERATION, "process")
                    .startSpan();
            try (LogContext ignored = contextOf(thought)) {
                run();
            } catch (RuntimeException | Error e) {
                LOG.error(
                        "chat {} thought {}: handling {} failed; the thought will be tried again",
                        thought.chatId(),
                        thought.thoughtId(),
                        handlingId,
                        e);
                releaseIfClaimed();
                finish(Disposition.RETRY, Retry.PRODUCE_FAILED);
            }
        }

        private void run() {
            byChat.compute(thought.chatId(), (c, s) -> {
                Set<Run> set = s == null ? ConcurrentHashMap.newKeySet() : s;
                set.add(this);
                return set;
            });
            if (isStopped() || ThoughtHandler.this.stopped) {
                finish(Disposition.RETRY, Retry.CANCELLED);
                return;
            }
            // After registering: a newer message from now on reaches supersede(), one from before is in the register.
            if (supersededNow()) {
                LOG.info(
                        "chat {} thought {}: the chat has a newer message; skipping it without a model call",
                        thought.chatId(),
                        thought.thoughtId());
                finish(Disposition.SKIPPED_STALE, null);
                return;
            }
            switch (claims.acquire(thought.thoughtId(), handlingId)) {
                case DONE -> {
                    LOG.info(
                            "chat {} thought {} was answered before; not calling the model again",
                            thought.chatId(),
                            thought.thoughtId());
                    finish(Disposition.DUPLICATE, null);
                    return;
                }
                case ELSEWHERE -> {
                    finish(Disposition.WAIT, Retry.CLAIMED_ELSEWHERE);
                    return;
                }
                case UNAVAILABLE -> {
                    finish(Disposition.WAIT, Retry.REDIS_UNAVAILABLE);
                    return;
                }
                case CLAIMED -> {
                    synchronized (lock) {
                        claimed = true;
                    }
                }
                case UNCHECKED -> {
                    // Fail open: generate without a claim (counted by ThoughtClaims).
                }
            }
            Context traced = Context.root().with(span);
            ReplyGeneration g;
            // Current while the generation starts, so its model calls are children of this handling's span.
            try (Scope ignored = traced.makeCurrent()) {
                g = generator.generate(thought, part -> acks.add(send(tracedPart(part, traced))), handlingId);
            }
            metrics.generationStarted();
            boolean cancelNow;
            synchronized (lock) {
                generation = g;
                cancelNow = stale || stopped;
            }
            if (cancelNow) {
                // Stopped or superseded while claiming: the staleness signal found no generation to cancel yet.
                g.cancel();
            }
            LOG.debug(
                    "chat {} thought {}: generating reply {} (handling {})",
                    thought.chatId(),
                    thought.thoughtId(),
                    g.replyId(),
                    handlingId);
            long startedAt = clock.millis();
            g.result()
                    .orTimeout(resultTimeout.toMillis(), TimeUnit.MILLISECONDS)
                    .whenCompleteAsync(
                            (r, error) -> {
                                try (LogContext ignored = contextOf(thought)) {
                                    generated(g, r, error, startedAt);
                                }
                            },
                            work);
        }

        /** The part's record, carrying this handling's span for the emitter to continue. */
        private ProducerRecord<byte[], byte[]> tracedPart(ReplyPart part, Context traced) {
            ProducerRecord<byte[], byte[]> r = topics.replies().record(part.chatId(), part);
            tracer.inject(traced, r.headers());
            return r;
        }

        private boolean isStopped() {
            synchronized (lock) {
                return stopped;
            }
        }

        private boolean supersededNow() {
            synchronized (lock) {
                if (stale) {
                    return true;
                }
            }
            try {
                return activity.isSuperseded(thought.chatId(), thought.lastMessageId());
            } catch (RuntimeException e) {
                metrics.redisError();
                LOG.warn(
                        "chat {} thought {}: cannot read the staleness signal ({}); answering it (fail open)",
                        thought.chatId(),
                        thought.thoughtId(),
                        e.toString());
                return false;
            }
        }

        private void generated(ReplyGeneration g, ReplyResult r, Throwable error, long startedAt) {
            metrics.generationEnded();
            if (error != null) {
                if (error instanceof TimeoutException) {
                    g.cancel();
                    LOG.error(
                            "chat {} thought {}: reply {} did not end after {}; will answer the thought again",
                            thought.chatId(),
                            thought.thoughtId(),
                            g.replyId(),
                            resultTimeout);
                } else {
                    LOG.error(
                            "chat {} thought {}: could not produce reply {}; will answer the thought again",
                            thought.chatId(),
                            thought.thoughtId(),
                            g.replyId(),
                            error);
                }
                releaseIfClaimed();
                finish(Disposition.RETRY, Retry.PRODUCE_FAILED);
                return;
            }
            if (r.outcome() == ReplyResult.Outcome.CANCELLED) {
                boolean wasStale;
                synchronized (lock) {
                    wasStale = stale;
                }
                if (wasStale) {
                    // The parts already produced stay: the emitter drops stale parts by the same signal.
                    markDone();
                    finish(Disposition.CANCELLED_STALE, null);
                } else {
                    releaseIfClaimed();
                    finish(Disposition.RETRY, Retry.CANCELLED);
                }
                return;
            }
            List<CompletableFuture<RecordMetadata>> sent;
            synchronized (acks) {
                sent = List.copyOf(acks);
            }
            // Bounded by the producer's delivery.timeout.ms.
            CompletableFuture.allOf(sent.toArray(CompletableFuture[]::new))
                    .whenCompleteAsync(
                            (ignored, ackError) -> {
                                try (LogContext context = contextOf(thought)) {
                                    acknowledged(r, ackError, startedAt);
                                }
                            },
                            work);
        }

        private void acknowledged(ReplyResult r, Throwable ackError, long startedAt) {
            if (ackError != null) {
                LOG.error(
                        "chat {} thought {}: Kafka did not accept a part of reply {}; will answer the thought again",
                        thought.chatId(),
                        thought.thoughtId(),
                        r.replyId(),
                        ackError);
                releaseIfClaimed();
                finish(Disposition.RETRY, Retry.PRODUCE_FAILED);
                return;
            }
            Optional<String> failed = failure(r);
            if (failed.isEmpty()) {
                markDone();
                LOG.info(
                        "chat {} thought {}: reply {} {} with {} parts ({} chars) in {} ms",
                        thought.chatId(),
                        thought.thoughtId(),
                        r.replyId(),
                        r.outcome(),
                        r.parts(),
                        r.chars(),
                        clock.millis() - startedAt);
                finish(Disposition.ANSWERED, null);
                return;
            }
            if (halted) {
                finish(Disposition.RETRY, Retry.CANCELLED);
                return;
            }
            // Async: the dead letter's acknowledgement arrives on the producer's I/O thread, and Redis is next.
            deadLetter(record, failed.get(), Disposition.FAILED, thought)
                    .whenCompleteAsync(
                            (d, e) -> {
                                if (d == Disposition.FAILED) {
                                    markDone();
                                    finish(Disposition.FAILED, null);
                                } else {
                                    // Not recorded anywhere yet: generate again later rather than lose the failure.
                                    releaseIfClaimed();
                                    finish(Disposition.RETRY, null);
                                }
                            },
                            work);
        }

        private void markDone() {
            if (!halted) {
                claims.markDone(thought.thoughtId());
            }
        }

        private void releaseIfClaimed() {
            boolean mine;
            synchronized (lock) {
                mine = claimed;
                claimed = false;
            }
            if (mine && !halted) {
                claims.release(thought.thoughtId(), handlingId);
            }
        }

        private void finish(Disposition disposition, Retry reason) {
            byChat.computeIfPresent(thought.chatId(), (c, s) -> {
                s.remove(this);
                return s.isEmpty() ? null : s;
            });
            if (disposition.finished()) {
                metrics.finished(disposition);
            } else if (reason != null) {
                metrics.retried(reason);
            }
            endSpan(disposition, reason);
            result.complete(disposition);
        }

        /** Ends the handling's span with its disposition (and why the thought comes back, when it does). */
        private void endSpan(Disposition disposition, Retry reason) {
            Span s = span;
            span = null;
            if (s == null) {
                return;
            }
            s.setAttribute(TraceAttributes.OUTCOME, disposition.name());
            if (reason != null) {
                s.setAttribute("thoughtstream.retry", reason.name());
            }
            if (disposition == Disposition.FAILED || disposition == Disposition.DEAD_LETTERED) {
                s.setStatus(StatusCode.ERROR, disposition.name());
            }
            s.end();
        }
    }
}
