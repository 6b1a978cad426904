package dev.thoughtstream.common.tracing;

import io.opentelemetry.api.common.Attributes;
import io.opentelemetry.api.common.AttributesBuilder;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.exporter.otlp.http.trace.OtlpHttpSpanExporter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.resources.Resource;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.SpanProcessor;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A process's tracing: off (the default, {@link #off()}: no SDK, no thread, no header), or the OpenTelemetry SDK
 * exporting OTLP/http to {@code OTEL_EXPORTER_OTLP_ENDPOINT} through a {@link BatchSpanProcessor}. Each service of the
 * process gets its own tracer provider ({@link #forService}), so its spans carry its {@code service.name}: devstack's
 * four services show as four services in the trace viewer, as deployed ones do. Built lazily, on a service's first
 * request; closed (spans still queued are flushed) with the process's {@code Infra}.
 */
public final class Tracing implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Tracing.class);
    /** The resource attribute of every service: the pipeline they belong to. */
    static final String NAMESPACE = "thoughtstream";
    /** How long closing waits for the last spans to reach the collector. */
    static final Duration FLUSH_TIMEOUT = Duration.ofSeconds(5);

    private final Optional<TracingSettings> settings;
    private final Supplier<SpanProcessor> processors;
    private final Optional<String> instanceId;
    private final Map<String, Provided> services = new ConcurrentHashMap<>();
    private volatile boolean closed;

    private record Provided(StageTracer tracer, SdkTracerProvider provider) {}

    private Tracing(
            Optional<TracingSettings> settings, Supplier<SpanProcessor> processors, Optional<String> instanceId) {
        this.settings = settings;
        this.processors = processors;
        this.instanceId = instanceId;
    }

    /** No tracing: every service gets {@link StageTracer#noop()}. */
    public static Tracing off() {
        return new Tracing(Optional.empty(), null, Optional.empty());
    }

    /**
     * Tracing as {@code settings} say: off without an endpoint, else OTLP/http export (batched, on a thread of the
     * SDK's started with the first service's tracer).
     *
     * @param instanceId this process's {@code INSTANCE_ID}, as {@code service.instance.id}, when it has one
     */
    public static Tracing from(TracingSettings settings, Optional<String> instanceId) {
        if (!settings.enabled()) {
            return off();
        }
        String url = settings.tracesUrl().orElseThrow();
        return new Tracing(
                Optional.of(settings),
                () -> BatchSpanProcessor.builder(OtlpHttpSpanExporter.builder()
                                .setEndpoint(url)
                                .setTimeout(Duration.ofSeconds(10))
                                .build())
                        .build(),
                instanceId);
    }

    /**
     * Spans handed to {@code exporter} as each ends, synchronously (tests, with the SDK's in-memory exporter); the
     * exporter is shut down with this.
     */
    public static Tracing exportingTo(SpanExporter exporter) {
        Objects.requireNonNull(exporter, "exporter");
        return new Tracing(
                Optional.of(TracingSettings.OFF), () -> SimpleSpanProcessor.create(exporter), Optional.empty());
    }

    /** True when spans are recorded and exported. */
    public boolean enabled() {
        return settings.isPresent();
    }

    /** The tracer of service {@code name} ({@code service.name}, unless {@code OTEL_SERVICE_NAME} replaces it). */
    public StageTracer forService(String name) {
        if (settings.isEmpty()) {
            return StageTracer.noop();
        }
        if (closed) {
            throw new IllegalStateException("tracing is closed");
        }
        return services.computeIfAbsent(name, this::provide).tracer();
    }

    private Provided provide(String name) {
        TracingSettings s = settings.orElseThrow();
        AttributesBuilder attributes = Attributes.builder();
        s.resourceAttributes().forEach(attributes::put);
        attributes.put("service.namespace", NAMESPACE);
        attributes.put("service.name", s.serviceName().orElse(name));
        instanceId.ifPresent(id -> attributes.put("service.instance.id", id));
        SdkTracerProvider provider = SdkTracerProvider.builder()
                .setResource(Resource.getDefault().merge(Resource.create(attributes.build())))
                .addSpanProcessor(processors.get())
                .build();
        OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
                .setTracerProvider(provider)
                .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
                .build();
        s.tracesUrl().ifPresent(url -> LOG.info("{}: exporting traces to {}", name, url));
        return new Provided(new StageTracer(sdk, true), provider);
    }

    /** Flushes the spans still queued (up to {@link #FLUSH_TIMEOUT}) and stops the exporters. */
    @Override
    public void close() {
        closed = true;
        for (Map.Entry<String, Provided> e : services.entrySet()) {
            var done = e.getValue().provider().shutdown().join(FLUSH_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            if (!done.isSuccess()) {
                LOG.warn("{}: not every span was exported before shutting down", e.getKey());
            }
        }
        services.clear();
    }
}
