package dev.thoughtstream.llm;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.llm.generate.PartSplitter;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything the llm-processor needs to know about its model and its replies, read once at start-up.
 *
 * @param provider                which backend answers ({@code LLM_PROVIDER})
 * @param apiUrl                  the provider's base URL ({@code LLM_API_URL}); empty for the scripted model
 * @param apiKey                  {@code LLM_API_KEY}; empty where the server takes no key
 * @param model                   {@code LLM_MODEL}
 * @param timeout                 {@code LLM_TIMEOUT_MS}: connect and first-response timeout of the HTTP client
 * @param temperature             {@code LLM_TEMPERATURE}; empty = the provider's default
 * @param systemPrompt            {@code SYSTEM_PROMPT} or the content of {@code SYSTEM_PROMPT_FILE}
 * @param scriptedLatency         {@code SCRIPTED_LATENCY_MS}: scripted model's delay before the first token
 * @param scriptedTokensPerSecond {@code SCRIPTED_TOKENS_PER_SECOND}: scripted pacing, 0 = all at once
 * @param apologyText             {@code LLM_APOLOGY_TEXT}: the one part sent when the model fails
 * @param groupId                 {@code LLM_GROUP_ID}: the consumer group of all llm-processor instances
 * @param maxPartChars            {@code REPLY_MAX_PART_CHARS}: no reply part is longer (Telegram allows 4096)
 * @param replyTimeout            {@code LLM_REPLY_TIMEOUT_MS}: a generation is cut off after this long, retries and
 *                                their waits included
 * @param firstTokenTimeout       {@code LLM_FIRST_TOKEN_TIMEOUT_MS}: a model call without a first token after this long
 *                                is aborted (and retried while nothing was sent)
 * @param idleTimeout             {@code LLM_IDLE_TIMEOUT_MS}: a stream without a new token for this long is aborted
 * @param maxAttempts             {@code LLM_MAX_ATTEMPTS}: model calls per thought at most, the first included
 * @param retryBackoff            {@code LLM_RETRY_BACKOFF_MS}: wait before the first retry; doubles per retry
 * @param retryBackoffMax         {@code LLM_RETRY_BACKOFF_MAX_MS}: the doubling stops here
 * @param scale                   how thoughts are consumed: {@code LLM_MODE}, {@code LLM_MAX_IN_FLIGHT},
 *                                {@code LLM_MAX_DELIVERIES}, {@code LLM_CLAIM_TTL_MS}, {@code LLM_DONE_TTL_MS},
 *                                {@code LLM_REDIS_FAIL_OPEN}, {@code LLM_MAX_BUFFERED} (see {@link ScaleConfig})
 */
public record LlmConfig(
        Provider provider,
        Optional<URI> apiUrl,
        Optional<Secret> apiKey,
        String model,
        Duration timeout,
        Optional<Double> temperature,
        String systemPrompt,
        Duration scriptedLatency,
        int scriptedTokensPerSecond,
        String apologyText,
        String groupId,
        int maxPartChars,
        Duration replyTimeout,
        Duration firstTokenTimeout,
        Duration idleTimeout,
        int maxAttempts,
        Duration retryBackoff,
        Duration retryBackoffMax,
        ScaleConfig scale) {

    public static final String PROVIDER = "LLM_PROVIDER";
    public static final String API_URL = "LLM_API_URL";
    public static final String API_KEY = "LLM_API_KEY";
    public static final String MODEL = "LLM_MODEL";
    public static final String TIMEOUT_MS = "LLM_TIMEOUT_MS";
    public static final String TEMPERATURE = "LLM_TEMPERATURE";
    public static final String SYSTEM_PROMPT = "SYSTEM_PROMPT";
    public static final String SYSTEM_PROMPT_FILE = "SYSTEM_PROMPT_FILE";
    public static final String SCRIPTED_LATENCY_MS = "SCRIPTED_LATENCY_MS";
    public static final String SCRIPTED_TOKENS_PER_SECOND = "SCRIPTED_TOKENS_PER_SECOND";
    public static final String APOLOGY_TEXT = "LLM_APOLOGY_TEXT";
    public static final String GROUP_ID = "LLM_GROUP_ID";
    public static final String MAX_PART_CHARS = "REPLY_MAX_PART_CHARS";
    public static final String REPLY_TIMEOUT_MS = "LLM_REPLY_TIMEOUT_MS";
    public static final String FIRST_TOKEN_TIMEOUT_MS = "LLM_FIRST_TOKEN_TIMEOUT_MS";
    public static final String IDLE_TIMEOUT_MS = "LLM_IDLE_TIMEOUT_MS";
    public static final String MAX_ATTEMPTS = "LLM_MAX_ATTEMPTS";
    public static final String RETRY_BACKOFF_MS = "LLM_RETRY_BACKOFF_MS";
    public static final String RETRY_BACKOFF_MAX_MS = "LLM_RETRY_BACKOFF_MAX_MS";

    public static final String DEFAULT_OLLAMA_URL = "http://localhost:11434";
    public static final String DEFAULT_OPENAI_URL = "https://api.openai.com/v1";
    public static final String OPENAI_HOST = "api.openai.com";
    public static final String DEFAULT_OLLAMA_MODEL = "llama3.2";
    public static final String DEFAULT_OPENAI_MODEL = "gpt-4o-mini";
    public static final String SCRIPTED_MODEL = "scripted";
    public static final String DEFAULT_GROUP_ID = "thoughtstream-llm";
    public static final String DEFAULT_APOLOGY =
            "Sorry, I can't answer right now. Please try again in a moment.";
    public static final String DEFAULT_SYSTEM_PROMPT = String.join(" ",
            "You are a warm, friendly companion chatting with someone on Telegram.",
            "Reply the way a person texts a friend: a few short chat messages, each one or two sentences,",
            "separated from each other by a blank line.",
            "Write plain text only: no markdown, no headings, no bullet lists, no code blocks.",
            "Keep the whole reply brief, and answer in the language the person writes in.");

    public enum Provider {
        OLLAMA,
        OPENAI,
        SCRIPTED
    }

    public LlmConfig {
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(apiUrl, "apiUrl");
        Objects.requireNonNull(apiKey, "apiKey");
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(temperature, "temperature");
        Objects.requireNonNull(systemPrompt, "systemPrompt");
        Objects.requireNonNull(scriptedLatency, "scriptedLatency");
        Objects.requireNonNull(apologyText, "apologyText");
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(replyTimeout, "replyTimeout");
        Objects.requireNonNull(firstTokenTimeout, "firstTokenTimeout");
        Objects.requireNonNull(idleTimeout, "idleTimeout");
        Objects.requireNonNull(retryBackoff, "retryBackoff");
        Objects.requireNonNull(retryBackoffMax, "retryBackoffMax");
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("maxAttempts must be >= 1");
        }
        Objects.requireNonNull(scale, "scale");
    }

    public static LlmConfig from(Config config) {
        Provider provider = config.enumValue(PROVIDER, Provider.class, Provider.SCRIPTED);

        Optional<URI> apiUrl = switch (provider) {
            case OLLAMA -> Optional.of(config.httpUrl(API_URL, DEFAULT_OLLAMA_URL));
            case OPENAI -> Optional.of(config.httpUrl(API_URL, DEFAULT_OPENAI_URL));
            case SCRIPTED -> Optional.empty();
        };

        Optional<Secret> apiKey = config.optionalSecret(API_KEY);
        // The real OpenAI API rejects anonymous calls; OpenAI-compatible local servers usually take any key or none.
        if (provider == Provider.OPENAI && apiKey.isEmpty()
                && apiUrl.orElseThrow().getHost().equalsIgnoreCase(OPENAI_HOST)) {
            throw new ConfigException(API_KEY, "is required when " + PROVIDER + "=openai talks to " + OPENAI_HOST);
        }

        String model = switch (provider) {
            case OLLAMA -> config.string(MODEL, DEFAULT_OLLAMA_MODEL);
            case OPENAI -> config.string(MODEL, DEFAULT_OPENAI_MODEL);
            case SCRIPTED -> config.string(MODEL, SCRIPTED_MODEL);
        };

        Duration timeout = config.millis(TIMEOUT_MS, 60_000, 100, 3_600_000);
        Optional<Double> temperature = config.isSet(TEMPERATURE)
                ? Optional.of(config.decimal(TEMPERATURE, 0, 0, 2))
                : Optional.empty();
        String systemPrompt = systemPrompt(config);
        Duration scriptedLatency = config.millis(SCRIPTED_LATENCY_MS, 0, 0, 600_000);
        int tokensPerSecond = config.integer(SCRIPTED_TOKENS_PER_SECOND, 0, 0, 1_000_000);
        int maxPartChars = config.integer(MAX_PART_CHARS, PartSplitter.TELEGRAM_MAX_CHARS, 1,
                PartSplitter.TELEGRAM_MAX_CHARS);
        String apology = config.string(APOLOGY_TEXT, DEFAULT_APOLOGY);
        if (apology.length() > maxPartChars) {
            throw new ConfigException(APOLOGY_TEXT, "is " + apology.length() + " characters, longer than "
                    + MAX_PART_CHARS + "=" + maxPartChars);
        }
        String groupId = config.string(GROUP_ID, DEFAULT_GROUP_ID);
        Duration replyTimeout = config.millis(REPLY_TIMEOUT_MS, 120_000, 100, 3_600_000);
        Duration firstTokenTimeout = config.millis(FIRST_TOKEN_TIMEOUT_MS, 60_000, 100, 3_600_000);
        Duration idleTimeout = config.millis(IDLE_TIMEOUT_MS, 30_000, 100, 3_600_000);
        int maxAttempts = config.integer(MAX_ATTEMPTS, 3, 1, 10);
        Duration retryBackoff = config.millis(RETRY_BACKOFF_MS, 500, 1, 600_000);
        Duration retryBackoffMax = config.millis(RETRY_BACKOFF_MAX_MS, 10_000, 1, 600_000);
        if (retryBackoffMax.compareTo(retryBackoff) < 0) {
            throw new ConfigException(RETRY_BACKOFF_MAX_MS, "is " + retryBackoffMax.toMillis() + " ms, less than "
                    + RETRY_BACKOFF_MS + "=" + retryBackoff.toMillis());
        }

        ScaleConfig scale = ScaleConfig.from(config, replyTimeout);

        return new LlmConfig(provider, apiUrl, apiKey, model, timeout, temperature, systemPrompt, scriptedLatency,
                tokensPerSecond, apology, groupId, maxPartChars, replyTimeout, firstTokenTimeout, idleTimeout,
                maxAttempts, retryBackoff, retryBackoffMax, scale);
    }

    private static String systemPrompt(Config config) {
        Optional<String> inline = config.optional(SYSTEM_PROMPT);
        Optional<String> file = config.optional(SYSTEM_PROMPT_FILE);
        if (inline.isPresent() && file.isPresent()) {
            throw new ConfigException(SYSTEM_PROMPT_FILE, "cannot be combined with " + SYSTEM_PROMPT + "; set one of them");
        }
        if (inline.isPresent()) {
            return inline.get();
        }
        if (file.isEmpty()) {
            return DEFAULT_SYSTEM_PROMPT;
        }
        String text;
        try {
            text = Files.readString(Path.of(file.get()), StandardCharsets.UTF_8).strip();
        } catch (IOException | RuntimeException e) {
            throw new ConfigException(SYSTEM_PROMPT_FILE, "cannot read '" + file.get() + "': " + e);
        }
        if (text.isEmpty()) {
            throw new ConfigException(SYSTEM_PROMPT_FILE, "'" + file.get() + "' is empty");
        }
        return text;
    }

    /** Compact and safe for logs: no key, and the prompt only by size. */
    @Override
    public String toString() {
        return "LlmConfig[provider=" + provider.name().toLowerCase(Locale.ROOT)
                + ", apiUrl=" + apiUrl.map(LlmConfig::withoutUserInfo).orElse("-")
                + ", apiKey=" + (apiKey.isPresent() ? "<redacted>" : "-")
                + ", model=" + model + ", timeout=" + timeout + ", temperature=" + temperature.map(String::valueOf).orElse("-")
                + ", systemPrompt=" + systemPrompt.length() + " chars"
                + ", scriptedLatency=" + scriptedLatency + ", scriptedTokensPerSecond=" + scriptedTokensPerSecond
                + ", groupId=" + groupId + ", maxPartChars=" + maxPartChars + ", replyTimeout=" + replyTimeout
                + ", firstTokenTimeout=" + firstTokenTimeout + ", idleTimeout=" + idleTimeout
                + ", maxAttempts=" + maxAttempts + ", retryBackoff=" + retryBackoff
                + ", retryBackoffMax=" + retryBackoffMax + ", " + scale + "]";
    }

    /** A URL for logs: user info (which may carry a password) is replaced. */
    public static String withoutUserInfo(URI uri) {
        return uri.getRawUserInfo() == null ? uri.toString() : uri.toString().replace(uri.getRawUserInfo(), "<redacted>");
    }
}
