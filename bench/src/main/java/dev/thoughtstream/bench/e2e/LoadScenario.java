package dev.thoughtstream.bench.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Items 1–3 of the benchmark: N chats write at a fixed offered rate (open loop: a chat's next turn comes on
 * schedule whether or not it was answered), while the backlog of every stage is sampled. Afterwards the
 * emulator's transcripts and the topics give the overhead, the throughput and the thought emission lateness.
 */
final class LoadScenario {
    private static final Logger LOG = LoggerFactory.getLogger(LoadScenario.class);
    static final long FIRST_CHAT = 1_000_001L;
    private static final String[] TOPICS = {
        "the weather", "my new job", "a book I read", "the trip next week", "dinner plans", "my sister's wedding",
    };

    /** Everything items 1–3 print. */
    record Result(
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
            Summary stageCommit) {}

    private LoadScenario() {}

    static Result run(PipelineStack stack, String bootstrap, E2eOptions o, PrintStream out)
            throws InterruptedException {
        TelegramEmulator emulator = stack.emulator();
        List<Long> chats = new ArrayList<>();
        for (int i = 0; i < o.chats(); i++) {
            chats.add(FIRST_CHAT + i);
        }
        long periodMs = Math.max(1, o.turnPeriod().toMillis());
        if (periodMs < o.gapMs() + 500) {
            out.printf("  note: each chat writes every %d ms, less than the gap + 500 ms: turns merge into one "
                    + "thought or make the previous reply stale%n", periodMs);
        }
        AtomicLong lastInjection = new AtomicLong();
        try (TopicWatcher<Long, Thought> thoughtWatch = new TopicWatcher<>(bootstrap, stack.topics().thoughts(),
                o.partitions());
                TopicWatcher<Long, StoredUpdate> updateWatch = new TopicWatcher<>(bootstrap, stack.topics().updates(),
                        o.partitions());
                LagSampler lag = new LagSampler(bootstrap, stack.groups(), o.partitions(), emulator::pendingUpdates)) {
            long start = System.currentTimeMillis();
            long windowStart = start + o.warmup().toMillis();
            long windowEnd = windowStart + o.duration().toMillis();
            lag.start(o.lagInterval());
            ScheduledThreadPoolExecutor load = new ScheduledThreadPoolExecutor(1, r -> {
                Thread t = new Thread(r, "bench-load");
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
                    load.scheduleAtFixedRate(() -> {
                        int turn = ++turns[index];
                        for (int m = 1; m <= o.messagesPerThought(); m++) {
                            emulator.injectMessage(chat, text(chat, turn, m, o.messagesPerThought()));
                        }
                        lastInjection.set(System.currentTimeMillis());
                    }, offset, periodMs, TimeUnit.MILLISECONDS);
                }
                load.schedule(loadDone::countDown, windowEnd - start, TimeUnit.MILLISECONDS);
                out.printf("  load: %d chats, a turn of %d message(s) every %d ms each (%.0f messages/s offered), "
                        + "warm-up %d s, measured %d s%n", chats.size(), o.messagesPerThought(), periodMs,
                        o.rate(), o.warmup().toSeconds(), o.duration().toSeconds());
                loadDone.await();
            } finally {
                load.shutdownNow();
                if (!load.awaitTermination(10, TimeUnit.SECONDS)) {
                    LOG.warn("the load generator did not stop within 10 s");
                }
            }
            out.println("  load stopped; waiting for the pipeline to finish what it was given");
            boolean drained = drain(stack, lag, emulator, lastInjection.get(), o);
            List<TopicWatcher.Seen<Long, Thought>> visible = thoughtWatch.seen();
            Map<Long, Map<Long, Long>> updateSeenAt = new HashMap<>();
            for (TopicWatcher.Seen<Long, StoredUpdate> u : updateWatch.seen()) {
                JsonNode messageId = u.record().value().update().path("message").path("message_id");
                if (messageId.canConvertToLong()) {
                    updateSeenAt.computeIfAbsent(u.record().value().chatId(), c -> new HashMap<>())
                            .putIfAbsent(messageId.asLong(), u.seenAtMs());
                }
            }
            List<LagSampler.Sample> window = lag.samplesBetween(windowStart, windowEnd);
            return analyse(stack, bootstrap, o, chats, windowStart, windowEnd, visible, updateSeenAt, window, drained);
        }
    }

    /** A finished sentence, so no thought waits for the continuation rule. */
    static String text(long chat, int turn, int m, int of) {
        return "Message " + m + " of " + of + " in turn " + turn + " of chat " + chat + ": let me tell you about "
                + TOPICS[(int) ((chat + turn + m) % TOPICS.length)] + ".";
    }

    /**
     * Waits until nothing moves any more: the emulator holds no update, no stage's backlog has changed for two
     * seconds and is (nearly) empty, and the last message's gap has passed.
     */
    private static boolean drain(PipelineStack stack, LagSampler lag, TelegramEmulator emulator, long lastInjection,
                                 E2eOptions o) throws InterruptedException {
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
            return emulator.pendingUpdates() == 0 && total <= 4L * o.partitions()
                    && now >= lastInjection + o.gapMs() + 1000
                    && now - lastChange[0] >= 2000;
        });
    }

    private static Result analyse(PipelineStack stack, String bootstrap, E2eOptions o, List<Long> chats,
                                  long windowStart, long windowEnd, List<TopicWatcher.Seen<Long, Thought>> visible,
                                  Map<Long, Map<Long, Long>> updateSeenAt, List<LagSampler.Sample> window,
                                  boolean drained) {
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
                    Optional<Long> sentAt = transcripts.botAt(t.chatId(), first.get().telegramMessageId());
                    if (sentAt.isPresent()) {
                        answered++;
                        overhead.add((double) (sentAt.get() - last - o.gapMs()));
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
                .filter(t -> t.closedAtMs() >= windowStart && t.closedAtMs() < windowEnd).count();
        double ingested = Transcripts.countBetween(records.ingestTimes, windowStart, windowEnd) / seconds;
        return new Result(Summary.of(overhead), Summary.of(closed), Summary.of(seen), seconds,
                Transcripts.countBetween(transcripts.userTimes, windowStart, windowEnd) / seconds, ingested,
                thoughtsClosed / seconds,
                Transcripts.countBetween(transcripts.botTimes, windowStart, windowEnd) / seconds,
                LagSampler.trends(window, Math.max(1.0, 0.01 * ingested)), window.size(), inWindow, answered,
                dropped, failed, unanswered, drained, records.avgUpdateBytes, records.avgThoughtBytes,
                records.avgReplyBytes, Summary.of(received), Summary.of(onTopic), Summary.of(chunker),
                Summary.of(commit));
    }
}
