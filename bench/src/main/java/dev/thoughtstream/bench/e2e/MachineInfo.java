package dev.thoughtstream.bench.e2e;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The machine a run was made on, in one line: a figure without it means nothing. */
public final class MachineInfo {
    private static final Logger LOG = LoggerFactory.getLogger(MachineInfo.class);

    private MachineInfo() {}

    public static String describe() {
        Runtime rt = Runtime.getRuntime();
        long totalMemory = -1;
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
            totalMemory = os.getTotalMemorySize();
        }
        double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
        return String.format(Locale.ROOT,
                "%d cores (%s), %s RAM, JDK %s (%s), max heap %s, %s %s %s, load average %.2f at start",
                rt.availableProcessors(), cpuModel().orElse("cpu model unknown"), gib(totalMemory),
                System.getProperty("java.runtime.version"), System.getProperty("java.vm.name"), gib(rt.maxMemory()),
                System.getProperty("os.name"), System.getProperty("os.version"), System.getProperty("os.arch"), load);
    }

    private static String gib(long bytes) {
        return bytes < 0 ? "unknown" : String.format(Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
    }

    private static Optional<String> cpuModel() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(cpuinfo)) {
            return Optional.empty();
        }
        try (var lines = Files.lines(cpuinfo)) {
            return lines.filter(l -> l.startsWith("model name"))
                    .map(l -> l.substring(l.indexOf(':') + 1).trim())
                    .findFirst();
        } catch (IOException | RuntimeException e) {
            LOG.debug("cannot read {}: {}", cpuinfo, e.toString());
            return Optional.empty();
        }
    }
}
