/**
 * Fake LLM servers speaking the real OpenAI and Ollama wire formats over HTTP, for tests, the devstack and
 * benchmarks: {@link dev.thoughtstream.testkit.llm.FakeLlmServer}, scripted per request with
 * {@link dev.thoughtstream.testkit.llm.Behavior}, replying through a {@link dev.thoughtstream.testkit.llm.Responder}.
 *
 * <p>What the real LangChain4j 1.18.1 clients do against it (asserted by this package's tests):
 * <ul>
 *   <li>500/503 → {@code InternalServerException}, 429 → {@code RateLimitException} (retried by the sync models,
 *       {@code Retry-After} ignored), 401 → {@code AuthenticationException} (not retried); latency or a hang past
 *       the client {@code timeout} → {@code TimeoutException}. Streaming models never retry; all of these arrive
 *       through {@code onError}.
 *   <li>The client {@code timeout} only covers the wait for response headers: a stalled stream keeps the client
 *       waiting indefinitely. A consumer needs its own idle watchdog that calls
 *       {@code PartialResponseContext.streamingHandle().cancel()}.
 *   <li>Cancelling from inside {@code onPartialResponse} ends the stream silently; cancelling from another
 *       thread while the client waits for data still produces {@code onError(LangChain4jException "closed")}.
 *       Either way the server sees the disconnect on its next write ({@code abandonedStreams()}).
 *   <li>A stream cut off without its terminator (unterminated chunked body): OpenAI reports {@code onError}
 *       ({@code LangChain4jException} caused by {@code IOException "closed"}) and then still
 *       {@code onCompleteResponse} with the partial text and {@code finishReason == null}; Ollama reports only
 *       {@code onError}. Tokens that reached the client's socket but were not read before the failure registered
 *       are dropped by the JDK's response stream, so the partials received are a prefix of those sent, possibly
 *       empty.
 * </ul>
 */
package dev.thoughtstream.testkit.llm;
