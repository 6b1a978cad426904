package dev.thoughtstream.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.stream.Stream;

/** What a benchmark ran on (every benchmark of this module prints it): a figure means nothing without it. */
public final class Machine {
    private Machine() {}

    /** A few lines: cores, memory, CPU, JDK, OS and the load average when the run started. */
    public static String describe() {
        Runtime runtime = Runtime.getRuntime();
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        String physical = os instanceof com.sun.management.OperatingSystemMXBean sun
                ? mib(sun.getTotalMemorySize()) + " physical, " + mib(sun.getFreeMemorySize()) + " free"
                : "physical size unknown";
        double load = os.getSystemLoadAverage();
        return String.join(
                System.lineSeparator(),
                "cores:  " + runtime.availableProcessors() + " available to the JVM (" + cpuModel() + ")",
                "memory: " + physical + "; JVM max heap " + mib(runtime.maxMemory()),
                "JDK:    " + System.getProperty("java.vm.vendor") + " " + System.getProperty("java.vm.name") + " "
                        + System.getProperty("java.runtime.version"),
                "OS:     " + System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"),
                "load:   " + (load < 0 ? "unknown" : String.format(Locale.ROOT, "%.2f", load))
                        + " (1-minute load average at start; the cores may be shared with other work)");
    }

    /** The same in one line, for the e2e report's header. */
    public static String oneLine() {
        Runtime runtime = Runtime.getRuntime();
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        String physical =
                os instanceof com.sun.management.OperatingSystemMXBean sun ? gib(sun.getTotalMemorySize()) : "unknown";
        return String.format(
                Locale.ROOT,
                "%d cores (%s), %s RAM, JDK %s (%s), max heap %s, %s %s %s, load average %.2f at start",
                runtime.availableProcessors(),
                cpuModel(),
                physical,
                System.getProperty("java.runtime.version"),
                System.getProperty("java.vm.name"),
                gib(runtime.maxMemory()),
                System.getProperty("os.name"),
                System.getProperty("os.version"),
                System.getProperty("os.arch"),
                os.getSystemLoadAverage());
    }

    private static String gib(long bytes) {
        return String.format(Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    }

    private static String cpuModel() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(cpuinfo)) {
            return "CPU model unknown";
        }
        try (Stream<String> lines = Files.lines(cpuinfo)) {
            return lines.filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).strip())
                    .findFirst()
                    .orElse("CPU model unknown");
        } catch (IOException | java.io.UncheckedIOException e) {
            return "CPU model unknown (" + e.getMessage() + ")";
        }
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.0f MiB", bytes / (1024.0 * 1024.0));
    }
}
