package dev.thoughtstream.testkit.llm;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * How {@link FakeLlmServer} answers one chat request: the reply text, delays, pacing and the failure to provoke.
 * Immutable; build with {@link #builder()} or one of the shortcuts. Conflicting options (an error status together
 * with a stall, say) are rejected by {@link Builder#build()}.
 *
 * <p>Order of events for a request: {@link Builder#hang() hang} (nothing ever), else {@link Builder#latency latency},
 * then either the error {@link Builder#status status} or the reply, streamed at
 * {@link Builder#tokensPerSecond tokensPerSecond} and ended normally, by a {@link Builder#stallAfterTokens stall}
 * or by a {@link Builder#cutOffAfterTokens cut-off}.
 */
public final class Behavior {
    private static final Behavior NORMAL = builder().build();

    private final String reply;
    private final Duration latency;
    private final double tokensPerSecond;
    private final int status;
    private final Integer retryAfterSeconds;
    private final String errorMessage;
    private final String errorCode;
    private final boolean hang;
    private final int stallAfterTokens;
    private final int cutOffAfterTokens;
    private final int errorAfterTokens;
    private final int lengthLimitTokens;

    private Behavior(Builder b) {
        this.reply = b.reply;
        this.latency = b.latency;
        this.tokensPerSecond = b.tokensPerSecond;
        this.status = b.status;
        this.retryAfterSeconds = b.retryAfterSeconds;
        this.errorMessage = b.errorMessage;
        this.errorCode = b.errorCode;
        this.hang = b.hang;
        this.stallAfterTokens = b.stallAfterTokens;
        this.cutOffAfterTokens = b.cutOffAfterTokens;
        this.errorAfterTokens = b.errorAfterTokens;
        this.lengthLimitTokens = b.lengthLimitTokens;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The responder's reply, at once, in full. */
    public static Behavior normal() {
        return NORMAL;
    }

    /** Replies {@code text} instead of asking the responder. */
    public static Behavior replying(String text) {
        return builder().reply(text).build();
    }

    /** Fails with HTTP {@code status} (400–599) and an error body in the request's wire format. */
    public static Behavior failing(int status) {
        return builder().status(status).build();
    }

    /**
     * OpenAI's billing stop: HTTP 429 whose error has type and code {@code insufficient_quota} ("You exceeded your
     * current quota, please check your plan and billing details": OpenAI's API error codes guide, 429). Unlike a
     * rate limit it does not pass by waiting. Ollama has no such answer; its wire format gets a plain 429.
     */
    public static Behavior quotaExhausted() {
        return builder()
                .status(429)
                .errorCode("insufficient_quota")
                .errorMessage("You exceeded your current quota, please check your plan and billing details.")
                .build();
    }

    /** HTTP 429 with a {@code Retry-After} header. */
    public static Behavior rateLimited(int retryAfterSeconds) {
        return builder().status(429).retryAfterSeconds(retryAfterSeconds).build();
    }

    /** Never sends response headers; see {@link Builder#hang()}. */
    public static Behavior hanging() {
        return builder().hang().build();
    }

    /** Streams {@code tokens} tokens, then goes silent; see {@link Builder#stallAfterTokens(int)}. */
    public static Behavior stallingAfter(int tokens) {
        return builder().stallAfterTokens(tokens).build();
    }

    /**
     * Streams {@code tokens} tokens, then reports an error inside the stream and ends it; see
     * {@link Builder#errorAfterTokens(int)}.
     */
    public static Behavior failingMidStreamAfter(int tokens) {
        return builder().errorAfterTokens(tokens).build();
    }

    /** Streams {@code tokens} tokens, then drops the connection; see {@link Builder#cutOffAfterTokens(int)}. */
    public static Behavior cuttingOffAfter(int tokens) {
        return builder().cutOffAfterTokens(tokens).build();
    }

    /**
     * The reply cut by the provider's output limit after {@code tokens} tokens: what was generated so far, ending
     * with finish reason {@code length} (OpenAI's {@code finish_reason}, Ollama's {@code done_reason}).
     */
    public static Behavior stoppingAtLength(int tokens) {
        return builder().lengthLimitTokens(tokens).build();
    }

    /** The output limit in tokens, if scripted; a longer reply ends there with finish reason {@code length}. */
    public OptionalInt lengthLimitTokens() {
        return lengthLimitTokens < 0 ? OptionalInt.empty() : OptionalInt.of(lengthLimitTokens);
    }

    /** Tokens streamed before an error inside the stream ends it, if scripted. */
    public OptionalInt errorAfterTokens() {
        return errorAfterTokens < 0 ? OptionalInt.empty() : OptionalInt.of(errorAfterTokens);
    }

    /** The fixed reply text, if any; otherwise the server's {@link Responder} decides. */
    public Optional<String> reply() {
        return Optional.ofNullable(reply);
    }

    public Duration latency() {
        return latency;
    }

    /** Streaming pace; 0 means as fast as possible. */
    public double tokensPerSecond() {
        return tokensPerSecond;
    }

    /** The scripted HTTP error status, or empty for a successful reply. */
    public OptionalInt status() {
        return status == 0 ? OptionalInt.empty() : OptionalInt.of(status);
    }

    public OptionalInt retryAfterSeconds() {
        return retryAfterSeconds == null ? OptionalInt.empty() : OptionalInt.of(retryAfterSeconds);
    }

    public Optional<String> errorMessage() {
        return Optional.ofNullable(errorMessage);
    }

    /** OpenAI's {@code error.type} and {@code error.code} instead of the status's usual ones, if scripted. */
    public Optional<String> errorCode() {
        return Optional.ofNullable(errorCode);
    }

    public boolean hangs() {
        return hang;
    }

    public OptionalInt stallAfterTokens() {
        return stallAfterTokens < 0 ? OptionalInt.empty() : OptionalInt.of(stallAfterTokens);
    }

    public OptionalInt cutOffAfterTokens() {
        return cutOffAfterTokens < 0 ? OptionalInt.empty() : OptionalInt.of(cutOffAfterTokens);
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder("Behavior{");
        if (hang) {
            s.append("hang ");
        }
        if (!latency.isZero()) {
            s.append("latency=").append(latency).append(' ');
        }
        if (status != 0) {
            s.append("status=").append(status).append(' ');
        }
        if (retryAfterSeconds != null) {
            s.append("retryAfter=").append(retryAfterSeconds).append("s ");
        }
        if (reply != null) {
            s.append("reply=").append(reply.length()).append(" chars ");
        }
        if (tokensPerSecond > 0) {
            s.append("tokensPerSecond=").append(tokensPerSecond).append(' ');
        }
        if (stallAfterTokens >= 0) {
            s.append("stallAfter=").append(stallAfterTokens).append(' ');
        }
        if (cutOffAfterTokens >= 0) {
            s.append("cutOffAfter=").append(cutOffAfterTokens).append(' ');
        }
        return s.toString().trim() + "}";
    }

    public static final class Builder {
        private String reply;
        private Duration latency = Duration.ZERO;
        private double tokensPerSecond;
        private int status;
        private Integer retryAfterSeconds;
        private String errorMessage;
        private String errorCode;
        private boolean hang;
        private int stallAfterTokens = -1;
        private int cutOffAfterTokens = -1;
        private int errorAfterTokens = -1;
        private int lengthLimitTokens = -1;

        private Builder() {}

        /** Replies exactly {@code text} (the responder is not asked). */
        public Builder reply(String text) {
            this.reply = Objects.requireNonNull(text, "text");
            return this;
        }

        /** Waits this long before sending the response headers (for example, to exceed a client timeout). */
        public Builder latency(Duration latency) {
            Objects.requireNonNull(latency, "latency");
            if (latency.isNegative()) {
                throw new IllegalArgumentException("latency must not be negative: " + latency);
            }
            this.latency = latency;
            return this;
        }

        /** Paces a streamed reply: waits {@code 1/tokensPerSecond} before each token; 0 = as fast as possible. */
        public Builder tokensPerSecond(double tokensPerSecond) {
            if (!(tokensPerSecond >= 0) || Double.isInfinite(tokensPerSecond)) {
                throw new IllegalArgumentException("tokensPerSecond must be finite and >= 0: " + tokensPerSecond);
            }
            this.tokensPerSecond = tokensPerSecond;
            return this;
        }

        /** Fails the request with this HTTP status (400–599) and an error body in the request's wire format. */
        public Builder status(int status) {
            if (status < 400 || status > 599) {
                throw new IllegalArgumentException("status must be an HTTP error status (400-599): " + status);
            }
            this.status = status;
            return this;
        }

        /** Adds a {@code Retry-After} header to the error response; requires {@link #status(int)}. */
        public Builder retryAfterSeconds(int seconds) {
            if (seconds < 0) {
                throw new IllegalArgumentException("retryAfterSeconds must not be negative: " + seconds);
            }
            this.retryAfterSeconds = seconds;
            return this;
        }

        /**
         * Streams this many tokens, then sends an error inside the stream, as the providers do when generation fails
         * after the response began (HTTP 200 already sent): OpenAI a {@code data: {"error": {...}}} event, Ollama an
         * {@code {"error": "..."}} line (Ollama's API docs, "Errors", "Errors that occur while streaming": the error
         * "will be returned as an object in the application/x-ndjson format with an error property" and the status
         * is not changed). The stream then ends without a finish reason. Only for streaming requests.
         */
        public Builder errorAfterTokens(int tokens) {
            if (tokens < 0) {
                throw new IllegalArgumentException("errorAfterTokens must not be negative: " + tokens);
            }
            this.errorAfterTokens = tokens;
            return this;
        }

        /** Cuts a longer reply after this many tokens with finish reason {@code length}, as an output limit does. */
        public Builder lengthLimitTokens(int tokens) {
            if (tokens < 1) {
                throw new IllegalArgumentException("lengthLimitTokens must be at least 1: " + tokens);
            }
            this.lengthLimitTokens = tokens;
            return this;
        }

        /** OpenAI's {@code error.type} and {@code error.code}; requires {@link #status(int)}. */
        public Builder errorCode(String code) {
            this.errorCode = Objects.requireNonNull(code, "code");
            return this;
        }

        /** The message inside the error body; requires {@link #status(int)}. A default per status otherwise. */
        public Builder errorMessage(String message) {
            this.errorMessage = Objects.requireNonNull(message, "message");
            return this;
        }

        /**
         * Never sends response headers. The request is held until the server closes: HTTP gives a server no way
         * to notice that a client gave up before the response started, so the handler thread stays parked.
         */
        public Builder hang() {
            this.hang = true;
            return this;
        }

        /**
         * Streams this many tokens, then sends nothing more (no token, no terminator) without closing, until the
         * client disconnects (counted in {@link FakeLlmServer#abandonedStreams()}) or the server closes. While
         * stalled the server writes, every probe interval, a keep-alive that carries no token (an SSE comment; an
         * Ollama chunk with empty content), because only a failing write reveals a closed client connection.
         * On a non-streaming request: the headers and the first half of the body, then silence until the server
         * closes.
         */
        public Builder stallAfterTokens(int tokens) {
            if (tokens < 0) {
                throw new IllegalArgumentException("stallAfterTokens must not be negative: " + tokens);
            }
            this.stallAfterTokens = tokens;
            return this;
        }

        /**
         * Streams this many tokens, then closes the connection without the terminator (no {@code [DONE]}, no
         * {@code "done":true}; the chunked body is left unterminated). On a non-streaming request: the headers and
         * the first half of the body, then the connection closes.
         */
        public Builder cutOffAfterTokens(int tokens) {
            if (tokens < 0) {
                throw new IllegalArgumentException("cutOffAfterTokens must not be negative: " + tokens);
            }
            this.cutOffAfterTokens = tokens;
            return this;
        }

        public Behavior build() {
            if (hang && (status != 0 || reply != null || stallAfterTokens >= 0 || cutOffAfterTokens >= 0)) {
                throw new IllegalArgumentException("hang() never answers; it cannot be combined with a status,"
                        + " a reply, a stall or a cut-off");
            }
            if ((stallAfterTokens >= 0 ? 1 : 0) + (cutOffAfterTokens >= 0 ? 1 : 0) + (errorAfterTokens >= 0 ? 1 : 0)
                    > 1) {
                throw new IllegalArgumentException(
                        "choose one of stallAfterTokens, cutOffAfterTokens and errorAfterTokens");
            }
            if (status != 0 && lengthLimitTokens >= 0) {
                throw new IllegalArgumentException("an error status sends no reply; it has no length limit");
            }
            if (status != 0 && errorAfterTokens >= 0) {
                throw new IllegalArgumentException("an error status sends no stream; it cannot error mid-stream");
            }
            if (status != 0 && (reply != null || stallAfterTokens >= 0 || cutOffAfterTokens >= 0)) {
                throw new IllegalArgumentException("an error status sends no reply; it cannot be combined with"
                        + " reply, stallAfterTokens or cutOffAfterTokens");
            }
            if (status == 0 && (retryAfterSeconds != null || errorMessage != null || errorCode != null)) {
                throw new IllegalArgumentException(
                        "retryAfterSeconds, errorMessage and errorCode need an error status(...)");
            }
            return new Behavior(this);
        }
    }
}
