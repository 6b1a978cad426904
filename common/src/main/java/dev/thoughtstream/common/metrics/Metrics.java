package dev.thoughtstream.common.metrics;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.kafka.KafkaClientMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.DoubleSupplier;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClient;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.producer.Producer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one metrics facade: counters, gauges and latency histograms on a Micrometer {@link PrometheusMeterRegistry},
 * exposed in Prometheus' text format by {@link #scrape()} (served on {@code /metrics} by {@link HttpEndpoints}).
 * Every service gets an instance through its constructor, and devstack shares one between the services of its JVM.
 * Micrometer's binders add what needs no code of ours: the JVM ({@link #bindJvm()}) and each Kafka client
 * ({@link #bindKafka}, {@link #bind}).
 *
 * <p>A series is a metric name plus label pairs, e.g. {@code counter("llm_calls_total", "...", "outcome", "ok")}.
 * Asking for the same series again returns the same instrument. Names follow Prometheus conventions
 * ({@code thoughtstream_} is prepended): counters end in {@code _total} and timers in {@code _seconds}, which is also
 * what Micrometer's Prometheus naming would add, so the name written here is the name scraped.
 */
public final class Metrics implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Metrics.class);
    public static final String PREFIX = "thoughtstream_";
    /** The exposition format {@link #scrape()} writes (Prometheus text 0.0.4). */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private static final Pattern NAME = Pattern.compile("[a-z_][a-z0-9_]*");
    /**
     * Latency buckets from 5 ms to 2 min: covers a Kafka hop and a slow LLM reply alike. Published as the timers'
     * service-level objectives, so each timer is a Prometheus histogram ({@code histogram_quantile} gives p99).
     */
    static final double[] BUCKETS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};

    private static final Duration[] SLOS = Arrays.stream(BUCKETS)
            .mapToObj(s -> Duration.ofNanos(Math.round(s * 1e9)))
            .toArray(Duration[]::new);

    private enum Type {
        COUNTER,
        GAUGE,
        HISTOGRAM
    }

    private record SeriesKey(String name, List<String> labels) {}

    /**
     * How often what is read from elsewhere is looked at again: the Kafka binders' search for meters their client
     * created since (a partition's lag once it is fetched; Micrometer's own default is a minute), and the gauges a
     * service refreshes on a timer of its own (a share group's lag, Telegram's backlog).
     */
    public static final Duration DEFAULT_REFRESH = Duration.ofSeconds(30);

    private final PrometheusMeterRegistry registry;
    private final Duration refresh;
    private final Map<String, Type> types = new ConcurrentHashMap<>();
    private final Map<SeriesKey, Object> series = new ConcurrentHashMap<>();
    private final List<AutoCloseable> binders = new CopyOnWriteArrayList<>();
    private boolean jvmBound;

    public Metrics() {
        this(DEFAULT_REFRESH);
    }

    /**
     * A registry whose refreshes ({@link #refresh()}) run every {@code refresh}: tests that read a partition's lag
     * or a refreshed gauge soon after it appears ask for a short one; services use {@link #DEFAULT_REFRESH}.
     */
    public Metrics(Duration refresh) {
        if (refresh == null || refresh.isNegative() || refresh.isZero()) {
            throw new IllegalArgumentException("the refresh interval must be positive: " + refresh);
        }
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        this.refresh = refresh;
    }

    /** How often the Kafka binders and the services' refreshed gauges look again ({@link #DEFAULT_REFRESH}). */
    public Duration refresh() {
        return refresh;
    }

    /** A monotonically increasing count. */
    public static final class Counter {
        private final io.micrometer.core.instrument.Counter counter;

        private Counter(io.micrometer.core.instrument.Counter counter) {
            this.counter = counter;
        }

        public void increment() {
            counter.increment();
        }

        public void add(long n) {
            if (n < 0) {
                throw new IllegalArgumentException("a counter only goes up");
            }
            counter.increment(n);
        }

        public long count() {
            return (long) counter.count();
        }
    }

    /** A latency distribution in {@link #BUCKETS}, with count and sum. */
    public static final class Timer {
        private final io.micrometer.core.instrument.Timer timer;

        private Timer(io.micrometer.core.instrument.Timer timer) {
            this.timer = timer;
        }

        public void record(Duration d) {
            timer.record(d);
        }

        public void recordMillis(long ms) {
            timer.record(ms, TimeUnit.MILLISECONDS);
        }

        public long count() {
            return timer.count();
        }

        public double sumSeconds() {
            return timer.totalTime(TimeUnit.SECONDS);
        }
    }

    /** Counts read from elsewhere at scrape time; every source registered for a series adds to it. */
    private record CountSources(List<LongSupplier> sources) {
        long sum() {
            return sources.stream().mapToLong(LongSupplier::getAsLong).sum();
        }
    }

    /** The registry behind the facade, for a caller that binds Micrometer meters itself. */
    public MeterRegistry registry() {
        return registry;
    }

    public Counter counter(String name, String help, String... labels) {
        SeriesKey key = key(name, Type.COUNTER, labels);
        return (Counter) series.computeIfAbsent(
                key,
                k -> new Counter(io.micrometer.core.instrument.Counter.builder(PREFIX + name)
                        .description(help)
                        .tags(labels)
                        .register(registry)));
    }

    /**
     * A counter kept elsewhere (a plain {@code AtomicLong} of a component that has no {@code Metrics}), read at
     * scrape time. Registering the same series again adds that source to it: two components counting the same
     * thing in one process (devstack) sum up.
     */
    public void counter(String name, String help, LongSupplier count, String... labels) {
        Objects.requireNonNull(count, "count");
        SeriesKey key = key(name, Type.COUNTER, labels);
        CountSources sources = (CountSources) series.computeIfAbsent(key, k -> {
            CountSources s = new CountSources(new CopyOnWriteArrayList<>());
            FunctionCounter.builder(PREFIX + name, s, CountSources::sum)
                    .description(help)
                    .tags(labels)
                    .register(registry);
            return s;
        });
        sources.sources().add(count);
    }

    public Timer timer(String name, String help, String... labels) {
        SeriesKey key = key(name, Type.HISTOGRAM, labels);
        return (Timer) series.computeIfAbsent(
                key,
                k -> new Timer(io.micrometer.core.instrument.Timer.builder(PREFIX + name)
                        .description(help)
                        .tags(labels)
                        .serviceLevelObjectives(SLOS)
                        .register(registry)));
    }

    /** A value read at scrape time (queue sizes, lag, open thoughts...). Registering a series again replaces it. */
    @SuppressWarnings("unchecked")
    public void gauge(String name, String help, DoubleSupplier value, String... labels) {
        Objects.requireNonNull(value, "value");
        SeriesKey key = key(name, Type.GAUGE, labels);
        AtomicReference<DoubleSupplier> current = (AtomicReference<DoubleSupplier>) series.computeIfAbsent(key, k -> {
            AtomicReference<DoubleSupplier> ref = new AtomicReference<>(value);
            // Strong: the facade's caller keeps no reference to the gauge, only to what it reads.
            Gauge.builder(PREFIX + name, ref, r -> r.get().getAsDouble())
                    .description(help)
                    .tags(labels)
                    .strongReference(true)
                    .register(registry);
            return ref;
        });
        current.set(value);
    }

    /**
     * Binds the JVM's metrics (memory, GC, threads, classes, CPU, uptime: {@code jvm_*}, {@code process_*},
     * {@code system_*}) once per registry; a process serving {@code /metrics} does this.
     */
    public synchronized void bindJvm() {
        if (jvmBound) {
            return;
        }
        jvmBound = true;
        new JvmMemoryMetrics().bindTo(registry);
        bind(new JvmGcMetrics());
        JvmThreadMetrics threads = new JvmThreadMetrics();
        threads.bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** Binds a producer's metrics ({@code kafka_producer_*}) until the returned handle is closed. */
    public Binding bindKafka(Producer<?, ?> producer) {
        return bindRefreshing((scheduler, every) -> new KafkaClientMetrics(producer, List.of(), scheduler, every));
    }

    /** Binds a consumer's metrics ({@code kafka_consumer_*}, lag included) until the returned handle is closed. */
    public Binding bindKafka(Consumer<?, ?> consumer) {
        return bindRefreshing((scheduler, every) -> new KafkaClientMetrics(consumer, List.of(), scheduler, every));
    }

    /** Binds an admin client's metrics ({@code kafka_admin_client_*}) until the returned handle is closed. */
    public Binding bindKafka(Admin admin) {
        if (!(admin instanceof AdminClient client)) {
            throw new IllegalArgumentException("Micrometer binds an AdminClient, not a " + admin.getClass());
        }
        return bindRefreshing((scheduler, every) -> new KafkaClientMetrics(client, List.of(), scheduler, every));
    }

    /**
     * Binds a Kafka binder of Micrometer's that looks for new meters every {@link #refresh()}, on a scheduler thread
     * of its own that stops with the returned handle (each binder has its own: with a shared one, Micrometer would go
     * on refreshing a closed client). The chunker binds its {@code KafkaStreamsMetrics} so (common itself does not
     * depend on Kafka Streams): {@code bindRefreshing((s, every) -> new KafkaStreamsMetrics(streams, List.of(), s,
     * every))}.
     */
    public <B extends MeterBinder & AutoCloseable> Binding bindRefreshing(
            BiFunction<ScheduledExecutorService, Duration, B> binder) {
        ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "micrometer-kafka-metrics");
            t.setDaemon(true);
            return t;
        });
        B bound;
        try {
            bound = binder.apply(scheduler, refresh);
            bound.bindTo(registry);
        } catch (RuntimeException | Error e) {
            scheduler.shutdownNow();
            throw e;
        }
        return track(() -> {
            // A scheduler we passed in is the caller's to stop: Micrometer leaves it running.
            scheduler.shutdownNow();
            bound.close();
        });
    }

    /**
     * Binds what a binder of Micrometer's measures until the returned handle (or this registry) is closed. A Kafka
     * binder goes through {@link #bindRefreshing} instead, so it refreshes every {@link #refresh()}.
     */
    public <B extends MeterBinder & AutoCloseable> Binding bind(B binder) {
        binder.bindTo(registry);
        return track(binder);
    }

    /**
     * A bound binder. Closing a Kafka binder stops its refresh thread (each has its own: with a shared scheduler,
     * Micrometer would go on refreshing a closed client) and removes the client's meters, so a client of the same
     * id bound later registers its own. Closing twice is fine.
     */
    public interface Binding extends AutoCloseable {
        @Override
        void close();
    }

    private Binding track(AutoCloseable binder) {
        Binding once = new Binding() {
            private boolean closed;

            @Override
            public synchronized void close() {
                if (closed) {
                    return;
                }
                closed = true;
                binders.remove(this);
                try {
                    binder.close();
                } catch (Exception e) {
                    LOG.warn("error while closing a metrics binder (continuing): {}", e.toString());
                }
            }
        };
        binders.add(once);
        return once;
    }

    private SeriesKey key(String name, Type type, String[] labels) {
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("metric name '" + name + "' must match " + NAME);
        }
        Type existing = types.putIfAbsent(name, type);
        if (existing != null && existing != type) {
            throw new IllegalArgumentException("metric " + name + " is a " + existing + ", not a " + type);
        }
        return new SeriesKey(name, List.of(checkLabels(labels)));
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

    /** Everything, in Prometheus' text exposition format 0.0.4 ({@link #CONTENT_TYPE}). */
    public String scrape() {
        return registry.scrape(CONTENT_TYPE);
    }

    /** Stops the binders (GC listeners, Kafka refreshes); the meters stay readable. */
    @Override
    public synchronized void close() {
        for (AutoCloseable binder : List.copyOf(binders)) {
            try {
                binder.close();
            } catch (Exception e) {
                LOG.warn("error while closing a metrics binder (continuing): {}", e.toString());
            }
        }
        binders.clear();
    }
}
