package dev.thoughtstream.testkit.llm;

/** The two chat APIs {@link FakeLlmServer} speaks. */
public enum WireFormat {
    /** OpenAI chat completions: {@code POST /v1/chat/completions}, SSE when streaming. */
    OPENAI,
    /** Ollama chat: {@code POST /api/chat}, newline-delimited JSON when streaming. */
    OLLAMA
}
