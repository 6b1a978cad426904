package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChunkerMetricsTest {
    private static final long CHAT = 42;

    @TempDir
    Path stateDir;

    @Test
    void operatorsSeeThoughtsByWhyTheyClosedTheirLatenessDirectRepliesAndDeadLetters() {
        try (ChunkerHarness chunker = ChunkerHarness.startAtLeastOnce(stateDir)) {
            // a thought closed by its deadline, one direct reply, one unreadable record
            chunker.text(CHAT, 1001, "hello");
            chunker.advance(1500);
            chunker.text(CHAT, 1002, "/help");
            chunker.rawUpdates.pipeInput(
                    new byte[] {0, 0, 0, 0, 0, 0, 0, 42}, "{oops".getBytes(StandardCharsets.UTF_8));

            String scrape = chunker.metrics.scrape();

            assertTrue(scrape.contains("thoughtstream_chunker_thoughts_total{closed_by=\"deadline\"} 1.0\n"), scrape);
            assertTrue(scrape.contains("thoughtstream_chunker_emit_lateness_seconds_count 1\n"), scrape);
            assertTrue(scrape.contains("thoughtstream_chunker_direct_replies_total{kind=\"help\"} 1.0\n"), scrape);
            assertTrue(
                    scrape.contains(
                            "thoughtstream_dead_letters_total{service=\"chunker\",source_topic=\"test.tg.updates\"} 1.0\n"),
                    scrape);
        }
    }

    @Test
    void aThoughtClosedByACapIsCountedAsSuch() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CHUNK_MAX_MESSAGES, "2"))) {
            chunker.text(CHAT, 1001, "one");
            chunker.text(CHAT, 1002, "two");

            assertTrue(
                    chunker.metrics.scrape().contains("thoughtstream_chunker_thoughts_total{closed_by=\"cap\"} 1.0\n"),
                    chunker.metrics.scrape());
        }
    }
}
