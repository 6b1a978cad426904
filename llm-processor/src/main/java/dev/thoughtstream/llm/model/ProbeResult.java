package dev.thoughtstream.llm.model;

import dev.thoughtstream.llm.LlmConfig;
import java.util.List;
import java.util.Objects;

/**
 * What one look at the provider's model list found ({@link ProviderProbe}).
 *
 * @param status    the verdict
 * @param endpoint  the provider, model and base URL probed
 * @param probeUrl  the model list's URL as it may be shown (no credentials); empty when nothing was probed
 * @param detail    why it is not {@link Status#AVAILABLE}, one line without secrets (e.g. {@code connection
 *                  refused}, {@code HTTP 401}); empty otherwise
 * @param available the models the provider listed (for {@link Status#MODEL_MISSING}); empty otherwise
 */
public record ProbeResult(
        Status status, ProviderEndpoint endpoint, String probeUrl, String detail, List<String> available) {

    /** The most models a message names; a big OpenAI account lists dozens. */
    static final int MAX_NAMED_MODELS = 20;

    public enum Status {
        /** The provider answered and lists the model. */
        AVAILABLE,
        /** The provider answered, but the model is not among those it lists. */
        MODEL_MISSING,
        /** No answer: connection refused, unknown host, timeout. */
        UNREACHABLE,
        /** HTTP 401 or 403: the key is wrong, missing or lacks the permission. */
        KEY_REFUSED,
        /** An answer that is no model list (another status, not JSON): the model could not be checked. */
        UNEXPECTED_ANSWER,
        /** Nothing to probe: the scripted model has no server. */
        NOT_PROBED
    }

    public ProbeResult {
        Objects.requireNonNull(status, "status");
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(probeUrl, "probeUrl");
        Objects.requireNonNull(detail, "detail");
        available = List.copyOf(available);
    }

    /** True when nothing stands in the way of the model's answers, as far as the probe can tell. */
    public boolean healthy() {
        return status == Status.AVAILABLE || status == Status.NOT_PROBED;
    }

    /** The short form for the ready line's parentheses, e.g. {@code unreachable: connection refused}. */
    public String summary() {
        return switch (status) {
            case AVAILABLE -> "model available";
            case MODEL_MISSING -> "model " + endpoint.model() + " missing; available: " + availableList();
            case UNREACHABLE -> "unreachable: " + detail;
            case KEY_REFUSED -> "API key refused: " + detail;
            case UNEXPECTED_ANSWER -> "model not checked: " + detail;
            case NOT_PROBED -> "no server";
        };
    }

    /** The whole story for the log: what was asked, what came back, what it means and what to do. */
    public String message() {
        String where = "LLM provider " + endpoint.describe();
        String anyway = "; replies get the apology until this is fixed. Starting anyway: calls are retried as"
                + " thoughts arrive.";
        return switch (status) {
            case AVAILABLE -> where + ": GET " + probeUrl + " lists model " + endpoint.model();
            case MODEL_MISSING ->
                where + ": model " + endpoint.model() + " is not among the models GET " + probeUrl + " lists ("
                        + availableList() + ")" + hint() + anyway;
            case UNREACHABLE -> where + " is unreachable: GET " + probeUrl + ": " + detail + anyway;
            case KEY_REFUSED ->
                where + " refused the API key: GET " + probeUrl + " answered " + detail + "; check " + LlmConfig.API_KEY
                        + anyway;
            case UNEXPECTED_ANSWER ->
                where + ": GET " + probeUrl + " answered " + detail + ", not a model list, so model " + endpoint.model()
                        + " could not be checked";
            case NOT_PROBED -> where + ": no server to probe";
        };
    }

    private String hint() {
        return "ollama".equals(endpoint.provider())
                ? " (ollama pull " + endpoint.model() + ", or set " + LlmConfig.MODEL + " to one of them)"
                : " (set " + LlmConfig.MODEL + " to one of them)";
    }

    private String availableList() {
        if (available.isEmpty()) {
            return "none";
        }
        if (available.size() <= MAX_NAMED_MODELS) {
            return String.join(", ", available);
        }
        return String.join(", ", available.subList(0, MAX_NAMED_MODELS)) + " and "
                + (available.size() - MAX_NAMED_MODELS) + " more";
    }

    @Override
    public String toString() {
        return status + ": " + message();
    }
}
