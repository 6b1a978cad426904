package dev.thoughtstream.common.metrics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.DoubleAdder;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.DoubleSupplier;
import java.util.regex.Pattern;

/**
 * The one metrics facade: counters, gauges and latency histograms, exposed in Prometheus' text format by
 * {@link #scrape()} (served on {@code /metrics} by {@link HttpEndpoints}). Small on purpose; every service gets an
 * instance through its constructor, and devstack shares one between the services of its JVM.
 *
 * <p>A series is a metric name plus label pairs, e.g. {@code counter("llm_calls_total", "...", "outcome", "ok")}.
 * Asking for the same series again returns the same instrument. Names follow Prometheus conventions
 * ({@code thoughtstream_} is prepended): counters end in {@code _total}, durations are in seconds.
 */
public final class Metrics {
    public static final String PREFIX = "thoughtstream_";
    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]*");
    /** Latency buckets from 5 ms to 2 min: covers a Kafka hop and a slow LLM reply alike. */
    static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};

    private enum Type {
        COUNTER,
        GAUGE,
        HISTOGRAM
    }

    private record Family(String name, String help, Type type) {}

    private record SeriesKey(String name, List<String> labels) {}

    private final Map<String, Family> families = new ConcurrentHashMap<>();
    private final Map<SeriesKey, Object> series = new ConcurrentHashMap<>();

    /** A monotonically increasing count. */
    public static final class Counter {
        private final LongAdder value = new LongAdder();

        public void increment() {
            value.increment();
        }

        public void add(long n) {
            if (n < 0) {
                throw new IllegalArgumentException("a counter only goes up");
            }
            value.add(n);
        }

        public long count() {
            return value.sum();
        }
    }

    /** A latency (or size) distribution in fixed buckets, with count and sum. */
    public static final class Timer {
        private final LongAdder[] buckets = new LongAdder[BUCKETS.length];
        private final LongAdder count = new LongAdder();
        private final DoubleAdder sum = new DoubleAdder();

        Timer() {
            for (int i = 0; i < buckets.length; i++) {
                buckets[i] = new LongAdder();
            }
        }

        public void record(Duration d) {
            recordSeconds(d.toNanos() / 1e9);
        }

        public void recordMillis(long ms) {
            recordSeconds(ms / 1e3);
        }

        private void recordSeconds(double seconds) {
            for (int i = 0; i < BUCKETS.length; i++) {
                if (seconds <= BUCKETS[i]) {
                    buckets[i].increment();
                    break;
                }
            }
            count.increment();
            sum.add(seconds);
        }

        public long count() {
            return count.sum();
        }

        public double sumSeconds() {
            return sum.sum();
        }
    }

    private record Gauge(DoubleSupplier value) {}

    public Counter counter(String name, String help, String... labels) {
        return (Counter) instrument(name, help, Type.COUNTER, labels, Counter::new);
    }

    public Timer timer(String name, String help, String... labels) {
        return (Timer) instrument(name, help, Type.HISTOGRAM, labels, Timer::new);
    }

    /** A value read at scrape time (queue sizes, lag, open thoughts...). Registering a series again replaces it. */
    public void gauge(String name, String help, DoubleSupplier value, String... labels) {
        family(name, help, Type.GAUGE);
        series.put(new SeriesKey(name, List.of(checkLabels(labels))), new Gauge(value));
    }

    private Object instrument(
            String name, String help, Type type, String[] labels, java.util.function.Supplier<Object> create) {
        family(name, help, type);
        return series.computeIfAbsent(new SeriesKey(name, List.of(checkLabels(labels))), k -> create.get());
    }

    private void family(String name, String help, Type type) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("metric name '" + name + "' must match " + NAME);
        }
        Family f = families.computeIfAbsent(name, n -> new Family(n, help, type));
        if (f.type() != type) {
            throw new IllegalArgumentException("metric " + name + " is a " + f.type() + ", not a " + type);
        }
    }

    private static String[] checkLabels(String[] labels) {
        if (labels.length % 2 != 0) {
            throw new IllegalArgumentException("labels come in name/value pairs: " + Arrays.toString(labels));
        }
        for (int i = 0; i < labels.length; i += 2) {
            if (!NAME.matcher(labels[i]).matches()) {
                throw new IllegalArgumentException("label name '" + labels[i] + "' must match " + NAME);
            }
            Objects.requireNonNull(labels[i + 1], "label value");
        }
        return labels;
    }

    /** Everything, in Prometheus' text exposition format 0.0.4. */
    public String scrape() {
        StringBuilder out = new StringBuilder();
        Map<String, List<Map.Entry<SeriesKey, Object>>> byName = new TreeMap<>();
        for (Map.Entry<SeriesKey, Object> e : series.entrySet()) {
            byName.computeIfAbsent(e.getKey().name(), n -> new ArrayList<>()).add(e);
        }
        for (Map.Entry<String, List<Map.Entry<SeriesKey, Object>>> metric : byName.entrySet()) {
            Family f = families.get(metric.getKey());
            String full = PREFIX + f.name();
            out.append("# HELP ")
                    .append(full)
                    .append(' ')
                    .append(f.help().replace("\\", "\\\\").replace("\n", "\\n"))
                    .append('\n');
            out.append("# TYPE ")
                    .append(full)
                    .append(' ')
                    .append(f.type().name().toLowerCase(Locale.ROOT))
                    .append('\n');
            for (Map.Entry<SeriesKey, Object> s : metric.getValue()) {
                List<String> labels = s.getKey().labels();
                Object v = s.getValue();
                if (v instanceof Counter c) {
                    line(out, full, labels, null, c.count());
                } else if (v instanceof Gauge g) {
                    line(out, full, labels, null, g.value().getAsDouble());
                } else if (v instanceof Timer t) {
                    long cumulative = 0;
                    for (int i = 0; i < BUCKETS.length; i++) {
                        cumulative += t.buckets[i].sum();
                        line(out, full + "_bucket", labels, number(BUCKETS[i]), cumulative);
                    }
                    line(out, full + "_bucket", labels, "+Inf", t.count());
                    line(out, full + "_sum", labels, null, t.sumSeconds());
                    line(out, full + "_count", labels, null, t.count());
                }
            }
        }
        return out.toString();
    }

    private static void line(StringBuilder out, String name, List<String> labels, String le, double value) {
        out.append(name);
        if (!labels.isEmpty() || le != null) {
            out.append('{');
            for (int i = 0; i < labels.size(); i += 2) {
                if (i > 0) {
                    out.append(',');
                }
                out.append(labels.get(i))
                        .append("=\"")
                        .append(escape(labels.get(i + 1)))
                        .append('"');
            }
            if (le != null) {
                out.append(labels.isEmpty() ? "" : ",")
                        .append("le=\"")
                        .append(le)
                        .append('"');
            }
            out.append('}');
        }
        out.append(' ').append(number(value)).append('\n');
    }

    private static String number(double v) {
        if (v == Math.rint(v) && !Double.isInfinite(v) && Math.abs(v) < 1e15) {
            return Long.toString((long) v);
        }
        return Double.toString(v);
    }

    private static String escape(String s) {
        return s.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
