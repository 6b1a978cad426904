package dev.thoughtstream.llm.model;

import dev.thoughtstream.common.config.Secret;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Objects;
import java.util.Optional;

/**
 * One failed model call, reduced to what the generation needs: the {@link ErrorKind}, a description safe to log and
 * to put into a dead letter (one line, bounded, with the API key redacted) and the server's {@code Retry-After}.
 */
public record ModelError(ErrorKind kind, String description, Optional<Duration> retryAfter) {
    /** Descriptions are for people and headers, not for dumping a provider's whole error page. */
    public static final int MAX_DESCRIPTION_CHARS = 500;

    public ModelError {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(retryAfter, "retryAfter");
    }

    /**
     * True when the provider answered with an error status (4xx, 5xx), i.e. refused the request: it then used no
     * tokens of the budget.
     */
    public boolean refusedByProvider() {
        return switch (kind) {
            case SERVER_ERROR, RATE_LIMITED, QUOTA_EXHAUSTED, AUTHENTICATION, CLIENT_ERROR -> true;
            default -> false;
        };
    }

    /** An error a model reported. */
    public static ModelError of(Throwable error, Optional<Secret> apiKey, Clock clock) {
        ErrorKind kind = ErrorKind.of(error);
        return new ModelError(kind, describe(kind, error, apiKey), retryAfter(error, clock));
    }

    /**
     * This error naming where the model is ({@link ProviderEndpoint#describe()}, e.g. {@code ollama llama3.2 at
     * http://localhost:11434}), so that a log line or a dead letter says which server failed: the exception of a
     * refused connection does not. Unchanged when {@code where} is empty or already named; the description stays
     * within {@link #MAX_DESCRIPTION_CHARS}, shortened before the place, which always survives.
     */
    public ModelError at(String where) {
        if (where.isEmpty() || description.contains(where)) {
            return this;
        }
        String suffix = " (" + where + ")";
        int room = MAX_DESCRIPTION_CHARS - suffix.length();
        if (room < 2) {
            return this;
        }
        String head = description.length() <= room ? description : description.substring(0, room - 1) + "\u2026";
        return new ModelError(kind, head + suffix, retryAfter);
    }

    /** A timeout of our own (first token, idle), which no exception describes. */
    public static ModelError timeout(ErrorKind kind, String what) {
        return new ModelError(kind, kind.label() + ": " + what, Optional.empty());
    }

    public static String describe(ErrorKind kind, Throwable error, Optional<Secret> apiKey) {
        StringBuilder text = new StringBuilder(kind.label())
                .append(": ")
                .append(error.getClass().getSimpleName());
        if (error.getMessage() != null) {
            text.append(": ").append(error.getMessage());
        }
        Throwable root = error;
        for (int depth = 0; root.getCause() != null && root.getCause() != root && depth < 32; depth++) {
            root = root.getCause();
        }
        if (root != error
                && root.getMessage() != null
                && (error.getMessage() == null || !error.getMessage().contains(root.getMessage()))) {
            text.append(" (")
                    .append(root.getClass().getSimpleName())
                    .append(": ")
                    .append(root.getMessage())
                    .append(')');
        }
        String oneLine = text.toString().replaceAll("\\s+", " ").strip();
        // Redact before cutting, so a key split by the cut cannot survive half-visible.
        String safe = apiKey.map(key -> key.redact(oneLine)).orElse(oneLine);
        return safe.length() <= MAX_DESCRIPTION_CHARS ? safe : safe.substring(0, MAX_DESCRIPTION_CHARS - 1) + "\u2026";
    }

    /** The {@code Retry-After} of the error status along the cause chain: seconds, or an HTTP date. */
    public static Optional<Duration> retryAfter(Throwable error, Clock clock) {
        int depth = 0;
        for (Throwable t = error; t != null && depth < 32; t = t.getCause(), depth++) {
            if (t instanceof HttpStatusException status) {
                return status.retryAfter().flatMap(header -> parseRetryAfter(header, clock));
            }
        }
        return Optional.empty();
    }

    public static Optional<Duration> parseRetryAfter(String header, Clock clock) {
        String value = header.strip();
        try {
            long seconds = Long.parseLong(value);
            return seconds < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(Math.min(seconds, 86_400)));
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(value, DateTimeFormatter.RFC_1123_DATE_TIME)
                        .toInstant();
                Duration wait = Duration.between(clock.instant(), at);
                return Optional.of(wait.isNegative() ? Duration.ZERO : wait);
            } catch (DateTimeParseException notADate) {
                return Optional.empty();
            }
        }
    }
}
