package dev.thoughtstream.bench.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * What other processes of this host (the services run as processes of their own, redis-server) spent between two
 * moments, read from Linux's {@code /proc} (proc(5)): each process's user + system CPU ({@code stat} fields 14 and
 * 15, in clock ticks), the part of it its JVM's compiler threads and its garbage collector and VM threads spent
 * (by the names HotSpot gives them: {@code C2 CompilerThre}, {@code GC Thread#0}, {@code G1 Conc#0},
 * {@code VM Thread}, ...), and its resident memory at the end ({@code VmRSS} of {@code status}). Each such thread is
 * counted from its value at the first moment (from zero when it started in between); one that ended in between
 * (HotSpot starts and stops compiler threads as the queue needs) counts in its process's total only, so the JIT and
 * GC shares are at least what they print.
 */
final class ProcessUsage {
    /** USER_HZ: the unit of {@code stat}'s CPU times; 100 on every Linux the bench runs on (see sysconf(3)). */
    private static final double TICKS_PER_SECOND = 100;

    /** One process at one moment; CPU in ms; its JIT and its GC and VM threads, by thread id. */
    record Proc(long pid, double cpuMs, Map<Long, Double> jitMs, Map<Long, Double> gcMs, long rssBytes) {}

    /** The named processes, and the CPU time every core of the machine spent busy so far (NaN if unknown). */
    record Snapshot(long atNanos, Map<String, Proc> byName, double machineBusyMs) {}

    /** One process between two snapshots. */
    record Use(double cpuMs, double jitMs, double gcMs, long rssBytes) {}

    /**
     * Every process between two snapshots, in the order they were named, and the machine's cores busy on average
     * (everything running on it, the processes of others included).
     */
    record Spent(double seconds, Map<String, Use> byName, double machineBusyCores) {

        /** {@code ingest 2.1 (JIT 0.1, GC 0.0; 180 MiB), ...}: CPU per {@code per}, and each one's RSS at the end. */
        String format(double per, String unit) {
            StringBuilder s = new StringBuilder();
            byName.forEach((name, u) -> s.append(s.length() == 0 ? "" : ", ")
                    .append(String.format(
                            Locale.ROOT,
                            "%s %.1f (JIT %.1f, GC+VM %.1f; RSS %d MiB)",
                            name,
                            u.cpuMs() / per,
                            u.jitMs() / per,
                            u.gcMs() / per,
                            u.rssBytes() / (1024 * 1024))));
            return s + " " + unit;
        }
    }

    private final Path proc;

    /** {@code proc}: where the proc filesystem is mounted ({@code /proc}). */
    ProcessUsage(Path proc) {
        this.proc = proc;
    }

    /** Now, for each named pid; a process that has ended counts as having spent nothing more. */
    Snapshot take(Map<String, Long> pids) {
        Map<String, Proc> byName = new LinkedHashMap<>();
        long at = System.nanoTime();
        pids.forEach((name, pid) -> byName.put(name, read(pid)));
        return new Snapshot(at, byName, machineBusyMs());
    }

    static Spent between(Snapshot a, Snapshot b) {
        Map<String, Use> byName = new LinkedHashMap<>();
        b.byName().forEach((name, end) -> {
            Proc start = a.byName().get(name);
            if (start == null || start.pid() != end.pid()) {
                return;
            }
            byName.put(
                    name,
                    new Use(
                            end.cpuMs() - start.cpuMs(),
                            sinceStart(start.jitMs(), end.jitMs()),
                            sinceStart(start.gcMs(), end.gcMs()),
                            end.rssBytes()));
        });
        double seconds = (b.atNanos() - a.atNanos()) / 1e9;
        return new Spent(seconds, byName, (b.machineBusyMs() - a.machineBusyMs()) / 1000.0 / seconds);
    }

    /**
     * The first line of {@code /proc/stat}: every core's time in ticks, by state; busy is all but {@code idle} and
     * {@code iowait} (fields 4 and 5).
     */
    private double machineBusyMs() {
        try {
            String cpu = Files.readAllLines(proc.resolve("stat"), StandardCharsets.US_ASCII)
                    .get(0);
            String[] fields = cpu.strip().split("\\s+");
            long busy = 0;
            for (int i = 1; i < fields.length; i++) {
                // guest and guest_nice (9 and 10) are already counted in user and nice.
                if (i != 4 && i != 5 && i < 9) {
                    busy += Long.parseLong(fields[i]);
                }
            }
            return busy * 1000.0 / TICKS_PER_SECOND;
        } catch (NoSuchFileException e) {
            return Double.NaN;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + proc.resolve("stat"), e);
        }
    }

    /** What the threads alive at the end spent since the start (all of it for those started in between). */
    private static double sinceStart(Map<Long, Double> start, Map<Long, Double> end) {
        double ms = 0;
        for (Map.Entry<Long, Double> e : end.entrySet()) {
            ms += e.getValue() - start.getOrDefault(e.getKey(), 0.0);
        }
        return ms;
    }

    private Proc read(long pid) {
        Path dir = proc.resolve(Long.toString(pid));
        try {
            double cpu = cpuMs(dir.resolve("stat"));
            Map<Long, Double> jit = new HashMap<>();
            Map<Long, Double> gc = new HashMap<>();
            List<Path> tasks;
            try (Stream<Path> s = Files.list(dir.resolve("task"))) {
                tasks = s.toList();
            }
            for (Path task : tasks) {
                try {
                    String name = Files.readString(task.resolve("comm"), StandardCharsets.UTF_8)
                            .strip();
                    long tid = Long.parseLong(task.getFileName().toString());
                    if (isCompiler(name)) {
                        jit.put(tid, cpuMs(task.resolve("stat")));
                    } else if (isGcOrVm(name)) {
                        gc.put(tid, cpuMs(task.resolve("stat")));
                    }
                } catch (NoSuchFileException e) {
                    // The thread ended while the list was read: its time is in the process's total.
                }
            }
            return new Proc(pid, cpu, jit, gc, rssBytes(dir.resolve("status")));
        } catch (NoSuchFileException e) {
            return new Proc(pid, 0, Map.of(), Map.of(), 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + dir, e);
        }
    }

    static boolean isCompiler(String threadName) {
        return threadName.startsWith("C1 Compiler") || threadName.startsWith("C2 Compiler");
    }

    static boolean isGcOrVm(String threadName) {
        return threadName.startsWith("GC Thread")
                || threadName.startsWith("G1 ")
                || threadName.startsWith("VM Thread")
                || threadName.startsWith("VM Periodic");
    }

    /** utime + stime of a {@code stat} file; the command name before them may hold spaces and parentheses. */
    static double cpuMs(Path stat) throws IOException {
        String s = Files.readString(stat, StandardCharsets.US_ASCII);
        String[] fields = s.substring(s.lastIndexOf(')') + 2).split(" ");
        // fields[0] is field 3 (state): utime is field 14, stime field 15.
        long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
        return ticks * 1000.0 / TICKS_PER_SECOND;
    }

    private static long rssBytes(Path status) throws IOException {
        for (String line : Files.readAllLines(status, StandardCharsets.US_ASCII)) {
            if (line.startsWith("VmRSS:")) {
                String[] parts = line.substring("VmRSS:".length()).strip().split("\\s+");
                return Long.parseLong(parts[0]) * 1024;
            }
        }
        return 0;
    }
}
