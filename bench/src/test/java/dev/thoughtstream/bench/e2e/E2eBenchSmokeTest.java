package dev.thoughtstream.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The e2e harness at tiny scale: it must run through every scenario and print every section with figures.
 * Nothing here is timed: the figures of a tiny run on a shared machine mean nothing, their presence does.
 */
class E2eBenchSmokeTest {
    private static final Pattern PERCENTILES = Pattern.compile("p50 -?\\d+(\\.\\d+)?.*p95 -?\\d+(\\.\\d+)?.*"
            + "p99 -?\\d+(\\.\\d+)?.*max -?\\d+(\\.\\d+)?.*\\(n=[1-9]\\d*\\)");

    @Test
    void aTinyRunCompletesAndPrintsEverySectionWithFigures(@TempDir Path workDir) throws Exception {
        // Given a run of 5 chats for a few seconds, and a couple of chats per scenario
        E2eOptions options = E2eOptions.parse(new String[] {
            "--chats", "5", "--rate", "5", "--duration", "4s", "--warmup", "1s", "--lag-interval", "250ms", "--gap-ms", "300",
            "--stale-chats", "2", "--stale-typing-ms", "500", "--stream-chats", "2", "--floor-duration", "1s", "--floor-warmup", "500ms",
            "--floor-throughput-for", "500ms", "--restore-chats", "20", "--restore-messages", "5",
            "--work-dir", workDir.toString(),
        });
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        // When it runs
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            E2eBench.run(options, out);
        }
        String report = bytes.toString(StandardCharsets.UTF_8);

        // Then every section is there, and each figure line carries numbers
        for (String section : List.of("== machine", "== parameters", "== infrastructure", "== floor",
                "== 1. end-to-end overhead", "== 2. sustained throughput", "== 3. thought emission lateness",
                "== 4. stale-drop latency", "== 5. streaming model", "== 6. context store restore", "== end")) {
            assertTrue(report.contains(section), "missing section '" + section + "' in:\n" + report);
        }
        assertTrue(report.contains("cores") && report.contains("JDK"), "the machine is named:\n" + report);
        assertTrue(report.matches("(?s).*redis: (real redis-server|NONE).*"), "the Redis in use is named:\n" + report);
        for (String figure : List.of("latency 1 hop(s)", "latency 3 hop(s)", "\n  p50", "closed (chunker's",
                "visible (read_committed", "    a. injected", "    b. received", "    c. readable", "    d. closed",
                "from injection:", "from ingestion:", "    of which ingestion", "first part sent:",
                "last part sent:")) {
            String line = lineStartingWith(report, figure);
            assertTrue(PERCENTILES.matcher(line).find(), "no percentiles with samples in '" + line + "'");
        }
        assertTrue(lineStartingWith(report, "  inbound:").matches("(?s).*\\d+\\.\\d messages/s ingested.*"),
                report);
        assertTrue(lineStartingWith(report, "  throughput, 3 hops").matches(".*\\d+ records/s.*"), report);
        assertTrue(report.contains("  verdict: backlog"), "a backlog verdict:\n" + report);
        assertTrue(report.matches("(?s).*restore of 20 chats × 5 messages from the changelogs: \\d+\\.\\d s.*"),
                "the restore's figure:\n" + report);
        assertFalse(report.contains("NO SAMPLES"), report);
    }

    @Test
    void theIngestOnlyRunDrainsABacklogInBothModesAndPrintsItsFigures(@TempDir Path workDir) throws Exception {
        // Given the ingest-only run alone, with a small backlog
        E2eOptions options = E2eOptions.parse(new String[] {
            "--scenarios", "ingest", "--ingest-updates", "300", "--ingest-chats", "30",
            "--work-dir", workDir.toString(),
        });
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        // When it runs
        E2eBench.Report result;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            result = E2eBench.run(options, out);
        }
        String report = bytes.toString(StandardCharsets.UTF_8);

        // Then both modes wrote every update, and each printed its rate, CPU and Redis commands
        assertEquals(2, result.ingest().size(), report);
        for (IngestThroughputScenario.Result r : result.ingest()) {
            assertEquals(300, r.updates(), r.mode() + ":\n" + report);
            assertTrue(r.complete(), report);
            assertTrue(r.redisCommands() > 0, report);
        }
        for (String section : List.of("== ingest alone, polling", "== ingest alone, webhook", "== floor: skipped",
                "== end")) {
            assertTrue(report.contains(section), "missing '" + section + "' in:\n" + report);
        }
        assertTrue(report.matches("(?s).*\\d+ updates/s written.*CPU per 1,000 updates: \\d+ ms.*Redis: \\d+ "
                + "commands.*"), report);
    }

    private static String lineStartingWith(String report, String start) {
        int i = report.indexOf(start.startsWith("\n") ? start : start);
        assertTrue(i >= 0, "no line with '" + start.strip() + "' in:\n" + report);
        int from = start.startsWith("\n") ? i + 1 : report.lastIndexOf('\n', i) + 1;
        int to = report.indexOf('\n', from);
        return report.substring(from, to < 0 ? report.length() : to);
    }
}
