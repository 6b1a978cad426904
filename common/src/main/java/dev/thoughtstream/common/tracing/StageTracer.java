package dev.thoughtstream.common.tracing;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.SpanBuilder;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import org.apache.kafka.common.header.Headers;

/**
 * What a stage traces with: its tracer, and the trace context read from and written to Kafka record headers (or a
 * map, for the chunker's state). From {@link Tracing#forService}; {@link #noop()} when tracing is off, where every
 * method returns at once without touching the headers, so an untraced pipeline carries no trace headers at all.
 */
public final class StageTracer {
    /** The instrumentation scope of every thoughtstream span. */
    static final String SCOPE = "dev.thoughtstream";

    private static final StageTracer NOOP = new StageTracer(OpenTelemetry.noop(), false);

    private final Tracer tracer;
    private final TextMapPropagator propagator;
    private final boolean enabled;

    StageTracer(OpenTelemetry openTelemetry, boolean enabled) {
        Objects.requireNonNull(openTelemetry, "openTelemetry");
        this.tracer = openTelemetry.getTracer(SCOPE);
        this.propagator = openTelemetry.getPropagators().getTextMapPropagator();
        this.enabled = enabled;
    }

    /** Traces nothing, propagates nothing. */
    public static StageTracer noop() {
        return NOOP;
    }

    /** False when tracing is off: spans are no-ops and no context is read or written. */
    public boolean enabled() {
        return enabled;
    }

    /** A span named {@code name}; its parent is the current context unless the builder is told otherwise. */
    public SpanBuilder span(String name) {
        return tracer.spanBuilder(name);
    }

    /** The trace context a record carries; the root context when it carries none (or tracing is off). */
    public Context extract(Headers headers) {
        if (!enabled || headers == null) {
            return Context.root();
        }
        return propagator.extract(Context.root(), headers, KafkaHeaders.GETTER);
    }

    /** Writes {@code context}'s span into {@code headers} (replacing any trace headers there). */
    public void inject(Context context, Headers headers) {
        if (enabled && headers != null) {
            propagator.inject(context, headers, KafkaHeaders.SETTER);
        }
    }

    /** {@link #extract(Headers)} then {@link #toMap}: the context of a record, to be kept in state. Null if none. */
    public Map<String, String> carrier(Headers headers) {
        return enabled ? toMap(extract(headers)) : null;
    }

    /** The context as a small map ({@code traceparent}, ...) to keep in state; null when there is nothing to keep. */
    public Map<String, String> toMap(Context context) {
        if (!enabled) {
            return null;
        }
        Map<String, String> map = new HashMap<>(2);
        propagator.inject(context, map, (m, k, v) -> m.put(k, v));
        return map.isEmpty() ? null : map;
    }

    /** The context kept by {@link #toMap}; the root context for null or an empty map. */
    public Context fromMap(Map<String, String> map) {
        if (!enabled || map == null || map.isEmpty()) {
            return Context.root();
        }
        return propagator.extract(Context.root(), map, MAP_GETTER);
    }

    private static final TextMapGetter<Map<String, String>> MAP_GETTER = new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
            return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
            return carrier == null ? null : carrier.get(key);
        }
    };
}
