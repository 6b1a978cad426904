package dev.thoughtstream.llm.generate;

import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.model.ProviderEndpoint;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * How {@link ReplyGenerator} answers, apart from the model and the retries ({@link RetryPolicy}).
 *
 * @param provider          the {@code provider} label of the metrics ({@code openai}, {@code ollama}, {@code scripted})
 * @param maxPartChars      no part is longer
 * @param apologyText       the part sent last when the model fails; 1..{@code maxPartChars} characters after stripping
 * @param replyTimeout      a generation, retries and their waits included, ends after this long
 * @param firstTokenTimeout a model call without its first token after this long is aborted; zero = no such limit
 * @param idleTimeout       a stream without a new token for this long is aborted; zero = no such limit
 * @param apiKey            redacted from every error description; empty when there is none
 * @param endpoint          where the model is ({@link ProviderEndpoint#describe()}), named in every error
 *                          description; empty when unknown
 */
public record ReplySettings(
        String provider,
        int maxPartChars,
        String apologyText,
        Duration replyTimeout,
        Duration firstTokenTimeout,
        Duration idleTimeout,
        Optional<Secret> apiKey,
        String endpoint) {

    public ReplySettings {
        Objects.requireNonNull(provider, "provider");
        if (maxPartChars < 1) {
            throw new IllegalArgumentException("maxPartChars must be >= 1");
        }
        apologyText = Objects.requireNonNull(apologyText, "apologyText").strip();
        if (apologyText.isEmpty() || apologyText.length() > maxPartChars) {
            throw new IllegalArgumentException("apologyText must be 1.." + maxPartChars + " characters");
        }
        requirePositive(Objects.requireNonNull(replyTimeout, "replyTimeout"), "replyTimeout");
        requireNotNegative(Objects.requireNonNull(firstTokenTimeout, "firstTokenTimeout"), "firstTokenTimeout");
        requireNotNegative(Objects.requireNonNull(idleTimeout, "idleTimeout"), "idleTimeout");
        Objects.requireNonNull(apiKey, "apiKey");
        Objects.requireNonNull(endpoint, "endpoint");
    }

    /** Settings whose errors do not name the model's place. */
    public ReplySettings(
            String provider,
            int maxPartChars,
            String apologyText,
            Duration replyTimeout,
            Duration firstTokenTimeout,
            Duration idleTimeout,
            Optional<Secret> apiKey) {
        this(provider, maxPartChars, apologyText, replyTimeout, firstTokenTimeout, idleTimeout, apiKey, "");
    }

    public static ReplySettings from(LlmConfig config) {
        LlmConfig.Replies replies = config.replies();
        return new ReplySettings(
                config.model().providerLabel(),
                replies.maxPartChars(),
                replies.apologyText(),
                replies.timeout(),
                replies.firstTokenTimeout(),
                replies.idleTimeout(),
                config.model().apiKey(),
                ProviderEndpoint.of(config.model()).describe());
    }

    private static void requirePositive(Duration d, String name) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive but was " + d);
        }
    }

    private static void requireNotNegative(Duration d, String name) {
        if (d.isNegative()) {
            throw new IllegalArgumentException(name + " must not be negative but was " + d);
        }
    }
}
