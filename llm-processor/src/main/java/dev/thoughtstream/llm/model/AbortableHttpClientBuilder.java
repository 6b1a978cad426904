package dev.thoughtstream.llm.model;

import dev.langchain4j.http.client.HttpClientBuilder;
import java.time.Duration;

/**
 * Builds {@link AbortableHttpClient}s; handed to the LangChain4j models explicitly by {@link ModelFactory} (it is
 * deliberately not registered as a service, which would clash with LangChain4j's JDK client on the class path).
 */
final class AbortableHttpClientBuilder implements HttpClientBuilder {
    private Duration connectTimeout;
    private Duration readTimeout;

    @Override
    public Duration connectTimeout() {
        return connectTimeout;
    }

    @Override
    public AbortableHttpClientBuilder connectTimeout(Duration timeout) {
        this.connectTimeout = timeout;
        return this;
    }

    @Override
    public Duration readTimeout() {
        return readTimeout;
    }

    @Override
    public AbortableHttpClientBuilder readTimeout(Duration timeout) {
        this.readTimeout = timeout;
        return this;
    }

    @Override
    public AbortableHttpClient build() {
        return new AbortableHttpClient(connectTimeout, readTimeout);
    }
}
