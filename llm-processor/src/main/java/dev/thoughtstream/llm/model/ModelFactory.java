package dev.thoughtstream.llm.model;

import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.chat.StreamingChatModel;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.llm.generate.ReplyGeneration;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the LangChain4j models for the configured provider. Request and response logging of the HTTP models stays
 * off: it would write prompts, and with some clients headers, to the log. The API key is handed to the client and
 * nowhere else.
 *
 * <p>The streaming HTTP models get an {@link AbortableHttpClient} (same timeouts and callbacks as LangChain4j's JDK
 * client), so that {@link ReplyGeneration} can close a call that never produced a token, and sees the
 * {@code Retry-After} of a 429. They have no retries of their own; {@link ReplyGeneration} retries.
 */
public final class ModelFactory {
    private static final Logger LOG = LoggerFactory.getLogger(ModelFactory.class);

    private ModelFactory() {}

    /**
     * The streaming model the processor uses.
     *
     * @param scheduler paces the scripted model; unused by the HTTP models; not owned
     */
    public static StreamingChatModel streaming(LlmConfig config, ScheduledExecutorService scheduler) {
        LlmConfig.Model model = config.model();
        log(model, "streaming");
        return switch (model.provider()) {
            case OPENAI ->
                OpenAiStreamingChatModel.builder()
                        .baseUrl(model.apiUrl().orElseThrow().toString())
                        .apiKey(model.apiKey().map(Secret::reveal).orElse(null))
                        .modelName(model.name())
                        .timeout(model.timeout())
                        .temperature(model.temperature().orElse(null))
                        .httpClientBuilder(new AbortableHttpClientBuilder())
                        .build();
            case OLLAMA ->
                OllamaStreamingChatModel.builder()
                        .baseUrl(model.apiUrl().orElseThrow().toString())
                        .modelName(model.name())
                        .timeout(model.timeout())
                        .httpClientBuilder(new AbortableHttpClientBuilder())
                        .temperature(model.temperature().orElse(null))
                        .build();
            case SCRIPTED ->
                new ScriptedStreamingChatModel(
                        config.scripted().latency(), config.scripted().tokensPerSecond(), scheduler);
        };
    }

    /**
     * A blocking model for the same provider (for tools and checks that want one answer at once). The HTTP models
     * keep LangChain4j's retries of timeouts, 5xx and 429 (not of 401).
     *
     * @param scheduler times the scripted model's simulated duration; unused by the HTTP models; not owned
     */
    public static ChatModel blocking(LlmConfig config, ScheduledExecutorService scheduler) {
        LlmConfig.Model model = config.model();
        log(model, "blocking");
        return switch (model.provider()) {
            case OPENAI ->
                OpenAiChatModel.builder()
                        .baseUrl(model.apiUrl().orElseThrow().toString())
                        .apiKey(model.apiKey().map(Secret::reveal).orElse(null))
                        .modelName(model.name())
                        .timeout(model.timeout())
                        .temperature(model.temperature().orElse(null))
                        .build();
            case OLLAMA ->
                OllamaChatModel.builder()
                        .baseUrl(model.apiUrl().orElseThrow().toString())
                        .modelName(model.name())
                        .timeout(model.timeout())
                        .temperature(model.temperature().orElse(null))
                        .build();
            case SCRIPTED ->
                new ScriptedChatModel(
                        config.scripted().latency(), config.scripted().tokensPerSecond(), scheduler);
        };
    }

    private static void log(LlmConfig.Model model, String kind) {
        LOG.info(
                "{} model: provider={} url={} model={} timeout={} key={}",
                kind,
                model.providerLabel(),
                model.apiUrl().map(LlmConfig::withoutUserInfo).orElse("-"),
                model.name(),
                model.timeout(),
                model.apiKey().isPresent() ? "<set>" : "<none>");
    }
}
