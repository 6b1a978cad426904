package dev.thoughtstream.llm.model;

import dev.langchain4j.exception.AuthenticationException;
import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.InternalServerException;
import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.ModelNotFoundException;
import dev.langchain4j.exception.RateLimitException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.exception.UnresolvedModelServerException;
import dev.langchain4j.model.ollama.OllamaStreamingException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;

/**
 * Why a model call failed, as far as retrying and the metrics care ({@code llm_errors_total{kind}},
 * {@code llm_retries_total{reason}} use {@link #label()}).
 */
public enum ErrorKind {
    /** HTTP 5xx: the provider is having trouble; retried. */
    SERVER_ERROR("server_error", true),
    /** HTTP 429: retried after {@code Retry-After} when the server sent one, else after the backoff. */
    RATE_LIMITED("rate_limited", true),
    /**
     * HTTP 429 whose error is {@code insufficient_quota} (OpenAI): a billing stop, not a rate limit; waiting does not
     * end it, so it is not retried and does not slow the shared budget.
     */
    QUOTA_EXHAUSTED("quota_exhausted", false),
    /** No connection or no response headers within {@code LLM_TIMEOUT_MS} (or HTTP 408); retried. */
    TIMEOUT("timeout", true),
    /** Headers perhaps, but no first token within {@code LLM_FIRST_TOKEN_TIMEOUT_MS}; retried. */
    FIRST_TOKEN_TIMEOUT("first_token_timeout", true),
    /** The stream went silent for {@code LLM_IDLE_TIMEOUT_MS} between tokens; retried while nothing was sent. */
    IDLE_TIMEOUT("idle_timeout", true),
    /**
     * The provider reported an error inside a stream that had begun (OpenAI's {@code data: {"error": ...}} event,
     * Ollama's {@code {"error": ...}} line), which ends the stream without a finish reason: the generation failed,
     * its partial text is not an answer; retried while nothing was sent.
     */
    STREAM_ERROR("stream_error", true),
    /** Connection refused, reset or cut off mid-stream, host unresolvable: transient as far as we can tell; retried. */
    CONNECTION("connection", true),
    /** HTTP 401/403: a wrong or missing key does not get better by asking again; not retried. */
    AUTHENTICATION("authentication", false),
    /** Any other HTTP 4xx (unknown model, bad request): the same request fails the same way; not retried. */
    CLIENT_ERROR("client_error", false),
    /** Anything else (a provider's error inside the stream, a bug): not retried. */
    OTHER("other", false);

    private final String label;
    private final boolean retryable;

    ErrorKind(String label, boolean retryable) {
        this.label = label;
        this.retryable = retryable;
    }

    /** The metric label value. */
    public String label() {
        return label;
    }

    public boolean retryable() {
        return retryable;
    }

    /**
     * Classifies an error a LangChain4j model reported: the first exception along the cause chain that says what
     * happened decides (an HTTP status wins over the exception LangChain4j mapped it to, as they agree anyway).
     */
    public static ErrorKind of(Throwable error) {
        // LangChain4j wraps our HttpStatusException in its RateLimitException: look for the quota stop first.
        int seen = 0;
        for (Throwable t = error; t != null && seen < 32; t = t.getCause(), seen++) {
            if (t instanceof HttpStatusException http && http.quotaExhausted()) {
                return QUOTA_EXHAUSTED;
            }
        }
        int depth = 0;
        for (Throwable t = error; t != null && depth < 32; t = t.getCause(), depth++) {
            if (t instanceof OllamaStreamingException) {
                // LangChain4j's Ollama client turns an {"error": ...} line inside the stream into this.
                return STREAM_ERROR;
            }
            if (t instanceof HttpException http) {
                return ofStatus(http.statusCode());
            }
            if (t instanceof RateLimitException) {
                return RATE_LIMITED;
            }
            if (t instanceof AuthenticationException) {
                return AUTHENTICATION;
            }
            if (t instanceof InternalServerException) {
                return SERVER_ERROR;
            }
            if (t instanceof TimeoutException || t instanceof HttpTimeoutException) {
                return TIMEOUT;
            }
            if (t instanceof InvalidRequestException || t instanceof ModelNotFoundException) {
                return CLIENT_ERROR;
            }
            if (t instanceof UnresolvedModelServerException
                    || t instanceof UnresolvedAddressException
                    || t instanceof IOException
                    || t instanceof UncheckedIOException) {
                return CONNECTION;
            }
        }
        return OTHER;
    }

    static ErrorKind ofStatus(int status) {
        if (status == 429) {
            return RATE_LIMITED;
        }
        if (status == 401 || status == 403) {
            return AUTHENTICATION;
        }
        if (status == 408) {
            return TIMEOUT;
        }
        if (status >= 500 && status <= 599) {
            return SERVER_ERROR;
        }
        if (status >= 400 && status <= 499) {
            return CLIENT_ERROR;
        }
        return OTHER;
    }
}
