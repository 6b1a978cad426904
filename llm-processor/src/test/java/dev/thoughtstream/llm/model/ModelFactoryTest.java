package dev.thoughtstream.llm.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import dev.langchain4j.model.chat.ChatModel;
import dev.langchain4j.model.ollama.OllamaChatModel;
import dev.langchain4j.model.ollama.OllamaStreamingChatModel;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.llm.LlmConfig;
import java.util.Map;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ModelFactoryTest {
    private final ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);

    @AfterEach
    void stopScheduler() {
        scheduler.shutdownNow();
    }

    @Test
    void theScriptedProviderBuildsTheOfflineModels() {
        LlmConfig config = LlmConfig.from(Config.of(Map.of()));

        assertInstanceOf(ScriptedStreamingChatModel.class, ModelFactory.streaming(config, scheduler));
        ChatModel blocking = assertInstanceOf(ScriptedChatModel.class, ModelFactory.blocking(config, scheduler));
        assertEquals(ScriptedAnswers.answerTo("hello"), blocking.chat("hello"));
    }

    @Test
    void theOpenAiProviderBuildsLangChain4jsOpenAiModels() {
        LlmConfig config = LlmConfig.from(Config.of(Map.of("LLM_PROVIDER", "openai", "LLM_API_KEY", "sk-x")));

        assertInstanceOf(OpenAiStreamingChatModel.class, ModelFactory.streaming(config, scheduler));
        assertInstanceOf(OpenAiChatModel.class, ModelFactory.blocking(config, scheduler));
    }

    @Test
    void anOpenAiCompatibleServerWithoutKeyGetsAModelToo() {
        LlmConfig config =
                LlmConfig.from(Config.of(Map.of("LLM_PROVIDER", "openai", "LLM_API_URL", "http://127.0.0.1:9/v1")));

        assertInstanceOf(OpenAiStreamingChatModel.class, ModelFactory.streaming(config, scheduler));
    }

    @Test
    void theOllamaProviderBuildsLangChain4jsOllamaModels() {
        LlmConfig config = LlmConfig.from(Config.of(Map.of("LLM_PROVIDER", "ollama", "LLM_TEMPERATURE", "0.2")));

        assertInstanceOf(OllamaStreamingChatModel.class, ModelFactory.streaming(config, scheduler));
        assertInstanceOf(OllamaChatModel.class, ModelFactory.blocking(config, scheduler));
    }
}
