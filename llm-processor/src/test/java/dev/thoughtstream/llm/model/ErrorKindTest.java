package dev.thoughtstream.llm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.exception.AuthenticationException;
import dev.langchain4j.exception.HttpException;
import dev.langchain4j.exception.InternalServerException;
import dev.langchain4j.exception.LangChain4jException;
import dev.langchain4j.exception.ModelNotFoundException;
import dev.langchain4j.exception.RateLimitException;
import dev.langchain4j.exception.TimeoutException;
import dev.langchain4j.internal.ExceptionMapper;
import dev.langchain4j.model.ollama.OllamaStreamingException;
import dev.thoughtstream.common.config.Secret;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ErrorKindTest {

    @Test
    void httpStatusesAreClassifiedAsLangChain4jMapsThem() {
        assertEquals(ErrorKind.SERVER_ERROR, kindOfStatus(500));
        assertEquals(ErrorKind.SERVER_ERROR, kindOfStatus(503));
        assertEquals(ErrorKind.RATE_LIMITED, kindOfStatus(429));
        assertEquals(ErrorKind.AUTHENTICATION, kindOfStatus(401));
        assertEquals(ErrorKind.AUTHENTICATION, kindOfStatus(403));
        assertEquals(ErrorKind.TIMEOUT, kindOfStatus(408));
        assertEquals(ErrorKind.CLIENT_ERROR, kindOfStatus(400));
        assertEquals(ErrorKind.CLIENT_ERROR, kindOfStatus(404));
    }

    @Test
    void exceptionsWithoutAStatusAreClassifiedByWhatTheySay() {
        assertEquals(ErrorKind.RATE_LIMITED, ErrorKind.of(new RateLimitException("slow")));
        assertEquals(ErrorKind.AUTHENTICATION, ErrorKind.of(new AuthenticationException("no")));
        assertEquals(ErrorKind.SERVER_ERROR, ErrorKind.of(new InternalServerException("boom")));
        assertEquals(ErrorKind.CLIENT_ERROR, ErrorKind.of(new ModelNotFoundException("which?")));
        assertEquals(ErrorKind.TIMEOUT, ErrorKind.of(new TimeoutException(new HttpTimeoutException("t"))));
        assertEquals(ErrorKind.CONNECTION, ErrorKind.of(new LangChain4jException("closed", new IOException("closed"))));
        assertEquals(ErrorKind.CONNECTION, ErrorKind.of(new RuntimeException(new ConnectException("refused"))));
        assertEquals(ErrorKind.STREAM_ERROR, ErrorKind.of(new OllamaStreamingException("model crashed")));
        assertEquals(ErrorKind.OTHER, ErrorKind.of(new IllegalArgumentException("bug")));
    }

    @Test
    void aTooManyRequestsForAnExhaustedQuotaIsABillingStopEvenWrappedAsARateLimit() {
        // given OpenAI's insufficient_quota answer as our client reports it, and as LangChain4j wraps it
        HttpStatusException quota = new HttpStatusException(
                429,
                "{\"error\":{\"message\":\"You exceeded your current quota\",\"type\":\"insufficient_quota\","
                        + "\"param\":null,\"code\":\"insufficient_quota\"}}",
                null);
        HttpStatusException limit = new HttpStatusException(
                429, "{\"error\":{\"message\":\"slow down\",\"code\":\"rate_limit_exceeded\"}}", "2");

        // then the quota stop is its own kind, and an ordinary 429 stays a rate limit
        assertEquals(ErrorKind.QUOTA_EXHAUSTED, ErrorKind.of(quota));
        assertEquals(ErrorKind.QUOTA_EXHAUSTED, ErrorKind.of(new RateLimitException("429", quota)));
        assertEquals(ErrorKind.RATE_LIMITED, ErrorKind.of(new RateLimitException("429", limit)));
        assertEquals(ErrorKind.RATE_LIMITED, ErrorKind.of(new HttpStatusException(429, "<html>busy</html>", null)));
    }

    @Test
    void onlyTransientKindsAreRetried() {
        for (ErrorKind kind : ErrorKind.values()) {
            boolean expected = switch (kind) {
                case AUTHENTICATION, CLIENT_ERROR, QUOTA_EXHAUSTED, OTHER -> false;
                default -> true;
            };
            assertEquals(expected, kind.retryable(), kind::toString);
        }
    }

    @Test
    void aDescriptionIsOneBoundedLineWithoutTheApiKey() {
        Secret key = new Secret("sk-very-secret-123");
        Throwable error = ExceptionMapper.DEFAULT.mapException(
                new HttpStatusException(401, "{\"error\":\n  \"bad key sk-very-secret-123\"}", null));

        ModelError described = ModelError.of(error, Optional.of(key), Clock.systemUTC());

        assertEquals(ErrorKind.AUTHENTICATION, described.kind());
        assertEquals(
                "authentication: AuthenticationException: HTTP 401: {\"error\": \"bad key <redacted>\"}",
                described.description());
        String huge = "x".repeat(10_000);
        String longOne = ModelError.describe(ErrorKind.OTHER, new IllegalStateException(huge), Optional.empty());
        assertEquals(ModelError.MAX_DESCRIPTION_CHARS, longOne.length());
        assertFalse(longOne.contains("\n"));
        assertTrue(ModelError.describe(
                        ErrorKind.CONNECTION,
                        new LangChain4jException("closed", new IOException("EOF reached")),
                        Optional.empty())
                .endsWith("closed (IOException: EOF reached)"));
    }

    private static ErrorKind kindOfStatus(int status) {
        return ErrorKind.of(ExceptionMapper.DEFAULT.mapException(new HttpException(status, "x")));
    }
}
