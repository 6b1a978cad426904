package dev.thoughtstream.llm.generate;

import dev.thoughtstream.common.tracing.StageTracer;
import dev.thoughtstream.common.tracing.TraceAttributes;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.context.Context;
import java.time.Duration;

/**
 * The spans of one generation's model calls: one per call (each retry its own), a child of the generation's span,
 * named and attributed as the OpenTelemetry GenAI semantic conventions name a chat call ({@code chat <model>},
 * {@code gen_ai.*}), plus the first-token latency. It never records the prompt, the answer or the API key.
 */
final class ModelCallSpans {
    static final AttributeKey<String> OPERATION = AttributeKey.stringKey("gen_ai.operation.name");
    static final AttributeKey<String> PROVIDER = AttributeKey.stringKey("gen_ai.provider.name");
    static final AttributeKey<String> MODEL = AttributeKey.stringKey("gen_ai.request.model");
    static final AttributeKey<Long> INPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.input_tokens");
    static final AttributeKey<Long> OUTPUT_TOKENS = AttributeKey.longKey("gen_ai.usage.output_tokens");
    static final AttributeKey<String> ERROR_TYPE = AttributeKey.stringKey("error.type");
    static final AttributeKey<Long> CALL = AttributeKey.longKey("thoughtstream.model.call");
    static final AttributeKey<Long> PROMPT_ESTIMATE =
            AttributeKey.longKey("thoughtstream.model.prompt_tokens_estimated");
    static final AttributeKey<Long> FIRST_TOKEN_MS = AttributeKey.longKey("thoughtstream.model.first_token_ms");

    private final StageTracer tracer;
    private final String provider;
    private final String model;
    private final Context parent;

    ModelCallSpans(StageTracer tracer, String provider, String model, Context parent) {
        this.tracer = tracer;
        this.provider = provider;
        this.model = model;
        this.parent = parent;
    }

    /** The span of call {@code number} of reply {@code replyId}, starting now; null when tracing is off. */
    Span start(int number, String replyId, long chatId, long promptTokensEstimated) {
        if (!tracer.enabled()) {
            return null;
        }
        return tracer.span("chat " + model)
                .setParent(parent)
                .setSpanKind(SpanKind.CLIENT)
                .setAttribute(OPERATION, "chat")
                .setAttribute(PROVIDER, provider)
                .setAttribute(MODEL, model)
                .setAttribute(CALL, (long) number)
                .setAttribute(PROMPT_ESTIMATE, promptTokensEstimated)
                .setAttribute(TraceAttributes.CHAT_ID, chatId)
                .setAttribute(TraceAttributes.REPLY_ID, replyId)
                .startSpan();
    }

    /** The first token arrived {@code latency} after the request went out. */
    static void firstToken(Span span, Duration latency) {
        if (span != null) {
            span.setAttribute(FIRST_TOKEN_MS, latency.toMillis());
            span.addEvent("first token");
        }
    }

    /**
     * Ends the call's span: its outcome ({@code ok}, {@code truncated}, {@code error}, {@code timeout},
     * {@code cancelled}), the tokens the provider reported (else the deltas counted), and the error's kind.
     */
    static void end(Span span, String outcome, long outputTokens, long inputTokens, String errorKind) {
        if (span == null) {
            return;
        }
        span.setAttribute(TraceAttributes.OUTCOME, outcome);
        span.setAttribute(OUTPUT_TOKENS, outputTokens);
        if (inputTokens >= 0) {
            span.setAttribute(INPUT_TOKENS, inputTokens);
        }
        if (errorKind != null) {
            span.setAttribute(ERROR_TYPE, errorKind);
            span.setStatus(StatusCode.ERROR, errorKind);
        } else if (!outcome.equals("ok") && !outcome.equals("truncated")) {
            span.setStatus(StatusCode.ERROR, outcome);
        }
        span.end();
    }
}
