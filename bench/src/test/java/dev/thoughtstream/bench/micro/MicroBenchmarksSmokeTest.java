package dev.thoughtstream.bench.micro;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.chunker.context.ChatContext;
import dev.thoughtstream.common.event.ContextMessage;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;

/**
 * Every benchmark method runs once, without JMH, on its real set-up (at a small scale where the scale is a
 * parameter), and does the work it claims to measure. Nothing is timed.
 */
class MicroBenchmarksSmokeTest {

    @Test
    void serdeBenchmarksRoundTripEveryEvent() {
        SerdeBenchmark bench = new SerdeBenchmark();
        bench.setUp();

        assertTrue(bench.serializeStoredUpdate().length > 200, "a realistic update is a few hundred bytes");
        // (JsonNode equality tells an int from a long node, so the update is compared as written JSON.)
        assertEquals(
                bench.update.update().toString(),
                bench.deserializeStoredUpdate().update().toString());
        assertEquals(bench.update.updateId(), bench.deserializeStoredUpdate().updateId());
        assertTrue(bench.serializeThoughtWith100ContextMessages().length > 10_000);
        assertEquals(
                100, bench.deserializeThoughtWith100ContextMessages().context().size());
        assertEquals(bench.thought, bench.deserializeThoughtWith100ContextMessages());
        assertTrue(bench.serializeReplyPart().length > 100);
        assertEquals(bench.replyPart, bench.deserializeReplyPart());
        assertTrue(bench.serializeDelivery().length > 100);
        assertEquals(bench.delivery, bench.deserializeDelivery());
    }

    @ParameterizedTest
    @ValueSource(strings = {"realistic", "long10k"})
    void splitBenchmarksCutTheTextIntoTheSamePartsAndTelegramSizedMessages(String text) {
        SplitBenchmark bench = new SplitBenchmark();
        bench.text = text;
        bench.setUp();

        List<String> parts = bench.partSplitter();
        assertFalse(parts.isEmpty());
        assertTrue(parts.stream().allMatch(p -> p.length() <= 4096));
        assertEquals(parts.size(), bench.streamingPartSplitter(), "streaming yields the same parts");
        List<String> messages = bench.telegramTextSplit();
        assertTrue(messages.stream().allMatch(m -> m.length() <= 4096));
        if (text.equals("long10k")) {
            assertTrue(bench.answer.length() >= 10_000);
            assertTrue(messages.size() >= 3, "10,000 characters need at least three Telegram messages");
        } else {
            assertTrue(parts.size() >= 2, "a realistic answer has several paragraphs, hence bubbles");
            assertEquals(1, messages.size(), "a realistic answer fits one Telegram message");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {100, 500})
    void contextTrimBenchmarksKeepTheWindowAndTheMinimum(int messages) {
        ContextTrimBenchmark bench = new ContextTrimBenchmark();
        bench.messages = messages;
        bench.setUp();

        ChatContext trimmed = bench.appendAndTrim();
        List<ContextMessage> kept = trimmed.messages();
        assertEquals(bench.said, kept.get(kept.size() - 1), "the new message is the newest");
        long cutoff = ContextTrimBenchmark.NOW - bench.policy.window().toMillis();
        if (messages == 100) {
            assertEquals(100, kept.size(), "the minimum keeps 100: only the oldest went");
        } else {
            assertTrue(
                    kept.size() > 100 && kept.stream().allMatch(m -> m.atMs() >= cutoff),
                    "above the minimum, exactly the messages older than the window went");
        }
        List<ContextMessage> snapshot = bench.snapshotForThought();
        assertFalse(snapshot.isEmpty());
        assertTrue(snapshot.stream().mapToInt(m -> m.text().length()).sum() <= bench.policy.maxChars());
        assertEquals(bench.context.messages().get(messages - 1), snapshot.get(snapshot.size() - 1));
    }

    @ParameterizedTest
    @ValueSource(strings = {"rocksdb", "memory"})
    void punctuationClosesExactlyTheDueThoughtsOfTheStore(String store) {
        PunctuationScanBenchmark bench = new PunctuationScanBenchmark();
        bench.openThoughts = 2000;
        bench.due = 100;
        bench.store = store;
        bench.setUp();
        try {
            bench.restoreDueThoughts();
            bench.punctuate();
            assertEquals(100, bench.forwarded(), "every due thought went to the thoughts topic");
            assertEquals(1900, countOpen(bench), "the others stay open");

            bench.restoreDueThoughts();
            bench.punctuate();
            assertEquals(100, bench.forwarded(), "the invocation set-up puts the due thoughts back");
        } finally {
            bench.tearDown();
        }
    }

    private static int countOpen(PunctuationScanBenchmark bench) {
        int n = 0;
        try (var it = bench.stores.openThoughts().all()) {
            while (it.hasNext()) {
                it.next();
                n++;
            }
        }
        return n;
    }

    @ParameterizedTest
    @CsvSource({"rocksdb, on", "rocksdb, off", "memory, on", "memory, off"})
    void deliveryBenchmarkAppendsTheSentPartToTheStoredContext(String store, String cache) {
        DeliveryContextBenchmark bench = new DeliveryContextBenchmark();
        bench.store = store;
        bench.cache = cache;
        bench.setUp();
        try {
            ChatContext before = bench.firstChatContext();
            bench.deliverSentPart();
            ChatContext after = bench.firstChatContext();

            assertEquals(
                    ContextMessage.Role.ASSISTANT,
                    after.messages().get(after.messages().size() - 1).role());
            assertEquals(100, after.messages().size(), "101 messages, the oldest beyond the window trimmed");
            assertEquals(before.messages().get(1), after.messages().get(0));
            assertTrue(after.pruneAtMs() > 0, "written through ContextStore, which indexes it");
        } finally {
            bench.tearDown();
        }
    }

    @Test
    void microMainFillsInItsDefaultsButKeepsWhatTheCommandLineSays() throws Exception {
        Options defaults = MicroMain.withDefaults(new CommandLineOptions());
        assertEquals(List.of(MicroMain.ALL), defaults.getIncludes());
        assertEquals(MicroMain.DEFAULT_FORKS, defaults.getForkCount().get());
        assertEquals(
                MicroMain.DEFAULT_MEASUREMENT_ITERATIONS,
                defaults.getMeasurementIterations().get());

        Options given = MicroMain.withDefaults(new CommandLineOptions("Serde", "-f", "2", "-i", "7"));
        assertEquals(List.of("Serde"), given.getIncludes());
        assertEquals(2, given.getForkCount().get());
        assertEquals(7, given.getMeasurementIterations().get());
        assertEquals(
                MicroMain.DEFAULT_WARMUP_ITERATIONS, given.getWarmupIterations().get());
    }
}
