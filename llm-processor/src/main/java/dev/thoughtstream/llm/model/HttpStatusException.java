package dev.thoughtstream.llm.model;

import dev.langchain4j.exception.HttpException;
import java.util.Optional;

/**
 * An error status from the model's server, as {@link AbortableHttpClient} reports it: LangChain4j's
 * {@link HttpException} (so LangChain4j maps it to its usual exceptions, 429 to {@code RateLimitException} and so on,
 * keeping this one as the cause) plus the {@code Retry-After} header, which the stock client drops.
 */
public final class HttpStatusException extends HttpException {
    private static final long serialVersionUID = 1L;

    private final String retryAfter;

    /**
     * @param statusCode the HTTP status
     * @param body       the response body (the provider's error message)
     * @param retryAfter the raw {@code Retry-After} header, or {@code null}
     */
    public HttpStatusException(int statusCode, String body, String retryAfter) {
        super(statusCode, "HTTP " + statusCode + (body == null || body.isBlank() ? "" : ": " + body));
        this.retryAfter = retryAfter;
    }

    /** The raw {@code Retry-After} header (seconds or an HTTP date), if the server sent one. */
    public Optional<String> retryAfter() {
        return Optional.ofNullable(retryAfter);
    }
}
