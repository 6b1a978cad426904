package dev.thoughtstream.llm;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.config.StageDefaults;
import dev.thoughtstream.common.telegram.TelegramLimits;
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
 * Everything the llm-processor needs to know about its model, its replies and how it consumes, read once at start-up.
 * Every value is validated here, so a bad variable stops the service before it touches Kafka, with a
 * {@link ConfigException} naming the variable. The variables are grouped as they are used; the provider budget is
 * read on its own ({@link dev.thoughtstream.llm.budget.BudgetConfig}).
 *
 * @param model    which model answers, and how to reach it ({@link Model})
 * @param scripted the scripted model's pacing ({@link Scripted})
 * @param replies  how a reply is asked for and cut off ({@link Replies})
 * @param retries  how failed model calls are tried again ({@link Retries})
 * @param groupId  {@code LLM_GROUP_ID}: the share group or consumer group of all llm-processor instances
 * @param scale    how thoughts are consumed ({@link ScaleConfig})
 */
public record LlmConfig(
        Model model, Scripted scripted, Replies replies, Retries retries, String groupId, ScaleConfig scale) {

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
    public static final String DEFAULT_APOLOGY = "Sorry, I can't answer right now. Please try again in a moment.";
    public static final String DEFAULT_SYSTEM_PROMPT = String.join(
            " ",
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
        Objects.requireNonNull(model, "model");
        Objects.requireNonNull(scripted, "scripted");
        Objects.requireNonNull(replies, "replies");
        Objects.requireNonNull(retries, "retries");
        Objects.requireNonNull(groupId, "groupId");
        Objects.requireNonNull(scale, "scale");
    }

    public static LlmConfig from(Config config) {
        Model model = Model.from(config);
        Scripted scripted = Scripted.from(config);
        Replies replies = Replies.from(config);
        Retries retries = Retries.from(config);
        return new LlmConfig(
                model,
                scripted,
                replies,
                retries,
                config.string(GROUP_ID, StageDefaults.LLM_GROUP_ID),
                ScaleConfig.from(config, replies.timeout()));
    }

    /** Compact and safe for logs: no key, and the prompt only by size. */
    @Override
    public String toString() {
        return "LlmConfig[" + model + ", " + scripted + ", " + replies + ", " + retries + ", groupId=" + groupId + ", "
                + scale + "]";
    }

    /**
     * Which model answers, and how to reach it.
     *
     * @param provider    {@code LLM_PROVIDER}: which backend answers
     * @param apiUrl      {@code LLM_API_URL}: the provider's base URL; empty for the scripted model
     * @param apiKey      {@code LLM_API_KEY}; empty where the server takes no key
     * @param name        {@code LLM_MODEL}
     * @param timeout     {@code LLM_TIMEOUT_MS}: connect and first-response timeout of the HTTP client
     * @param temperature {@code LLM_TEMPERATURE}; empty = the provider's default
     */
    public record Model(
            Provider provider,
            Optional<URI> apiUrl,
            Optional<Secret> apiKey,
            String name,
            Duration timeout,
            Optional<Double> temperature) {
        public Model {
            Objects.requireNonNull(provider, "provider");
            Objects.requireNonNull(apiUrl, "apiUrl");
            Objects.requireNonNull(apiKey, "apiKey");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(temperature, "temperature");
        }

        public static Model from(Config config) {
            Provider provider = config.enumValue(PROVIDER, Provider.class, Provider.SCRIPTED);
            Optional<URI> apiUrl = switch (provider) {
                case OLLAMA -> Optional.of(config.httpUrl(API_URL, DEFAULT_OLLAMA_URL));
                case OPENAI -> Optional.of(config.httpUrl(API_URL, DEFAULT_OPENAI_URL));
                case SCRIPTED -> Optional.empty();
            };
            Optional<Secret> apiKey = config.optionalSecret(API_KEY);
            // The real OpenAI API rejects anonymous calls; OpenAI-compatible local servers usually take any key or
            // none.
            if (provider == Provider.OPENAI
                    && apiKey.isEmpty()
                    && apiUrl.orElseThrow().getHost().equalsIgnoreCase(OPENAI_HOST)) {
                throw new ConfigException(API_KEY, "is required when " + PROVIDER + "=openai talks to " + OPENAI_HOST);
            }
            String name = switch (provider) {
                case OLLAMA -> config.string(MODEL, DEFAULT_OLLAMA_MODEL);
                case OPENAI -> config.string(MODEL, DEFAULT_OPENAI_MODEL);
                case SCRIPTED -> config.string(MODEL, SCRIPTED_MODEL);
            };
            Duration timeout = config.millis(TIMEOUT_MS, 60_000, 100, 3_600_000);
            Optional<Double> temperature =
                    config.isSet(TEMPERATURE) ? Optional.of(config.decimal(TEMPERATURE, 0, 0, 2)) : Optional.empty();
            return new Model(provider, apiUrl, apiKey, name, timeout, temperature);
        }

        /** The provider as the metrics and logs name it: {@code openai}, {@code ollama}, {@code scripted}. */
        public String providerLabel() {
            return provider.name().toLowerCase(Locale.ROOT);
        }

        @Override
        public String toString() {
            return "provider=" + providerLabel()
                    + ", apiUrl=" + apiUrl.map(LlmConfig::withoutUserInfo).orElse("-")
                    + ", apiKey=" + (apiKey.isPresent() ? "<redacted>" : "-")
                    + ", model=" + name + ", timeout=" + timeout
                    + ", temperature=" + temperature.map(String::valueOf).orElse("-");
        }
    }

    /**
     * The scripted model's pacing (the model without a server, for development and tests).
     *
     * @param latency         {@code SCRIPTED_LATENCY_MS}: the delay before the first token
     * @param tokensPerSecond {@code SCRIPTED_TOKENS_PER_SECOND}: 0 = all at once
     */
    public record Scripted(Duration latency, int tokensPerSecond) {
        public Scripted {
            Objects.requireNonNull(latency, "latency");
        }

        public static Scripted from(Config config) {
            return new Scripted(
                    config.millis(SCRIPTED_LATENCY_MS, 0, 0, 600_000),
                    config.integer(SCRIPTED_TOKENS_PER_SECOND, 0, 0, 1_000_000));
        }

        @Override
        public String toString() {
            return "scriptedLatency=" + latency + ", scriptedTokensPerSecond=" + tokensPerSecond;
        }
    }

    /**
     * How a reply is asked for, cut into parts, and cut off.
     *
     * @param systemPrompt      {@code SYSTEM_PROMPT} or the content of {@code SYSTEM_PROMPT_FILE}
     * @param maxPartChars      {@code REPLY_MAX_PART_CHARS}: no reply part is longer (Telegram allows
     *                          {@value TelegramLimits#MAX_MESSAGE_CHARS})
     * @param apologyText       {@code LLM_APOLOGY_TEXT}: the one part sent when the model fails
     * @param timeout           {@code LLM_REPLY_TIMEOUT_MS}: a generation is cut off after this long, retries and
     *                          their waits included
     * @param firstTokenTimeout {@code LLM_FIRST_TOKEN_TIMEOUT_MS}: a model call without a first token after this
     *                          long is aborted (and retried while nothing was sent)
     * @param idleTimeout       {@code LLM_IDLE_TIMEOUT_MS}: a stream without a new token for this long is aborted
     */
    public record Replies(
            String systemPrompt,
            int maxPartChars,
            String apologyText,
            Duration timeout,
            Duration firstTokenTimeout,
            Duration idleTimeout) {
        public Replies {
            Objects.requireNonNull(systemPrompt, "systemPrompt");
            Objects.requireNonNull(apologyText, "apologyText");
            Objects.requireNonNull(timeout, "timeout");
            Objects.requireNonNull(firstTokenTimeout, "firstTokenTimeout");
            Objects.requireNonNull(idleTimeout, "idleTimeout");
        }

        public static Replies from(Config config) {
            String systemPrompt = systemPrompt(config);
            int maxPartChars = config.integer(
                    MAX_PART_CHARS, TelegramLimits.MAX_MESSAGE_CHARS, 1, TelegramLimits.MAX_MESSAGE_CHARS);
            String apology = config.string(APOLOGY_TEXT, DEFAULT_APOLOGY);
            if (apology.length() > maxPartChars) {
                throw new ConfigException(
                        APOLOGY_TEXT,
                        "is " + apology.length() + " characters, longer than " + MAX_PART_CHARS + "=" + maxPartChars);
            }
            return new Replies(
                    systemPrompt,
                    maxPartChars,
                    apology,
                    config.millis(REPLY_TIMEOUT_MS, 120_000, 100, 3_600_000),
                    config.millis(FIRST_TOKEN_TIMEOUT_MS, 60_000, 100, 3_600_000),
                    config.millis(IDLE_TIMEOUT_MS, 30_000, 100, 3_600_000));
        }

        private static String systemPrompt(Config config) {
            Optional<String> inline = config.optional(SYSTEM_PROMPT);
            Optional<String> file = config.optional(SYSTEM_PROMPT_FILE);
            if (inline.isPresent() && file.isPresent()) {
                throw new ConfigException(
                        SYSTEM_PROMPT_FILE, "cannot be combined with " + SYSTEM_PROMPT + "; set one of them");
            }
            if (inline.isPresent()) {
                return inline.get();
            }
            if (file.isEmpty()) {
                return DEFAULT_SYSTEM_PROMPT;
            }
            String text;
            try {
                text = Files.readString(Path.of(file.get()), StandardCharsets.UTF_8)
                        .strip();
            } catch (IOException | RuntimeException e) {
                throw new ConfigException(SYSTEM_PROMPT_FILE, "cannot read '" + file.get() + "': " + e);
            }
            if (text.isEmpty()) {
                throw new ConfigException(SYSTEM_PROMPT_FILE, "'" + file.get() + "' is empty");
            }
            return text;
        }

        /** The prompt only by size. */
        @Override
        public String toString() {
            return "systemPrompt=" + systemPrompt.length() + " chars, maxPartChars=" + maxPartChars
                    + ", replyTimeout=" + timeout + ", firstTokenTimeout=" + firstTokenTimeout
                    + ", idleTimeout=" + idleTimeout;
        }
    }

    /**
     * How a failed model call is tried again ({@link dev.thoughtstream.llm.generate.RetryPolicy}).
     *
     * @param maxAttempts {@code LLM_MAX_ATTEMPTS}: model calls per thought at most, the first included
     * @param backoff     {@code LLM_RETRY_BACKOFF_MS}: wait before the first retry; doubles per retry
     * @param backoffMax  {@code LLM_RETRY_BACKOFF_MAX_MS}: the doubling stops here
     */
    public record Retries(int maxAttempts, Duration backoff, Duration backoffMax) {
        public Retries {
            Objects.requireNonNull(backoff, "backoff");
            Objects.requireNonNull(backoffMax, "backoffMax");
            if (maxAttempts < 1) {
                throw new IllegalArgumentException("maxAttempts must be >= 1");
            }
        }

        public static Retries from(Config config) {
            int maxAttempts = config.integer(MAX_ATTEMPTS, 3, 1, 10);
            Duration backoff = config.millis(RETRY_BACKOFF_MS, 500, 1, 600_000);
            Duration backoffMax = config.millis(RETRY_BACKOFF_MAX_MS, 10_000, 1, 600_000);
            if (backoffMax.compareTo(backoff) < 0) {
                throw new ConfigException(
                        RETRY_BACKOFF_MAX_MS,
                        "is " + backoffMax.toMillis() + " ms, less than " + RETRY_BACKOFF_MS + "="
                                + backoff.toMillis());
            }
            return new Retries(maxAttempts, backoff, backoffMax);
        }

        @Override
        public String toString() {
            return "maxAttempts=" + maxAttempts + ", retryBackoff=" + backoff + ", retryBackoffMax=" + backoffMax;
        }
    }

    /** A URL for logs: user info (which may carry a password) is replaced. */
    public static String withoutUserInfo(URI uri) {
        return uri.getRawUserInfo() == null
                ? uri.toString()
                : uri.toString().replace(uri.getRawUserInfo(), "<redacted>");
    }
}
