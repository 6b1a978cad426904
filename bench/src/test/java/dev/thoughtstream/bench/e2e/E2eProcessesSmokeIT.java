package dev.thoughtstream.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
 * The realistic load with the four services as processes of their own ({@code --real-deploy processes}), from the
 * built distribution (so after {@code package}, like the fault suite), at tiny scale: it must finish and print its
 * figures, the services' CPU from /proc among them. Nothing is timed.
 */
class E2eProcessesSmokeIT {
    private static final Pattern PERCENTILES = Pattern.compile("p50 -?\\d+(\\.\\d+)?.*p95 -?\\d+(\\.\\d+)?.*"
            + "p99 -?\\d+(\\.\\d+)?.*max -?\\d+(\\.\\d+)?.*\\(n=[1-9]\\d*\\)");

    @Test
    void theRealisticLoadWithTheServicesAsProcessesFinishesAndPrintsItsFigures(@TempDir Path workDir) throws Exception {
        // Given the realistic load alone, tiny, in group mode, the services each a process from the distribution
        E2eOptions options = E2eOptions.parse(new String[] {
            "--scenarios", "real",
            "--real-deploy", "processes",
            "--real-dist", System.getProperty("thoughtstream.dist.dir", "../launcher/target/thoughtstream"),
            // Quick to start on a shared machine: these JVMs only have to answer, not to be measured.
            "--real-java-opts", "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m",
            "--real-modes", "group",
            "--real-chats", "4",
            "--real-turn-every", "2s",
            "--real-ttft", "100ms",
            "--real-tokens-per-second", "200",
            "--real-warmup", "1s",
            "--real-duration", "3s",
            "--gap-ms", "300",
            "--lag-interval", "250ms",
            "--work-dir", workDir.toString(),
        });
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();

        // When it runs
        E2eBench.Report result;
        try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            result = E2eBench.run(options, out);
        }
        String report = bytes.toString(StandardCharsets.UTF_8);

        // Then it answered thoughts it matched to the model's streams, in processes it measured from /proc
        assertEquals(1, result.real().size(), report);
        E2eBench.Realistic real = result.real().get(0);
        assertEquals("processes", real.deploy(), report);
        assertTrue(real.result().model().matched() > 0, report);
        ProcessUsage.Spent processes = real.result().processes();
        assertTrue(processes != null, "the services' processes were measured:\n" + report);
        for (String service : List.of("ingest", "chunker", "llm-processor", "emitter")) {
            assertTrue(processes.byName().get(service).cpuMs() > 0, service + " spent no CPU:\n" + report);
        }
        // and printed the section with its percentiles, the in-flight gauge read from /metrics and the CPU by process
        for (String line : List.of(
                "== 7. realistic load, LLM_MODE=group, services as processes",
                "services each a JVM process of its own",
                // the image's options, then the ones given, as JAVA_OPTS comes after them
                "-XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx256m "
                        + "-jar",
                "from its /metrics",
                // (a verdict, whichever: a starved machine may leave the lag sampler no sample in so short a window)
                "  verdict: ",
                "== end")) {
            assertTrue(report.contains(line), "missing '" + line + "' in:\n" + report);
        }
        String byProcess = lineStartingWith(report, "    by process (/proc), ms per thought:");
        for (String process : List.of("ingest ", "chunker ", "llm-processor ", "emitter ", "redis-server ")) {
            assertTrue(byProcess.contains(process), "no " + process + "in '" + byProcess + "'");
        }
        assertTrue(report.contains("    the whole machine (/proc/stat"), report);
        for (String figure : List.of("    p50", "  person's wait for part 1 after the gap:", "    after the model")) {
            String line = lineStartingWith(report, figure);
            assertTrue(PERCENTILES.matcher(line).find(), "no percentiles with samples in '" + line + "'");
        }
    }

    private static String lineStartingWith(String report, String start) {
        int i = report.indexOf(start);
        assertTrue(i >= 0, "no line with '" + start.strip() + "' in:\n" + report);
        int from = report.lastIndexOf('\n', i) + 1;
        int to = report.indexOf('\n', from);
        return report.substring(from, to < 0 ? report.length() : to);
    }
}
