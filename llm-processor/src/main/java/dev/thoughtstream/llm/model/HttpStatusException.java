package dev.thoughtstream.llm.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.langchain4j.exception.HttpException;
import dev.thoughtstream.common.serde.Json;
import java.io.IOException;
import java.util.Optional;

/**
 * An error status from the model's server, as {@link AbortableHttpClient} reports it: LangChain4j's
 * {@link HttpException} (so LangChain4j maps it to its usual exceptions, 429 to {@code RateLimitException} and so on,
 * keeping this one as the cause) plus the {@code Retry-After} header, which the stock client drops.
 */
public final class HttpStatusException extends HttpException {
    private static final long serialVersionUID = 1L;

    private static final String INSUFFICIENT_QUOTA = "insufficient_quota";

    private final String retryAfter;
    private final boolean quotaExhausted;

    /**
     * @param statusCode the HTTP status
     * @param body       the response body (the provider's error message)
     * @param retryAfter the raw {@code Retry-After} header, or {@code null}
     */
    public HttpStatusException(int statusCode, String body, String retryAfter) {
        super(statusCode, "HTTP " + statusCode + (body == null || body.isBlank() ? "" : ": " + body));
        this.retryAfter = retryAfter;
        this.quotaExhausted = statusCode == 429 && errorCode(body).equals(INSUFFICIENT_QUOTA);
    }

    /**
     * True for OpenAI's billing stop: a 429 whose {@code error.code} is {@code insufficient_quota} ("You exceeded
     * your current quota, please check your plan and billing details": OpenAI's API error codes guide), which waiting
     * does not end, unlike a rate limit.
     */
    public boolean quotaExhausted() {
        return quotaExhausted;
    }

    /** OpenAI's {@code error.code} (or {@code error.type}) of an error body; empty when it has none. */
    private static String errorCode(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        try {
            JsonNode error = Json.mapper().readTree(body).path("error");
            String code = error.path("code").asText("");
            return code.isEmpty() ? error.path("type").asText("") : code;
        } catch (IOException e) {
            // Not JSON (a proxy's HTML page): no code to read.
            return "";
        }
    }

    /** The raw {@code Retry-After} header (seconds or an HTTP date), if the server sent one. */
    public Optional<String> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
