package dev.thoughtstream.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Items 1–3 of the benchmark, and the load of item 7: N chats write at a fixed offered rate (open loop: a chat's
 * next turn comes on schedule whether or not it was answered), while the backlog of every stage is sampled.
 * Afterwards the emulator's transcripts and the topics give the overhead, the throughput and the thought emission
 * lateness. With a {@link PacedModel} (item 7) the model's own time to each reply's first part is known too, and
 * the overhead is also given beyond it.
 */
final class LoadScenario {
    private static final Logger LOG = LoggerFactory.getLogger(LoadScenario.class);
    static final long FIRST_CHAT = 1_000_001L;
    static final long FIRST_REAL_CHAT = 4_000_001L;
    private static final String[] TOPICS = {
        "the weather", "my new job", "a book I read", "the trip next week", "dinner plans", "my sister's wedding",
    };

    /**
     * Who writes, how often and for how long: {@code chats} chats from {@code firstChat} on, each a turn of
     * {@code messagesPerThought} messages every {@code turnPeriod}, the chats spread evenly over that period.
     */
    record Shape(
            int chats,
            long firstChat,
            int messagesPerThought,
            Duration turnPeriod,
            Duration warmup,
            Duration duration) {
        /** Offered messages per second over all chats. */
        double rate() {
            return chats * (double) messagesPerThought * 1000.0 / Math.max(1, turnPeriod.toMillis());
        }
    }

    /**
     * Item 7's figures for the answered thoughts of the window, from the paced model's record of each stream.
     *
     * @param beyondModel   the person's wait for part 1 after the gap, minus the model's own time to part 1
     * @param modelFirstPart request at the model → the token completing part 1 flushed (the model's own time)
     * @param beforeModel   last message injected → the request at the model, minus the gap
     * @param afterModel    the token completing part 1 flushed → part 1's sendMessage
     * @param pacingSlip    the model's own time to part 1 minus the time its pace alone would take
     * @param matched       answered thoughts whose stream was found
     */
    record ModelFigures(
            String describe,
            Summary beyondModel,
            Summary modelFirstPart,
            Summary beforeModel,
            Summary afterModel,
            Summary pacingSlip,
            Summary modelFull,
            Summary replyTokens,
            Map<Integer, Integer> partsPerReply,
            int matched,
            int requests,
            int repeatedRequests,
            int peakConcurrentRequests,
            int abandonedStreams) {}

    /**
     * How the llm-processor took its thoughts over the window: its in-flight gauge, sampled every
     * {@code sampleMs} ({@link Pipeline#inFlightSampleMs()}), and its share consumers' fetches (none in group mode).
     */
    record Intake(long peakInFlight, double meanInFlight, long sampleMs, LlmIntake.ShareFetches shareFetches) {}

    /** Everything items 1–3 (and 7) print. */
    record Result(
            Shape shape,
            Summary overhead,
            Summary latenessClosed,
            Summary latenessVisible,
            double windowSeconds,
            double offeredPerSecond,
            double ingestedPerSecond,
            double thoughtsPerSecond,
            double partsSentPerSecond,
            List<LagSampler.Trend> trends,
            int lagSamples,
            int thoughtsInWindow,
            int answered,
            int droppedStale,
            int failed,
            int unanswered,
            boolean drained,
            double avgUpdateBytes,
            double avgThoughtBytes,
            double avgReplyBytes,
            Summary stageReceived,
            Summary stageOnTopic,
            Summary stageChunker,
            Summary stageCommit,
            JvmUsage.Spent usage,
            ProcessUsage.Spent processes,
            Intake intake,
            ModelFigures model) {}

    private LoadScenario() {}

    /**
     * Runs {@code shape} through {@code stack}; {@code model} is the stack's paced model (item 7), or null when the
     * stack runs the scripted model at zero latency (items 1–3). When the services run as processes of their own
     * ({@link Pipeline#processes()}), their CPU is read from {@code /proc} as well as this JVM's.
     */
    static Result run(Pipeline stack, String bootstrap, E2eOptions o, Shape shape, PacedModel model, PrintStream out)
            throws InterruptedException {
        TelegramEmulator emulator = stack.emulator();
        List<Long> chats = new ArrayList<>();
        for (int i = 0; i < shape.chats(); i++) {
            chats.add(shape.firstChat() + i);
        }
        long periodMs = Math.max(1, shape.turnPeriod().toMillis());
        if (periodMs < o.gapMs() + 500) {
            out.printf(
                    "  note: each chat writes every %d ms, less than the gap + 500 ms: turns merge into one "
                            + "thought or make the previous reply stale%n",
                    periodMs);
        }
        AtomicLong lastInjection = new AtomicLong();
        try (TopicWatcher<Long, Thought> thoughtWatch =
                        new TopicWatcher<>(bootstrap, stack.topics().thoughts(), o.partitions());
                TopicWatcher<Long, StoredUpdate> updateWatch =
                        new TopicWatcher<>(bootstrap, stack.topics().updates(), o.partitions());
                LagSampler lag = new LagSampler(bootstrap, stack.groups(), o.partitions(), emulator::pendingUpdates)) {
            long start = System.currentTimeMillis();
            long windowStart = start + shape.warmup().toMillis();
            long windowEnd = windowStart + shape.duration().toMillis();
            JvmUsage.Snapshot[] usage = new JvmUsage.Snapshot[2];
            Map<String, Long> pids = stack.processes();
            ProcessUsage procs = new ProcessUsage(Path.of("/proc"));
            ProcessUsage.Snapshot[] processUsage = new ProcessUsage.Snapshot[2];
            LlmIntake.ShareFetches[] fetches = new LlmIntake.ShareFetches[2];
            List<Long> inFlight = java.util.Collections.synchronizedList(new ArrayList<>());
            lag.start(o.lagInterval());
            ScheduledThreadPoolExecutor load = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "bench-load");
                t.setDaemon(true);
                return t;
            });
            ScheduledThreadPoolExecutor meter = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "bench-usage");
                t.setDaemon(true);
                return t;
            });
            CountDownLatch loadDone = new CountDownLatch(1);
            try {
                int[] turns = new int[chats.size()];
                for (int i = 0; i < chats.size(); i++) {
                    int index = i;
                    long chat = chats.get(i);
                    long offset = periodMs * i / chats.size();
                    load.scheduleAtFixedRate(
                            () -> {
                                int turn = ++turns[index];
                                for (int m = 1; m <= shape.messagesPerThought(); m++) {
                                    emulator.injectMessage(chat, text(chat, turn, m, shape.messagesPerThought()));
                                }
                                lastInjection.set(System.currentTimeMillis());
                            },
                            offset,
                            periodMs,
                            TimeUnit.MILLISECONDS);
                }
                // On a thread of their own, so taking them never delays an injection.
                meter.schedule(
                        () -> {
                            usage[0] = JvmUsage.take(stack.redis().orElse(null));
                            processUsage[0] = pids.isEmpty() ? null : procs.take(pids);
                            fetches[0] = stack.shareFetches();
                        },
                        windowStart - start,
                        TimeUnit.MILLISECONDS);
                meter.scheduleAtFixedRate(
                        () -> {
                            if (System.currentTimeMillis() < windowEnd) {
                                try {
                                    inFlight.add(stack.llmInFlight());
                                } catch (RuntimeException e) {
                                    // A lost sample, not a lost run; a thrown exception would end the sampling.
                                    LOG.warn("could not read the llm-processor's in-flight gauge: {}", e.toString());
                                }
                            }
                        },
                        windowStart - start,
                        stack.inFlightSampleMs(),
                        TimeUnit.MILLISECONDS);
                meter.schedule(
                        () -> {
                            usage[1] = JvmUsage.take(stack.redis().orElse(null));
                            processUsage[1] = pids.isEmpty() ? null : procs.take(pids);
                            fetches[1] = stack.shareFetches();
                            loadDone.countDown();
                        },
                        windowEnd - start,
                        TimeUnit.MILLISECONDS);
                out.printf(
                        Locale.ROOT,
                        "  load: %d chats, a turn of %d message(s) every %d ms each (%.0f messages/s "
                                + "offered), warm-up %d s, measured %d s%n",
                        chats.size(),
                        shape.messagesPerThought(),
                        periodMs,
                        shape.rate(),
                        shape.warmup().toSeconds(),
                        shape.duration().toSeconds());
                if (model != null) {
                    out.println("  model: " + model.describe());
                }
                loadDone.await();
            } finally {
                meter.shutdownNow();
                load.shutdownNow();
                if (!load.awaitTermination(10, TimeUnit.SECONDS)) {
                    LOG.warn("the load generator did not stop within 10 s");
                }
            }
            out.println("  load stopped; waiting for the pipeline to finish what it was given");
            boolean drained = drain(stack, lag, emulator, model, lastInjection.get(), o);
            List<TopicWatcher.Seen<Long, Thought>> visible = thoughtWatch.seen();
            Map<Long, Map<Long, Long>> updateSeenAt = new HashMap<>();
            for (TopicWatcher.Seen<Long, StoredUpdate> u : updateWatch.seen()) {
                JsonNode messageId = u.record().value().update().path("message").path("message_id");
                if (messageId.canConvertToLong()) {
                    updateSeenAt
                            .computeIfAbsent(u.record().value().chatId(), c -> new HashMap<>())
                            .putIfAbsent(messageId.asLong(), u.seenAtMs());
                }
            }
            List<LagSampler.Sample> window = lag.samplesBetween(windowStart, windowEnd);
            JvmUsage.Spent spent = usage[0] == null || usage[1] == null
                    ? null
                    : JvmUsage.between(usage[0], usage[1], JvmUsage.PartOf.byName(JvmUsage::pipelinePart));
            ProcessUsage.Spent processSpent = processUsage[0] == null || processUsage[1] == null
                    ? null
                    : ProcessUsage.between(processUsage[0], processUsage[1]);
            List<Long> flights;
            synchronized (inFlight) {
                flights = List.copyOf(inFlight);
            }
            Intake intake = new Intake(
                    flights.stream().mapToLong(Long::longValue).max().orElse(0),
                    flights.stream().mapToLong(Long::longValue).average().orElse(Double.NaN),
                    stack.inFlightSampleMs(),
                    fetches[0] == null || fetches[1] == null
                            ? new LlmIntake.ShareFetches(0, 0)
                            : fetches[1].minus(fetches[0]));
            return analyse(
                    stack,
                    bootstrap,
                    o,
                    shape,
                    model,
                    chats,
                    windowStart,
                    windowEnd,
                    visible,
                    updateSeenAt,
                    window,
                    drained,
                    spent,
                    processSpent,
                    intake);
        }
    }

    /** A finished sentence, so no thought waits for the continuation rule. */
    static String text(long chat, int turn, int m, int of) {
        return "Message " + m + " of " + of + " in turn " + turn + " of chat " + chat + ": let me tell you about "
                + TOPICS[(int) ((chat + turn + m) % TOPICS.length)] + ".";
    }

    /**
     * Waits until nothing moves any more: the emulator holds no update, no stage's backlog has changed for two
     * seconds and is (nearly) empty, the last message's gap has passed, and the paced model (if any) streams no
     * reply: a thought being generated is no backlog, and on a starved machine the backlogs can stand still for
     * seconds while the model still streams.
     */
    private static boolean drain(
            Pipeline stack,
            LagSampler lag,
            TelegramEmulator emulator,
            PacedModel model,
            long lastInjection,
            E2eOptions o)
            throws InterruptedException {
        long[] lastTotal = {-1};
        long[] lastChange = {System.currentTimeMillis()};
        return Poll.until(o.drainTimeout(), Duration.ofMillis(200), () -> {
            List<LagSampler.Sample> all = lag.samples();
            long now = System.currentTimeMillis();
            if (all.isEmpty()) {
                return false;
            }
            long total = all.get(all.size() - 1).total();
            if (total != lastTotal[0]) {
                lastTotal[0] = total;
                lastChange[0] = now;
            }
            // A small remainder can be transaction markers, which no consumer ever "consumes".
            return emulator.pendingUpdates() == 0
                    && (model == null || model.activeRequests() == 0)
                    && total <= 4L * o.partitions()
                    && now >= lastInjection + o.gapMs() + 1000
                    && now - lastChange[0] >= 2000;
        });
    }

    private static Result analyse(
            Pipeline stack,
            String bootstrap,
            E2eOptions o,
            Shape shape,
            PacedModel model,
            List<Long> chats,
            long windowStart,
            long windowEnd,
            List<TopicWatcher.Seen<Long, Thought>> visible,
            Map<Long, Map<Long, Long>> updateSeenAt,
            List<LagSampler.Sample> window,
            boolean drained,
            JvmUsage.Spent spent,
            ProcessUsage.Spent processes,
            Intake intake) {
        PipelineRecords records = new PipelineRecords(bootstrap, stack.topics());
        Transcripts transcripts = new Transcripts(stack.emulator(), chats);
        Map<String, Long> visibleAt = new HashMap<>();
        visible.forEach(s -> visibleAt.putIfAbsent(s.record().value().thoughtId(), s.seenAtMs()));

        List<Double> overhead = new ArrayList<>();
        List<Double> closed = new ArrayList<>();
        List<Double> seen = new ArrayList<>();
        List<Double> received = new ArrayList<>();
        List<Double> onTopic = new ArrayList<>();
        List<Double> chunker = new ArrayList<>();
        List<Double> commit = new ArrayList<>();
        int inWindow = 0;
        int answered = 0;
        int dropped = 0;
        int failed = 0;
        int unanswered = 0;
        List<Double> beyond = new ArrayList<>();
        List<Double> modelFirst = new ArrayList<>();
        List<Double> beforeModel = new ArrayList<>();
        List<Double> afterModel = new ArrayList<>();
        List<Double> slip = new ArrayList<>();
        List<Double> modelFull = new ArrayList<>();
        List<Double> replyTokens = new ArrayList<>();
        Map<Integer, Integer> partsPerReply = new TreeMap<>();
        int matched = 0;
        for (Thought t : records.thoughts.values()) {
            Optional<Long> lastAt = transcripts.userAt(t.chatId(), t.lastMessageId());
            if (lastAt.isEmpty() || lastAt.get() < windowStart || lastAt.get() >= windowEnd) {
                continue;
            }
            inWindow++;
            long last = lastAt.get();
            closed.add((double) (t.closedAtMs() - last - o.gapMs()));
            Long v = visibleAt.get(t.thoughtId());
            if (v != null) {
                seen.add((double) (v - last - o.gapMs()));
                commit.add((double) (v - t.closedAtMs()));
            }
            Optional<Long> receivedAt = records.ingestedAt(t.chatId(), t.lastMessageId());
            Long readableAt = updateSeenAt.getOrDefault(t.chatId(), Map.of()).get(t.lastMessageId());
            if (receivedAt.isPresent() && readableAt != null) {
                received.add((double) (receivedAt.get() - last));
                onTopic.add((double) (readableAt - receivedAt.get()));
                chunker.add((double) (t.closedAtMs() - o.gapMs() - readableAt));
            }
            Optional<Delivery> first = records.outcome(t.thoughtId(), 0);
            if (first.isEmpty()) {
                unanswered++;
                continue;
            }
            switch (first.get().outcome()) {
                case SENT -> {
                    Optional<Long> sentAt =
                            transcripts.botAt(t.chatId(), first.get().telegramMessageId());
                    if (sentAt.isPresent()) {
                        answered++;
                        double wait = sentAt.get() - last - o.gapMs();
                        overhead.add(wait);
                        // A stream cut short after part 1 (its chat wrote again) still timed part 1.
                        Optional<PacedModel.Stream> stream = model == null
                                ? Optional.empty()
                                : model.stream(t.text()).filter(s -> s.firstPartAtMs > 0);
                        if (stream.isPresent()) {
                            PacedModel.Stream s = stream.get();
                            matched++;
                            double own = s.firstPartAtMs - s.requestAtMs;
                            beyond.add(wait - own);
                            modelFirst.add(own);
                            beforeModel.add((double) (s.requestAtMs - last - o.gapMs()));
                            afterModel.add((double) (sentAt.get() - s.firstPartAtMs));
                            slip.add(own - model.nominalFirstPartMs(s));
                            if (s.complete()) {
                                modelFull.add((double) (s.lastTokenAtMs - s.requestAtMs));
                            }
                            replyTokens.add((double) s.tokens);
                            partsPerReply.merge(records.parts(t.thoughtId()).size(), 1, Integer::sum);
                        }
                    } else {
                        unanswered++;
                    }
                }
                case DROPPED_STALE -> dropped++;
                case FAILED -> failed++;
            }
        }
        double seconds = (windowEnd - windowStart) / 1000.0;
        long thoughtsClosed = records.thoughts.values().stream()
                .filter(t -> t.closedAtMs() >= windowStart && t.closedAtMs() < windowEnd)
                .count();
        double ingested = Transcripts.countBetween(records.ingestTimes, windowStart, windowEnd) / seconds;
        ModelFigures figures = model == null
                ? null
                : new ModelFigures(
                        model.describe(),
                        Summary.of(beyond),
                        Summary.of(modelFirst),
                        Summary.of(beforeModel),
                        Summary.of(afterModel),
                        Summary.of(slip),
                        Summary.of(modelFull),
                        Summary.of(replyTokens),
                        partsPerReply,
                        matched,
                        model.requestCount(),
                        model.repeatedRequests(),
                        model.peakConcurrentRequests(),
                        model.abandonedStreams());
        return new Result(
                shape,
                Summary.of(overhead),
                Summary.of(closed),
                Summary.of(seen),
                seconds,
                Transcripts.countBetween(transcripts.userTimes, windowStart, windowEnd) / seconds,
                ingested,
                thoughtsClosed / seconds,
                Transcripts.countBetween(transcripts.botTimes, windowStart, windowEnd) / seconds,
                LagSampler.trends(window, Math.max(1.0, 0.01 * ingested)),
                window.size(),
                inWindow,
                answered,
                dropped,
                failed,
                unanswered,
                drained,
                records.avgUpdateBytes,
                records.avgThoughtBytes,
                records.avgReplyBytes,
                Summary.of(received),
                Summary.of(onTopic),
                Summary.of(chunker),
                Summary.of(commit),
                spent,
                processes,
                intake,
                figures);
    }
}
