package dev.thoughtstream.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading processes' CPU from a proc filesystem (proc(5)'s layout, written here). */
class ProcessUsageTest {

    @Test
    void aProcessSpendsItsCpuDeltaAndItsCompilerAndGcThreadsTheirsCountedOnlyWhileTheyLive(@TempDir Path proc)
            throws IOException {
        // Given a JVM process at 1.00 s of CPU with a compiler thread (0.30 s) and a GC thread (0.10 s)
        Files.writeString(
                proc.resolve("stat"), "cpu  1000 0 500 9000 100 0 0 0 0 0\ncpu0 500 0 250 4500 50 0 0 0 0 0\n");
        process(proc, 42, 60, 40, 200_000);
        thread(proc, 42, 43, "C2 CompilerThre", 30);
        thread(proc, 42, 44, "GC Thread#0", 10);
        thread(proc, 42, 45, "main", 5);
        ProcessUsage usage = new ProcessUsage(proc);
        ProcessUsage.Snapshot start = usage.take(Map.of("chunker", 42L));

        // When, later, the process is at 2.50 s: that compiler thread ended, another one (0.20 s) started, the GC
        // thread spent 0.05 s more
        process(proc, 42, 150, 100, 300_000);
        Files.writeString(proc.resolve("stat"), "cpu  1200 0 600 9100 110 0 0 0 0 0\n");
        Path ended = proc.resolve("42/task/43");
        Files.delete(ended.resolve("comm"));
        Files.delete(ended.resolve("stat"));
        Files.delete(ended);
        thread(proc, 42, 46, "C1 CompilerThre", 20);
        thread(proc, 42, 44, "GC Thread#0", 15);
        ProcessUsage.Spent spent = ProcessUsage.between(start, usage.take(Map.of("chunker", 42L)));

        // Then the process spent 1.50 s, of which the live compiler thread 0.20 s and the GC thread 0.05 s
        ProcessUsage.Use chunker = spent.byName().get("chunker");
        assertEquals(1500, chunker.cpuMs(), 1e-9);
        assertEquals(200, chunker.jitMs(), 1e-9);
        assertEquals(50, chunker.gcMs(), 1e-9);
        assertEquals(300_000L * 1024, chunker.rssBytes());
        // and the machine's cores were busy 3 s (user 2 s + system 1 s) in that time
        assertEquals(3000, spent.machineBusyCores() * 1000 * spent.seconds(), 1e-6);
    }

    @Test
    void aProcessThatHasEndedSpendsNothing(@TempDir Path proc) {
        ProcessUsage usage = new ProcessUsage(proc);
        ProcessUsage.Snapshot start = usage.take(Map.of("ingest", 7L));

        ProcessUsage.Spent spent = ProcessUsage.between(start, usage.take(Map.of("ingest", 7L)));

        assertEquals(0, spent.byName().get("ingest").cpuMs());
    }

    /** {@code stat} with utime and stime in ticks (fields 14 and 15), a command name with a space and a ')'. */
    private static String stat(long pid, String comm, long utime, long stime) {
        return pid + " (" + comm + ") S 1 1 1 0 -1 4194560 100 0 0 0 " + utime + " " + stime
                + " 0 0 20 0 30 0 1000 2000000 500\n";
    }

    private static void process(Path proc, long pid, long utime, long stime, long rssKb) throws IOException {
        Path dir = Files.createDirectories(proc.resolve(Long.toString(pid)).resolve("task"));
        Files.writeString(dir.getParent().resolve("stat"), stat(pid, "java (x)", utime, stime));
        Files.writeString(dir.getParent().resolve("status"), "Name:\tjava\nVmRSS:\t  " + rssKb + " kB\nThreads:\t30\n");
    }

    private static void thread(Path proc, long pid, long tid, String name, long ticks) throws IOException {
        Path dir = Files.createDirectories(
                proc.resolve(Long.toString(pid)).resolve("task").resolve(Long.toString(tid)));
        Files.writeString(dir.resolve("comm"), name + "\n");
        Files.writeString(dir.resolve("stat"), stat(tid, name, ticks, 0));
    }
}
