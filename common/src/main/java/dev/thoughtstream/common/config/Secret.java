package dev.thoughtstream.common.config;

import java.util.Objects;

/**
 * A configuration value that must never reach a log, a topic, a metric or an exception message.
 * {@link #toString()} is redacted; call {@link #reveal()} only where the value is handed to a client.
 */
public final class Secret {
    private final String value;

    public Secret(String value) {
        this.value = Objects.requireNonNull(value, "value");
    }

    public String reveal() {
        return value;
    }

    public boolean isEmpty() {
        return value.isEmpty();
    }

    /** Replaces every occurrence of this secret in {@code text}; for messages that may quote a URL. */
    public String redact(String text) {
        if (text == null || value.isEmpty()) {
            return text;
        }
        return text.replace(value, "<redacted>");
    }

    /**
     * A failure and its causes on one line ({@code Type: message <- Cause: message}), at most about 500 characters,
     * with this secret removed: HTTP client messages may quote a URL that holds it.
     */
    public String describe(Throwable failure) {
        StringBuilder sb = new StringBuilder();
        for (Throwable t = failure; t != null && sb.length() < 500; t = t.getCause()) {
            if (sb.length() > 0) {
                sb.append(" <- ");
            }
            sb.append(t.getClass().getSimpleName());
            if (t.getMessage() != null) {
                sb.append(": ").append(t.getMessage());
            }
        }
        return redact(sb.toString());
    }

    @Override
    public String toString() {
        return "<redacted>";
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Secret other && other.value.equals(value);
    }

    @Override
    public int hashCode() {
        return value.hashCode();
    }
}
