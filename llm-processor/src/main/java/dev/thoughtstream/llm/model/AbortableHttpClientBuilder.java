package dev.thoughtstream.llm.model;

import dev.langchain4j.http.client.HttpClientBuilder;
import dev.thoughtstream.common.service.NamedThreads;
import java.time.Duration;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * Builds {@link AbortableHttpClient}s; handed to the LangChain4j models explicitly by {@link ModelFactory} (it is
 * deliberately not registered as a service, which would clash with LangChain4j's JDK client on the class path).
 */
public final class AbortableHttpClientBuilder implements HttpClientBuilder {
    /**
     * Threads of a client's executor. Nothing waits on them (the streams are read asynchronously); they run the JDK
     * client's tasks and our short callbacks (an event parsed, a part split and handed to Kafka), so a few serve
     * hundreds of open streams. The JDK's default would be an unbounded cached pool.
     */
    static final int THREADS = 2;

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
        // The JDK client cannot be closed on Java 17, so its threads end by themselves once idle.
        ThreadPoolExecutor executor = new ThreadPoolExecutor(
                THREADS,
                THREADS,
                30,
                TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(),
                NamedThreads.factory("llm-http", true));
        executor.allowCoreThreadTimeOut(true);
        return new AbortableHttpClient(connectTimeout, readTimeout, executor);
    }
}
