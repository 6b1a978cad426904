package dev.thoughtstream.llm.model;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.model.ProbeResult.Status;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;

/**
 * Asks the model's server, once, whether it answers and has the configured model, with the endpoint each provider
 * documents for listing its models:
 *
 * <ul>
 *   <li>Ollama: {@code GET {LLM_API_URL}/api/tags} ("List Local Models" in Ollama's docs/api.md), answered with
 *       {@code {"models": [{"name": "llama3.2:latest", "model": "llama3.2:latest", ...}]}}. A name without a tag
 *       means the tag {@code latest} ("Model names", same page), so {@code llama3.2} is found as
 *       {@code llama3.2:latest}.</li>
 *   <li>OpenAI: {@code GET {LLM_API_URL}/models} with {@code Authorization: Bearer <key>} (OpenAI's OpenAPI spec,
 *       {@code listModels}), answered with {@code {"object": "list", "data": [{"id": "gpt-4o-mini", "object":
 *       "model", "created": ..., "owned_by": ...}]}}; 401 when the key is refused.</li>
 * </ul>
 *
 * <p>The whole probe, connection and answer, ends within the timeout. The key goes into the header only; it is
 * redacted from whatever the result quotes, and an error body of a refused key (OpenAI's quotes part of it) is not
 * quoted at all.
 */
public final class ProviderProbe {
    /** Long enough for a server on another continent, short enough not to hold a start-up up. */
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(2);

    /** An error text from the server is quoted this far at most. */
    private static final int MAX_QUOTED_CHARS = 200;

    private final HttpClient http;
    private final Duration timeout;

    /**
     * @param http    sends the one request; its connect timeout should not exceed {@code timeout}
     * @param timeout the probe ends by then, with {@link Status#UNREACHABLE} if nothing came back
     */
    public ProviderProbe(HttpClient http, Duration timeout) {
        this.http = Objects.requireNonNull(http, "http");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
    }

    /**
     * A probe with its own HTTP client, connecting within {@code timeout}, over HTTP/1.1 like the model calls
     * ({@link AbortableHttpClient}), so the probe meets the server the way they will.
     */
    public static ProviderProbe withTimeout(Duration timeout) {
        return new ProviderProbe(
                HttpClient.newBuilder()
                        .version(HttpClient.Version.HTTP_1_1)
                        .connectTimeout(timeout)
                        .build(),
                timeout);
    }

    public Duration timeout() {
        return timeout;
    }

    /** Probes {@code model}'s server; blocks for at most about the timeout. The scripted model is not probed. */
    public ProbeResult probe(LlmConfig.Model model) {
        ProviderEndpoint endpoint = ProviderEndpoint.of(model);
        if (model.apiUrl().isEmpty()) {
            return new ProbeResult(Status.NOT_PROBED, endpoint, "", "", List.of());
        }
        URI listUrl = listUrl(model);
        String shownUrl = ProviderEndpoint.shown(listUrl);
        HttpRequest.Builder request = HttpRequest.newBuilder(listUrl)
                .timeout(timeout)
                .header("Accept", "application/json")
                .GET();
        if (model.provider() == LlmConfig.Provider.OPENAI) {
            model.apiKey().ifPresent(key -> request.header("Authorization", "Bearer " + key.reveal()));
        }
        HttpResponse<String> response;
        CompletableFuture<HttpResponse<String>> call =
                http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString());
        try {
            // The request timeout covers the headers only; this bounds the body too.
            response = call.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            call.cancel(true);
            return result(Status.UNREACHABLE, endpoint, shownUrl, "no answer within " + timeout.toMillis() + " ms");
        } catch (InterruptedException e) {
            call.cancel(true);
            Thread.currentThread().interrupt();
            return result(Status.UNREACHABLE, endpoint, shownUrl, "the probe was interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            return result(Status.UNREACHABLE, endpoint, shownUrl, model.apiKey(), whyUnreachable(cause, listUrl));
        }
        return answered(model, endpoint, shownUrl, response);
    }

    private ProbeResult answered(
            LlmConfig.Model model, ProviderEndpoint endpoint, String shownUrl, HttpResponse<String> response) {
        int status = response.statusCode();
        if (status == 401 || status == 403) {
            // Not quoted: OpenAI's 401 message repeats part of the key.
            String detail =
                    "HTTP " + status + (model.apiKey().isEmpty() ? " (" + LlmConfig.API_KEY + " is not set)" : "");
            return result(Status.KEY_REFUSED, endpoint, shownUrl, detail);
        }
        if (status != 200) {
            String quoted = errorText(response.body());
            return result(
                    Status.UNEXPECTED_ANSWER,
                    endpoint,
                    shownUrl,
                    model.apiKey(),
                    "HTTP " + status + (quoted.isEmpty() ? "" : ": " + quoted));
        }
        Optional<List<String>> names = modelNames(model.provider(), response.body());
        if (names.isEmpty()) {
            return result(Status.UNEXPECTED_ANSWER, endpoint, shownUrl, "HTTP 200 without a model list");
        }
        if (lists(model.provider(), model.name(), names.get())) {
            return new ProbeResult(Status.AVAILABLE, endpoint, shownUrl, "", List.of());
        }
        return new ProbeResult(Status.MODEL_MISSING, endpoint, shownUrl, "", names.get());
    }

    /** Where the provider lists its models: below the base URL, whose query (if any) is not repeated. */
    static URI listUrl(LlmConfig.Model model) {
        URI base = model.apiUrl().orElseThrow();
        String path = base.getRawPath() == null ? "" : base.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        String suffix = model.provider() == LlmConfig.Provider.OLLAMA ? "/api/tags" : "/models";
        StringBuilder url = new StringBuilder()
                .append(base.getScheme())
                .append("://")
                .append(base.getRawAuthority())
                .append(path)
                .append(suffix);
        return URI.create(url.toString());
    }

    /**
     * True when {@code names} holds {@code wanted}. Ollama's names carry a tag, {@code latest} when none was given,
     * so both sides are compared with it filled in; OpenAI's ids are compared as they are.
     */
    static boolean lists(LlmConfig.Provider provider, String wanted, List<String> names) {
        if (provider != LlmConfig.Provider.OLLAMA) {
            return names.contains(wanted);
        }
        String tagged = withTag(wanted);
        return names.stream().map(ProviderProbe::withTag).anyMatch(tagged::equals);
    }

    /** An Ollama model name with its tag: {@code llama3.2} is {@code llama3.2:latest}; a namespace has slashes. */
    static String withTag(String name) {
        int slash = name.lastIndexOf('/');
        return name.indexOf(':', slash + 1) >= 0 ? name : name + ":latest";
    }

    /** The model names of a list answer; empty when the body is no such list. */
    private static Optional<List<String>> modelNames(LlmConfig.Provider provider, String body) {
        JsonNode root;
        try {
            root = Json.mapper().readTree(body);
        } catch (IOException e) {
            return Optional.empty();
        }
        boolean ollama = provider == LlmConfig.Provider.OLLAMA;
        JsonNode list = root == null ? null : root.get(ollama ? "models" : "data");
        if (list == null || !list.isArray()) {
            return Optional.empty();
        }
        List<String> names = new ArrayList<>();
        for (JsonNode entry : list) {
            // Ollama has had "name" all along and "model" in newer versions; OpenAI's field is "id".
            String name = ollama
                    ? entry.path("name").asText(entry.path("model").asText(""))
                    : entry.path("id").asText("");
            if (!name.isEmpty()) {
                names.add(name);
            }
        }
        return Optional.of(names);
    }

    /** The error message of an error body (OpenAI's {@code error.message}, Ollama's {@code error}), bounded. */
    private static String errorText(String body) {
        if (body == null || body.isBlank()) {
            return "";
        }
        String text;
        try {
            JsonNode error = Json.mapper().readTree(body).path("error");
            text = error.isTextual() ? error.asText() : error.path("message").asText("");
        } catch (IOException e) {
            // Not JSON (a proxy's page): its start says enough.
            text = body;
        }
        text = text.replaceAll("\\s+", " ").strip();
        return text.length() <= MAX_QUOTED_CHARS ? text : text.substring(0, MAX_QUOTED_CHARS - 1) + "\u2026";
    }

    /** Why no answer came, in the words someone fixing it needs. */
    String whyUnreachable(Throwable error, URI url) {
        for (Throwable t = error; t != null; t = t.getCause()) {
            if (t instanceof HttpConnectTimeoutException) {
                return "no connection within " + timeout.toMillis() + " ms";
            }
            if (t instanceof HttpTimeoutException) {
                return "no answer within " + timeout.toMillis() + " ms";
            }
            if (t instanceof UnresolvedAddressException || t instanceof UnknownHostException) {
                return "unknown host " + url.getHost();
            }
            if (t instanceof ConnectException) {
                return "connection refused (nothing listens on " + url.getHost() + ":" + port(url) + ")";
            }
            if (t instanceof SSLException) {
                return "TLS failed: " + t.getMessage();
            }
        }
        Throwable root = error;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return root.getClass().getSimpleName() + (root.getMessage() == null ? "" : ": " + root.getMessage());
    }

    private static int port(URI url) {
        if (url.getPort() >= 0) {
            return url.getPort();
        }
        return "https".equals(url.getScheme().toLowerCase(Locale.ROOT)) ? 443 : 80;
    }

    private static ProbeResult result(Status status, ProviderEndpoint endpoint, String url, String detail) {
        return new ProbeResult(status, endpoint, url, detail, List.of());
    }

    private static ProbeResult result(
            Status status, ProviderEndpoint endpoint, String url, Optional<Secret> key, String detail) {
        String safe = key.map(k -> k.redact(detail)).orElse(detail);
        return new ProbeResult(status, endpoint, url, safe, List.of());
    }
}
