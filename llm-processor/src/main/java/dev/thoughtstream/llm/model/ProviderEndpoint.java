package dev.thoughtstream.llm.model;

import dev.thoughtstream.llm.LlmConfig;
import java.net.URI;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the model lives, in the words a log line, a dead letter and the ready line use: the provider, the model and
 * the server's base URL. The URL is shown without user info, query or fragment, which may hold credentials; the API
 * key is never part of it.
 *
 * @param provider the provider label ({@code ollama}, {@code openai}, {@code scripted})
 * @param model    {@code LLM_MODEL}
 * @param url      the base URL as it may be shown; empty for the scripted model, which has no server
 */
public record ProviderEndpoint(String provider, String model, Optional<String> url) {
    public ProviderEndpoint {
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(url, "url");
    }

    public static ProviderEndpoint of(LlmConfig.Model model) {
        return new ProviderEndpoint(
                model.providerLabel(), model.name(), model.apiUrl().map(ProviderEndpoint::shown));
    }

    /**
     * {@code uri} as it may be shown: scheme, host, port and path only. User info, query and fragment go, as they are
     * where credentials hide ({@code https://user:pass@host}, {@code ?key=...}).
     */
    public static String shown(URI uri) {
        StringBuilder text = new StringBuilder();
        if (uri.getScheme() != null) {
            text.append(uri.getScheme()).append("://");
        }
        if (uri.getHost() != null) {
            text.append(uri.getHost());
        }
        if (uri.getPort() >= 0) {
            text.append(':').append(uri.getPort());
        }
        if (uri.getRawPath() != null) {
            text.append(uri.getRawPath());
        }
        return text.toString();
    }

    /**
     * For logs, errors and the ready line: {@code ollama llama3.2 at http://localhost:11434}; the scripted model is
     * just {@code scripted} (with its name when it has another one).
     */
    public String describe() {
        if (url.isEmpty()) {
            return model.equals(provider) ? provider : provider + " " + model;
        }
        return provider + " " + model + " at " + url.get();
    }

    @Override
    public String toString() {
        return describe();
    }
}
