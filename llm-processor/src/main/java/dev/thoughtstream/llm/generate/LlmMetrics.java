package dev.thoughtstream.llm.generate;

import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.llm.model.ErrorKind;
import java.time.Duration;
import java.util.Objects;

/**
 * The generation side's metrics, all labelled with the provider (the facade prefixes {@code thoughtstream_}):
 * <ul>
 *   <li>{@code llm_calls_total{provider,outcome}}: model calls by how they ended: {@code ok} (finished
 *       normally), {@code truncated} (ended without a normal finish reason), {@code error} (failed, see
 *       {@code llm_errors_total}), {@code timeout} (cut off by the reply timeout), {@code cancelled} (the generation
 *       was cancelled, or the sink failed);
 *   <li>{@code llm_call_seconds{provider}}: a call from its request to its end, whatever the end;
 *   <li>{@code llm_first_token_seconds{provider}}: a call from its request to its first token;
 *   <li>{@code llm_tokens_total{provider}}: output tokens, from the provider's usage when it reports one, else the
 *       number of streamed deltas;
 *   <li>{@code llm_retries_total{provider,reason}}: retries scheduled, by the {@link ErrorKind} that caused them;
 *   <li>{@code llm_errors_total{provider,kind}}: failed calls by {@link ErrorKind};
 *   <li>{@code llm_generation_cancellations_total}: generations stopped by {@link ReplyGeneration#cancel()}.
 * </ul>
 */
public final class LlmMetrics {
    static final String CALLS = "llm_calls_total";
    static final String CALL_SECONDS = "llm_call_seconds";
    static final String FIRST_TOKEN_SECONDS = "llm_first_token_seconds";
    static final String TOKENS = "llm_tokens_total";
    static final String RETRIES = "llm_retries_total";
    static final String ERRORS = "llm_errors_total";
    static final String CANCELLATIONS = "llm_generation_cancellations_total";

    enum CallOutcome {
        OK("ok"),
        TRUNCATED("truncated"),
        ERROR("error"),
        TIMEOUT("timeout"),
        CANCELLED("cancelled");

        final String label;

        CallOutcome(String label) {
            this.label = label;
        }
    }

    private final Metrics metrics;
    private final String provider;
    private final Metrics.Timer callSeconds;
    private final Metrics.Timer firstTokenSeconds;
    private final Metrics.Counter tokens;
    private final Metrics.Counter cancellations;

    LlmMetrics(Metrics metrics, String provider) {
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.provider = Objects.requireNonNull(provider, "provider");
        // Registered up front, so dashboards see zeros rather than missing series.
        this.callSeconds = metrics.timer(CALL_SECONDS, "Model calls from request to end", "provider", provider);
        this.firstTokenSeconds =
                metrics.timer(FIRST_TOKEN_SECONDS, "Model calls from request to first token", "provider", provider);
        this.tokens = metrics.counter(TOKENS, "Output tokens of the model", "provider", provider);
        this.cancellations = metrics.counter(CANCELLATIONS, "Reply generations cancelled (stale or shutting down)");
        for (CallOutcome outcome : CallOutcome.values()) {
            calls(outcome);
        }
    }

    void callEnded(CallOutcome outcome, Duration took, long outputTokens) {
        calls(outcome).increment();
        callSeconds.record(took);
        if (outputTokens > 0) {
            tokens.add(outputTokens);
        }
    }

    void firstToken(Duration took) {
        firstTokenSeconds.record(took);
    }

    void error(ErrorKind kind) {
        metrics.counter(ERRORS, "Failed model calls by kind", "provider", provider, "kind", kind.label())
                .increment();
    }

    void retry(ErrorKind reason) {
        metrics.counter(
                        RETRIES,
                        "Model calls retried, by the error that caused it",
                        "provider",
                        provider,
                        "reason",
                        reason.label())
                .increment();
    }

    void cancellation() {
        cancellations.increment();
    }

    private Metrics.Counter calls(CallOutcome outcome) {
        return metrics.counter(CALLS, "Model calls by how they ended", "provider", provider, "outcome", outcome.label);
    }
}
