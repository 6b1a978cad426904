package dev.thoughtstream.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
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

    /**
     * {@code options} after the realistic load and the capacity run at a size that finishes in seconds, each in
     * {@code modes} (share and/or group).
     */
    private static String[] withTinyModelScenarios(String modes, String... options) {
        List<String> args = new ArrayList<>(List.of(
                "--real-chats",
                "4",
                "--real-turn-every",
                "2s",
                "--real-ttft",
                "100ms",
                "--real-tokens-per-second",
                "200",
                "--real-warmup",
                "1s",
                "--real-duration",
                "3s",
                "--real-modes",
                modes,
                "--capacity-rate",
                "20",
                "--capacity-ttft",
                "100ms",
                "--capacity-tokens-per-second",
                "200",
                "--capacity-warmup",
                "1s",
                "--capacity-duration",
                "3s",
                "--capacity-context-messages",
                "4",
                "--capacity-max-in-flight",
                "64",
                "--capacity-modes",
                modes));
        args.addAll(List.of(options));
        return args.toArray(String[]::new);
    }

    @Test
    void aTinyRunCompletesAndPrintsEverySectionWithFigures(@TempDir Path workDir) throws Exception {
        // Given a run of 5 chats for a few seconds, and a couple of chats per scenario (the realistic load and the
        // capacity run in one mode each: the next test runs both modes)
        E2eOptions options = E2eOptions.parse(withTinyModelScenarios(
                "group",
                "--chats",
                "5",
                "--rate",
                "5",
                "--duration",
                "4s",
                "--warmup",
                "1s",
                "--lag-interval",
                "250ms",
                "--gap-ms",
                "300",
                "--stale-chats",
                "2",
                "--stale-typing-ms",
                "500",
                "--stream-chats",
                "2",
                "--floor-duration",
                "1s",
                "--floor-warmup",
                "500ms",
                "--floor-throughput-for",
                "500ms",
                "--restore-chats",
                "20",
                "--restore-messages",
                "5",
                "--work-dir",
                workDir.toString()));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        // When it runs
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            E2eBench.run(options, out);
        }
        String report = bytes.toString(StandardCharsets.UTF_8);

        // Then every section is there, and each figure line carries numbers
        for (String section : List.of(
                "== machine",
                "== parameters",
                "== infrastructure",
                "== floor",
                "== 1. end-to-end overhead",
                "== 2. sustained throughput",
                "== 3. thought emission lateness",
                "== 4. stale-drop latency",
                "== 5. streaming model",
                "== 6. context store restore",
                "== 7. realistic load, LLM_MODE=group",
                "== 8. llm-processor capacity, LLM_MODE=group",
                "== end")) {
            assertTrue(report.contains(section), "missing section '" + section + "' in:\n" + report);
        }
        assertTrue(report.contains("cores") && report.contains("JDK"), "the machine is named:\n" + report);
        assertTrue(report.matches("(?s).*redis: (real redis-server|NONE).*"), "the Redis in use is named:\n" + report);
        for (String figure : List.of(
                "latency 1 hop(s)",
                "latency 3 hop(s)",
                "\n  p50",
                "closed (chunker's",
                "visible (read_committed",
                "    a. injected",
                "    b. received",
                "    c. readable",
                "    d. closed",
                "from injection:",
                "from ingestion:",
                "    of which ingestion",
                "first part sent:",
                "last part sent:")) {
            String line = lineStartingWith(report, figure);
            assertTrue(PERCENTILES.matcher(line).find(), "no percentiles with samples in '" + line + "'");
        }
        assertTrue(lineStartingWith(report, "  inbound:").matches("(?s).*\\d+\\.\\d messages/s ingested.*"), report);
        assertTrue(lineStartingWith(report, "  throughput, 3 hops").matches(".*\\d+ records/s.*"), report);
        assertTrue(report.contains("  verdict: backlog"), "a backlog verdict:\n" + report);
        assertTrue(
                report.matches("(?s).*restore of 20 chats × 5 messages from the changelogs: \\d+\\.\\d s.*"),
                "the restore's figure:\n" + report);
        assertFalse(report.contains("NO SAMPLES"), report);
    }

    @Test
    void theRealisticLoadAndTheCapacityRunInBothModesAndPrintTheirFigures(@TempDir Path workDir) throws Exception {
        // Given the realistic load (a paced model over HTTP) and the capacity run alone, tiny, in both llm modes
        E2eOptions options = E2eOptions.parse(withTinyModelScenarios(
                "share,group",
                "--scenarios",
                "real,capacity",
                "--gap-ms",
                "300",
                "--lag-interval",
                "250ms",
                "--work-dir",
                workDir.toString()));
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        // When it runs
        E2eBench.Report result;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            result = E2eBench.run(options, out);
        }
        String report = bytes.toString(StandardCharsets.UTF_8);

        // Then each mode of the realistic load answered thoughts it could match to the model's streams, and
        // printed the wait beyond the model with percentiles, the backlog verdict and the CPU by part
        assertEquals(
                List.of("share", "group"),
                result.real().stream().map(E2eBench.Realistic::mode).toList(),
                report);
        for (E2eBench.Realistic r : result.real()) {
            assertTrue(r.result().model().matched() > 0, r.mode() + ":\n" + report);
            assertTrue(r.result().usage().processCpuMs() > 0, report);
        }
        for (String section : List.of(
                "== 7. realistic load, LLM_MODE=share",
                "== 7. realistic load, LLM_MODE=group",
                "== 8. llm-processor capacity, LLM_MODE=share",
                "== 8. llm-processor capacity, LLM_MODE=group",
                "== 1.-3. load: skipped",
                "== end")) {
            assertTrue(report.contains(section), "missing '" + section + "' in:\n" + report);
        }
        for (String figure : List.of(
                "    p50",
                "  person's wait for part 1 after the gap:",
                "    the model's own time to part 1",
                "    after the model",
                "  model time per reply")) {
            String line = lineStartingWith(report, figure);
            assertTrue(PERCENTILES.matcher(line).find(), "no percentiles with samples in '" + line + "'");
        }
        assertTrue(report.contains("  verdict: backlog"), report);
        // and each capacity run finished thoughts, had some in flight and measured the processor's own CPU
        assertEquals(2, result.capacity().size(), report);
        for (CapacityScenario.Result c : result.capacity()) {
            assertTrue(c.completed() > 0, c.mode() + ":\n" + report);
            assertTrue(c.peakInFlight() > 0 && c.peakAtModel() > 0, report);
            assertTrue(c.processor().cpuMs() > 0 && c.processor().allocatedMb() > 0, report);
        }
        assertTrue(report.matches("(?s).*/s finished.*ms per thought finished.*KiB per thought.*"), report);
    }

    @Test
    void theIngestOnlyRunDrainsABacklogInBothModesAndPrintsItsFigures(@TempDir Path workDir) throws Exception {
        // Given the ingest-only run alone, with a small backlog
        E2eOptions options = E2eOptions.parse(new String[] {
            "--scenarios",
            "ingest",
            "--ingest-updates",
            "300",
            "--ingest-chats",
            "30",
            "--work-dir",
            workDir.toString(),
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
        for (String section :
                List.of("== ingest alone, polling", "== ingest alone, webhook", "== floor: skipped", "== end")) {
            assertTrue(report.contains(section), "missing '" + section + "' in:\n" + report);
        }
        assertTrue(
                report.matches(
                        "(?s).*\\d+ updates/s written.*CPU per 1,000 updates: \\d+ ms.*Redis: \\d+ " + "commands.*"),
                report);
    }

    private static String lineStartingWith(String report, String start) {
        int i = report.indexOf(start.startsWith("\n") ? start : start);
        assertTrue(i >= 0, "no line with '" + start.strip() + "' in:\n" + report);
        int from = start.startsWith("\n") ? i + 1 : report.lastIndexOf('\n', i) + 1;
        int to = report.indexOf('\n', from);
        return report.substring(from, to < 0 ? report.length() : to);
    }
}
