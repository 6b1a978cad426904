package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
    void givenAChatThatWritesAgain_thenOperatorsSeeItsContextReadFromTheCache() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            // given a new chat whose first thought closed: two reads found no context (the redelivery check and the
            // close), and the close wrote the first one
            chunker.text(CHAT, 1001, "hello");
            chunker.advance(1500);

            // when it writes a second thought
            chunker.text(CHAT, 1002, "me again");
            chunker.advance(1500);

            // then the second thought's two reads came from the cache, which holds that context's weight
            String scrape = chunker.metrics.scrape();
            assertTrue(
                    scrape.contains("thoughtstream_chunker_context_cache_reads_total{result=\"hit\"} 2.0\n"), scrape);
            assertTrue(
                    scrape.contains("thoughtstream_chunker_context_cache_reads_total{result=\"miss\"} 2.0\n"), scrape);
            assertTrue(!scrape.contains("thoughtstream_chunker_context_cache_bytes 0.0\n"), scrape);
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

    @Test
    void aThoughtWrittenWhileTheInputIsLightIsCommittedAtOnce() {
        // given an instance whose input is far below CHUNK_EARLY_COMMIT_BELOW_PER_S
        try (ChunkerHarness chunker =
                ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CHUNK_EARLY_COMMIT_BELOW_PER_S, "10"))) {
            // when one message's thought closes at its deadline
            chunker.text(CHAT, 1001, "hello");
            chunker.advance(1500);

            // then the punctuation that wrote it asked for a commit rather than leaving it to the interval
            assertEquals(1, chunker.thoughts.readValuesToList().size());
            assertTrue(
                    chunker.metrics.scrape().contains("thoughtstream_chunker_early_commits_total 1.0\n"),
                    chunker.metrics.scrape());
        }
    }

    @Test
    void aThoughtWrittenWhileTheInputIsHeavyWaitsForTheCommitInterval() {
        // given an instance that received more updates within the last second than CHUNK_EARLY_COMMIT_BELOW_PER_S
        try (ChunkerHarness chunker =
                ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CHUNK_EARLY_COMMIT_BELOW_PER_S, "10"))) {
            for (int i = 0; i < 30; i++) {
                chunker.text(CHAT + 1 + i, 1, "busy " + i);
            }
            chunker.advance(200);
            chunker.text(CHAT, 1001, "hello");

            // when the first thoughts close while that second's input still counts
            chunker.advance(1400);

            // then they were written without asking for a commit of their own
            assertEquals(30, chunker.thoughts.readValuesToList().size(), "the busy chats' thoughts, not yet hello's");
            assertTrue(
                    chunker.metrics.scrape().contains("thoughtstream_chunker_early_commits_total 0.0\n"),
                    chunker.metrics.scrape());
        }
    }

    @Test
    void earlyCommitsCanBeSwitchedOff() {
        try (ChunkerHarness chunker =
                ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.CHUNK_EARLY_COMMIT_BELOW_PER_S, "0"))) {
            chunker.text(CHAT, 1001, "/help");
            chunker.text(CHAT, 1002, "hello");
            chunker.advance(1500);

            assertEquals(1, chunker.thoughts.readValuesToList().size());
            assertTrue(
                    chunker.metrics.scrape().contains("thoughtstream_chunker_early_commits_total 0.0\n"),
                    chunker.metrics.scrape());
        }
    }
}
