package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.common.serde.Json;

/**
 * A Bot API failure, answered exactly like Telegram: {@code {"ok":false,"error_code":N,"description":...}}; or, for
 * a {@link #raw} one, whatever Telegram's front end answers instead (an nginx HTML page, see {@link Fault#nginx}).
 */
final class BotApiError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final int status;
    private final String description;
    private final int retryAfter;
    private final String contentType;
    private final String body;

    BotApiError(int status, String description, int retryAfter) {
        this(status, description, retryAfter, null, null);
    }

    private BotApiError(int status, String description, int retryAfter, String contentType, String body) {
        // No stack trace: these are answers, not bugs.
        super(description, null, false, false);
        this.status = status;
        this.description = description;
        this.retryAfter = retryAfter;
        this.contentType = contentType;
        this.body = body;
    }

    /**
     * An answer that is not the Bot API's JSON: {@code status} with this content type and body, and a Retry-After
     * header when {@code retryAfter} is positive.
     */
    static BotApiError raw(int status, String contentType, String body, int retryAfter) {
        return new BotApiError(status, "HTTP " + status + " (" + contentType + ")", retryAfter, contentType, body);
    }

    static BotApiError badRequest(String detail) {
        return new BotApiError(400, "Bad Request: " + detail, 0);
    }

    static BotApiError forbidden(String detail) {
        return new BotApiError(403, "Forbidden: " + detail, 0);
    }

    static BotApiError conflict(String detail) {
        return new BotApiError(409, "Conflict: " + detail, 0);
    }

    static BotApiError tooManyRequests(int retryAfterSeconds) {
        return new BotApiError(429, "Too Many Requests: retry after " + retryAfterSeconds, retryAfterSeconds);
    }

    static BotApiError unauthorized() {
        return new BotApiError(401, "Unauthorized", 0);
    }

    static BotApiError methodNotFound() {
        return new BotApiError(404, "Not Found: method not found", 0);
    }

    /** Telegram's wording for a status when the caller gave none. */
    static String defaultDescription(int status, int retryAfter) {
        switch (status) {
            case 400:
                return "Bad Request";
            case 401:
                return "Unauthorized";
            case 403:
                return "Forbidden";
            case 404:
                return "Not Found";
            case 409:
                return "Conflict";
            case 429:
                return "Too Many Requests: retry after " + retryAfter;
            case 500:
                return "Internal Server Error";
            case 502:
                return "Bad Gateway";
            case 503:
                return "Service Unavailable";
            case 504:
                return "Gateway Timeout";
            default:
                return "Error " + status;
        }
    }

    int status() {
        return status;
    }

    /** True when the answer is {@link #rawContentType()} and {@link #rawBody()} rather than the Bot API's JSON. */
    boolean isRaw() {
        return body != null;
    }

    String rawContentType() {
        return contentType;
    }

    String rawBody() {
        return body;
    }

    /** Seconds for a Retry-After header (raw answers) or parameters.retry_after; 0 for none. */
    int retryAfter() {
        return retryAfter;
    }

    String description() {
        return description;
    }

    ObjectNode toJson() {
        ObjectNode body = Json.mapper().createObjectNode();
        body.put("ok", false);
        body.put("error_code", status);
        body.put("description", description);
        if (retryAfter > 0) {
            body.putObject("parameters").put("retry_after", retryAfter);
        }
        return body;
    }
}
