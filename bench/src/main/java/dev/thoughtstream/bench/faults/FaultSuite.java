package dev.thoughtstream.bench.faults;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.topic.Topic;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.launcher.ComposeStack;
import dev.thoughtstream.launcher.EmulatorControl;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.telegram.TranscriptEntry;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.Serdes;

/**
 * The fault suite's engine: the built distribution as separate processes ({@link ComposeStack}: a broker process,
 * redis-server, the Telegram emulator and the four services, each with its compose environment), started once;
 * then each fault of {@link Faults#all()} injected {@code rounds} times in a row while people write, and at the end
 * every person's chat read back from the emulator to count what was lost or sent twice.
 *
 * <p>Every message is written in a chat of its own, so the chunker makes it a thought of its own and the offline
 * default model (the scripted one) answers it with bubbles known in advance
 * ({@link EmulatorControl#scriptedBubbles}); the model is paced (a first token after {@value #MODEL_LATENCY_MS} ms,
 * then {@value #MODEL_TOKENS_PER_SECOND} tokens a second) so that a reply takes about two seconds and a fault can
 * strike while its bubbles are being generated and sent.
 *
 * <p>Recovery, per round: the latency of a reply (the emulator's timestamps, from the message to the reply's last
 * bubble) written just before the fault ({@code warm}), and of one written as soon as the fault is over
 * ({@code after}: the restarted process is ready, Redis is back, the storm is used up);
 * <b>recovery = after − warm</b>, at least 0: how much longer the pipeline took because of the fault, beyond its
 * normal latency. A process's own start (JVM and clients, until {@code /health/ready}) is not counted.
 */
public final class FaultSuite {
    static final int MODEL_LATENCY_MS = 200;
    static final int MODEL_TOKENS_PER_SECOND = 30;
    /** Long enough for a recovery that waits for a consumer group's 45 s session timeout, so a slow one shows. */
    static final Duration REPLY_TIMEOUT = Duration.ofSeconds(120);
    /** After the last fault: how long late copies (a redelivery after a restart) may still come in. */
    static final Duration SETTLE = Duration.ofSeconds(3);

    private static final Duration POLL = Duration.ofMillis(25);
    /** How the emitter's reason for a send its death interrupted begins (emitter's PartSender). */
    private static final String UNCONFIRMED = "claimed but unconfirmed";

    private final FaultsOptions options;
    private final PrintStream out;
    private final List<Exchange> exchanges = new ArrayList<>();
    private final AtomicLong nextChat = new AtomicLong(910_000_001L);
    private final Map<String, List<String>> notes = new LinkedHashMap<>();
    private final Map<String, List<Long>> recoveries = new LinkedHashMap<>();
    private final Map<String, Integer> rounds = new LinkedHashMap<>();

    private ComposeStack stack;

    public FaultSuite(FaultsOptions options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    /** One person's message and the reply it must get. */
    record Exchange(String scenario, long chat, int messageId, String text, List<String> bubbles) {}

    /** Starts the processes, injects every fault {@code rounds} times, stops everything; one result per fault. */
    public List<FaultResult> run() {
        Map<String, Map<String, String>> extra = Map.of(
                "llm-processor",
                Map.of(
                        "SCRIPTED_LATENCY_MS", Integer.toString(MODEL_LATENCY_MS),
                        "SCRIPTED_TOKENS_PER_SECOND", Integer.toString(MODEL_TOKENS_PER_SECOND)));
        long started = System.nanoTime();
        try (ComposeStack s = ComposeStack.start(
                options.dist(), options.composeFile(), options.workDir().toAbsolutePath(), extra)) {
            stack = s;
            out.printf("[faults] pipeline ready in %d s%n", (System.nanoTime() - started) / 1_000_000_000);
            List<FaultResult> results = new ArrayList<>();
            s.processes().explainingFailures(() -> {
                // The first reply also waits for the consumer groups to form: not a fault's recovery.
                probe("warm-up");
                for (Faults.Fault fault : Faults.all()) {
                    for (int round = 1; round <= options.rounds(); round++) {
                        runRound(fault, round);
                    }
                }
                sleep(SETTLE);
                results.addAll(tally());
            });
            out.printf("[faults] done in %d s%n", (System.nanoTime() - started) / 1_000_000_000);
            return results;
        } finally {
            stack = null;
        }
    }

    private void runRound(Faults.Fault fault, int round) throws Exception {
        String name = fault.name();
        rounds.merge(name, 1, Integer::sum);
        int before = exchangeCount();
        long warm = probe(name);
        fault.inject(new Round(name, round));
        long after = probe(name);
        long recovery = Math.max(0, after - warm);
        recoveries.computeIfAbsent(name, n -> new ArrayList<>()).add(recovery);
        boolean complete = awaitReplies(snapshot(before));
        out.printf(
                "[faults] %-26s round %d/%d: warm %d ms, after %d ms, recovery %d ms%s%n",
                name, round, options.rounds(), warm, after, recovery, complete ? "" : " (some replies still missing)");
    }

    /**
     * Writes one message in a new chat and waits for its whole reply.
     *
     * @return the reply's latency by the emulator's clock; {@link #REPLY_TIMEOUT} when it did not come
     */
    private long probe(String scenario) {
        Exchange probe = say(scenario, "Probe for " + scenario + ": is everything fine on your side right now?");
        Optional<List<TranscriptEntry>> reply = poll(REPLY_TIMEOUT, () -> {
            List<TranscriptEntry> bot = stack.emulator().botMessagesAfter(probe.chat(), probe.messageId());
            return bot.size() >= probe.bubbles().size() ? Optional.of(bot) : Optional.empty();
        });
        if (reply.isEmpty()) {
            note(
                    scenario,
                    FaultResult.FAILED + ": a probe got no full reply within " + REPLY_TIMEOUT.toSeconds() + " s");
            return REPLY_TIMEOUT.toMillis();
        }
        TranscriptEntry question =
                stack.emulator().userMessage(probe.chat(), probe.messageId()).orElseThrow();
        List<TranscriptEntry> bubbles = reply.get();
        return bubbles.get(bubbles.size() - 1).at() - question.at();
    }

    /** A person writes {@code text} in a new chat. */
    Exchange say(String scenario, String text) {
        long chat = nextChat.getAndIncrement();
        int messageId = stack.emulator().send(chat, text);
        Exchange exchange = new Exchange(scenario, chat, messageId, text, EmulatorControl.scriptedBubbles(text));
        synchronized (exchanges) {
            exchanges.add(exchange);
        }
        return exchange;
    }

    private int exchangeCount() {
        synchronized (exchanges) {
            return exchanges.size();
        }
    }

    private List<Exchange> snapshot(int from) {
        synchronized (exchanges) {
            return new ArrayList<>(exchanges.subList(from, exchanges.size()));
        }
    }

    /** Waits until every exchange has at least as many bot messages as its reply has bubbles. */
    private boolean awaitReplies(List<Exchange> waiting) {
        List<Exchange> open = new ArrayList<>(waiting);
        return poll(REPLY_TIMEOUT, () -> {
                    open.removeIf(e -> botTexts(e).size() >= e.bubbles().size());
                    return open.isEmpty() ? Optional.of(true) : Optional.empty();
                })
                .isPresent();
    }

    /** Every exchange of every fault read back from the emulator, counted per fault. */
    private List<FaultResult> tally() {
        Map<Long, Set<String>> inDoubt = inDoubt();
        Map<String, int[]> counts = new LinkedHashMap<>();
        for (String name : rounds.keySet()) {
            counts.put(name, new int[6]);
        }
        for (Exchange e : snapshot(0)) {
            int[] c = counts.get(e.scenario());
            if (c == null) {
                continue; // the warm-up
            }
            Map<String, Integer> expected = new HashMap<>();
            e.bubbles().forEach(b -> expected.merge(b, 1, Integer::sum));
            Map<String, Integer> actual = new HashMap<>();
            botTexts(e).forEach(b -> actual.merge(b, 1, Integer::sum));
            int arrived = 0;
            c[0]++;
            for (Map.Entry<String, Integer> b : expected.entrySet()) {
                int got = actual.getOrDefault(b.getKey(), 0);
                arrived += Math.min(got, b.getValue());
                c[2] += Math.max(0, b.getValue() - got);
                if (got < b.getValue()
                        && inDoubt.getOrDefault(e.chat(), Set.of()).contains(b.getKey())) {
                    c[5] += b.getValue() - got;
                }
                c[3] += Math.max(0, got - b.getValue());
            }
            for (Map.Entry<String, Integer> b : actual.entrySet()) {
                if (!expected.containsKey(b.getKey())) {
                    c[4] += b.getValue();
                }
            }
            if (arrived == 0) {
                c[1]++;
            }
            if (arrived < e.bubbles().size() || !actual.equals(expected)) {
                out.printf(
                        "[faults] %s: chat %d message %d '%s' expected %s, got %s%n",
                        e.scenario(), e.chat(), e.messageId(), e.text(), e.bubbles(), botTexts(e));
            }
        }
        List<FaultResult> results = new ArrayList<>();
        for (Map.Entry<String, int[]> entry : counts.entrySet()) {
            int[] c = entry.getValue();
            results.add(new FaultResult(
                    entry.getKey(),
                    rounds.get(entry.getKey()),
                    c[0],
                    c[1],
                    c[2],
                    c[5],
                    c[3],
                    c[4],
                    List.copyOf(recoveries.getOrDefault(entry.getKey(), List.of())),
                    List.copyOf(notes.getOrDefault(entry.getKey(), List.of()))));
        }
        return results;
    }

    /**
     * Per chat, the texts of the parts the emitter reported FAILED as claimed but unconfirmed (on
     * {@code chat.delivered}): an attempt that died during the send. Records that are not a delivery (the malformed
     * ones the suite wrote) are passed over.
     */
    private Map<Long, Set<String>> inDoubt() {
        String topic = stack.topicPrefix() + Topics.DELIVERED;
        Map<Long, Set<String>> texts = new HashMap<>();
        for (ConsumerRecord<byte[], byte[]> r : TopicReader.readAll(
                stack.bootstrap(),
                new Topic<>(topic, Serdes.ByteArray(), Serdes.ByteArray()),
                Duration.ofSeconds(30))) {
            if (r.value() == null) {
                continue;
            }
            JsonNode delivery;
            try {
                delivery = Json.mapper().readTree(r.value());
            } catch (IOException notJson) {
                continue;
            }
            if (delivery.path("outcome").asText().equals(Delivery.Outcome.FAILED.name())
                    && delivery.path("reason").asText().contains(UNCONFIRMED)) {
                texts.computeIfAbsent(delivery.path("chatId").asLong(), c -> new HashSet<>())
                        .add(delivery.path("text").asText());
            }
        }
        return texts;
    }

    private List<String> botTexts(Exchange e) {
        return stack.emulator().transcript(e.chat()).stream()
                .filter(t -> t.isFromBot() && t.isMessage())
                .map(TranscriptEntry::text)
                .toList();
    }

    private void note(String scenario, String note) {
        out.printf("[faults] %s: %s%n", scenario, note);
        synchronized (notes) {
            notes.computeIfAbsent(scenario, n -> new ArrayList<>()).add(note);
        }
    }

    /** Polls {@code probe} until it has a value or {@code timeout} passes. */
    private static <T> Optional<T> poll(Duration timeout, Supplier<Optional<T>> probe) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Optional<T> value = probe.get();
            if (value.isPresent() || System.nanoTime() > deadline) {
                return value;
            }
            sleep(POLL);
        }
    }

    /** Waits out a fault's duration (not a synchronisation: nothing is awaited). */
    static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** What a fault may do during one round: the processes, the people, and its notes. */
    final class Round {
        private final String scenario;
        private final int number;

        Round(String scenario, int number) {
            this.scenario = scenario;
            this.number = number;
        }

        ComposeStack stack() {
            return stack;
        }

        int number() {
            return number;
        }

        /** {@code count} people write at once, each in a new chat. */
        List<Exchange> write(int count, String situation) {
            List<Exchange> batch = new ArrayList<>();
            for (int i = 1; i <= count; i++) {
                batch.add(say(
                        scenario,
                        "Message " + i + " " + situation + ", round " + number + " of " + scenario
                                + ": what do you think about the sea in winter?"));
            }
            return batch;
        }

        /**
         * Waits until one reply of {@code batch} is under way: some of its bubbles have arrived, not all (the
         * moment to strike "mid-reply"). Notes it when that moment was missed.
         */
        void awaitMidReply(List<Exchange> batch) {
            Predicate<Exchange> midway = e -> {
                int got = botTexts(e).size();
                return got > 0 && got < e.bubbles().size();
            };
            boolean caught = poll(
                            Duration.ofSeconds(30),
                            () -> batch.stream().anyMatch(midway) ? Optional.of(true) : Optional.empty())
                    .isPresent();
            if (!caught) {
                note("round " + number + ": no reply was caught half sent; the fault struck anyway");
            }
        }

        void note(String note) {
            FaultSuite.this.note(scenario, note);
        }

        /** Polls until {@code probe} has a value or {@code timeout} passes. */
        <T> Optional<T> poll(Duration timeout, Supplier<Optional<T>> probe) {
            return FaultSuite.poll(timeout, probe);
        }
    }
}
