package dev.thoughtstream.testkit.llm;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.thoughtstream.common.net.HttpServers;
import dev.thoughtstream.common.serde.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A fake LLM server on 127.0.0.1 that speaks the real OpenAI chat-completions and Ollama chat wire formats over
 * HTTP, so real clients (LangChain4j's {@code OpenAiChatModel}, {@code OllamaStreamingChatModel}, …) can be
 * exercised over sockets, including every failure a provider can inflict: error statuses, rate limits, latency,
 * requests that never answer, streams that stall and streams that are cut off.
 *
 * <ul>
 *   <li>{@code POST /v1/chat/completions}: JSON, or SSE {@code chat.completion.chunk}s when {@code "stream": true}
 *       (a usage chunk when {@code stream_options.include_usage}, then {@code data: [DONE]}).
 *   <li>{@code GET /v1/models}: lists the {@link Builder#listedModels(String...) listed models} (by default the
 *       configured model).
 *   <li>{@code POST /api/chat}: JSON when {@code "stream": false}, otherwise NDJSON ending with {@code "done":true}.
 *   <li>{@code GET /api/tags}: the same models, tagged as Ollama lists them ({@code llama3.2:latest});
 *       {@code GET /api/version}.
 * </ul>
 *
 * <p>Every chat request is recorded ({@link #requests()}), takes the next {@link #enqueue(Behavior) scripted}
 * behaviour or else the {@link #setDefault(Behavior) default}, and gets its text from the {@link Responder}.
 * With an API key configured, OpenAI endpoints require {@code Authorization: Bearer <key>}; unauthorised requests
 * are recorded, answered 401 and consume no scripted behaviour.
 *
 * <p>A paced stream sleeps before each token, then writes and flushes it, on its own handler thread; with a
 * {@link Builder#pacingTick(Duration) pacing tick}, one thread writes every paced stream's due tokens once per tick
 * instead, which costs far less CPU per token when many streams run at once (benchmarks).
 *
 * <p>{@link #close()} ends everything still waiting (hung requests, latencies, stalled streams) by dropping their
 * connections, stops the server and its threads, so the JVM can exit.
 */
public final class FakeLlmServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(FakeLlmServer.class);

    public static final String DEFAULT_MODEL = "fake-llm";
    public static final Duration DEFAULT_PROBE_INTERVAL = Duration.ofMillis(100);
    public static final int DEFAULT_MAX_CONCURRENT_REQUESTS = 256;
    public static final int DEFAULT_RECORD_LIMIT = 10_000;
    private static final int BACKLOG = 128;

    private final int requestedPort;
    private final String apiKey;
    private final String modelName;
    private final List<String> listedModels;
    private final Responder responder;
    private final Clock clock;
    private final long probeNanos;
    private final int maxConcurrentRequests;
    private final int recordLimit;
    private final TokenListener tokenListener;
    /** 0: each paced stream writes its own tokens, one write and flush each; else the pacer's tick. */
    private final long pacingTickNanos;

    private final OpenAiDialect openAi = new OpenAiDialect();
    private final OllamaDialect ollama = new OllamaDialect();

    private final Object scriptLock = new Object();
    private final Deque<Behavior> scripted = new ArrayDeque<>();
    private final Deque<RecordedRequest> recorded = new ArrayDeque<>();
    private int requestCount;
    private Behavior defaultBehavior = Behavior.normal();

    private final AtomicLong replyIds = new AtomicLong();
    private final AtomicLong tokensStreamed = new AtomicLong();
    private final AtomicInteger completedStreams = new AtomicInteger();
    private final AtomicInteger abandonedStreams = new AtomicInteger();
    private final AtomicInteger cutOffResponses = new AtomicInteger();
    private final AtomicInteger stalledResponses = new AtomicInteger();
    private final AtomicInteger hungRequests = new AtomicInteger();
    private final AtomicInteger activeRequests = new AtomicInteger();
    private final AtomicInteger peakActiveRequests = new AtomicInteger();
    /** While set, chat requests wait (recorded and counted as active) before they are answered. */
    private final Object holdLock = new Object();

    private boolean holding;
    // Set by a handler that drops its connection; read after the server has actually closed it (see afterExecute).
    private final ThreadLocal<Boolean> cutOffPending = new ThreadLocal<>();
    private final CountDownLatch closing = new CountDownLatch(1);

    private HttpServer server;
    private int port;
    private ThreadPoolExecutor executor;
    /** Writes paced streams' tokens when a pacing tick is set; null otherwise. */
    private volatile TokenPacer pacer;

    private boolean closed;

    private FakeLlmServer(Builder b) {
        this.requestedPort = b.port;
        this.apiKey = b.apiKey;
        this.modelName = b.modelName;
        this.listedModels = b.listedModels == null ? List.of(b.modelName) : b.listedModels;
        this.responder = b.responder;
        this.clock = b.clock;
        this.probeNanos = b.probeInterval.toNanos();
        this.maxConcurrentRequests = b.maxConcurrentRequests;
        this.recordLimit = b.recordLimit;
        this.tokenListener = b.tokenListener;
        this.pacingTickNanos = b.pacingTick.toNanos();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** A started server on a free port with the defaults: echo responder, no API key, model {@value DEFAULT_MODEL}. */
    public static FakeLlmServer startOnFreePort() {
        return builder().build().start();
    }

    /** Binds 127.0.0.1 on the configured port (0 = any free port) and starts serving. */
    public synchronized FakeLlmServer start() {
        if (closed) {
            throw new IllegalStateException("fake LLM server already closed");
        }
        if (server != null) {
            throw new IllegalStateException("fake LLM server already started on port " + port());
        }
        HttpServer s;
        try {
            s = HttpServers.create(new InetSocketAddress("127.0.0.1", requestedPort), BACKLOG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot bind the fake LLM server to 127.0.0.1:" + requestedPort, e);
        }
        port = s.getAddress().getPort();
        executor = new ExchangeExecutor(port);
        s.setExecutor(executor);
        s.createContext("/", this::handle);
        if (pacingTickNanos > 0) {
            pacer = new TokenPacer(pacingTickNanos, "fake-llm-" + port + "-pacer").start();
        }
        s.start();
        server = s;
        LOG.info(
                "Fake LLM server listening on 127.0.0.1:{} (model {}, API key {})",
                port,
                modelName,
                apiKey == null ? "not required" : "required");
        return this;
    }

    public synchronized int port() {
        if (server == null) {
            throw new IllegalStateException("fake LLM server not started");
        }
        return port;
    }

    /** Base URL for OpenAI clients, {@code http://127.0.0.1:<port>/v1}. */
    public String openAiBaseUrl() {
        return "http://127.0.0.1:" + port() + "/v1";
    }

    /** Base URL for Ollama clients, {@code http://127.0.0.1:<port>}. */
    public String ollamaBaseUrl() {
        return "http://127.0.0.1:" + port();
    }

    public String modelName() {
        return modelName;
    }

    /** Applies {@code behavior} to the next chat request that has none queued before it (FIFO, one per request). */
    public void enqueue(Behavior behavior) {
        Objects.requireNonNull(behavior, "behavior");
        synchronized (scriptLock) {
            scripted.addLast(behavior);
        }
    }

    /** The behaviour of chat requests when nothing is queued; initially {@link Behavior#normal()}. */
    public void setDefault(Behavior behavior) {
        Objects.requireNonNull(behavior, "behavior");
        synchronized (scriptLock) {
            defaultBehavior = behavior;
        }
    }

    /** Queued behaviours not yet taken by a request. */
    public int pendingBehaviors() {
        synchronized (scriptLock) {
            return scripted.size();
        }
    }

    /**
     * The chat requests received since start or {@link #reset()}, in arrival order; only the most recent
     * {@link Builder#recordLimit(int) recordLimit} are kept.
     */
    public List<RecordedRequest> requests() {
        synchronized (scriptLock) {
            return List.copyOf(recorded);
        }
    }

    /** Chat requests received since start or {@link #reset()}, all of them (not limited like {@link #requests()}). */
    public int requestCount() {
        synchronized (scriptLock) {
            return requestCount;
        }
    }

    /** Streams whose client disconnected before the end (a write to the connection failed). */
    public int abandonedStreams() {
        return abandonedStreams.get();
    }

    /** Streams that were written to the end, terminator included. */
    public int completedStreams() {
        return completedStreams.get();
    }

    /** Responses (streamed or not) whose connection the server dropped on purpose; counted once it is closed. */
    public int cutOffResponses() {
        return cutOffResponses.get();
    }

    /** Responses (streamed or not) currently stalled: part sent, then silence, connection open. */
    public int stalledResponses() {
        return stalledResponses.get();
    }

    /** Requests currently held by {@link Behavior.Builder#hang()}, no headers sent. */
    public int hungRequests() {
        return hungRequests.get();
    }

    /**
     * Chat requests being handled right now, both wire formats: from the moment the request was read until its
     * response ended (completed, failed, cut off) or the client left. A held, hung, waiting or streaming request
     * counts.
     */
    public int activeRequests() {
        return activeRequests.get();
    }

    /**
     * The most chat requests that were handled at the same time since start or {@link #reset()}: how much
     * concurrency the clients really achieved, which a test can assert without timing anything.
     */
    public int peakConcurrentRequests() {
        return peakActiveRequests.get();
    }

    /**
     * From now on, chat requests wait after they were read and recorded, before anything is sent, until
     * {@link #releaseRequests()} (or the server closes). A test thus holds a client's calls in flight for as long as
     * it needs, and lets them go on when it chooses, without any timing.
     */
    public void holdRequests() {
        synchronized (holdLock) {
            holding = true;
        }
    }

    /** Lets every held chat request go on (each then takes its behaviour as usual) and stops holding new ones. */
    public void releaseRequests() {
        synchronized (holdLock) {
            holding = false;
            holdLock.notifyAll();
        }
    }

    /** Tokens written to streams, all streams together; grows while a paced stream is produced. */
    public long tokensStreamed() {
        return tokensStreamed.get();
    }

    /**
     * Forgets recorded requests, queued behaviours and totals, and restores the default behaviour. Requests that
     * are hung or stalled right now stay so until their client leaves or the server closes.
     */
    public void reset() {
        synchronized (scriptLock) {
            recorded.clear();
            requestCount = 0;
            scripted.clear();
            defaultBehavior = Behavior.normal();
        }
        tokensStreamed.set(0);
        peakActiveRequests.set(activeRequests.get());
        completedStreams.set(0);
        abandonedStreams.set(0);
        cutOffResponses.set(0);
    }

    /** Drops every waiting or stalled connection, stops the server and its threads. Idempotent. */
    @Override
    public void close() {
        HttpServer s;
        ThreadPoolExecutor e;
        TokenPacer p;
        int boundPort;
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            s = server;
            e = executor;
            p = pacer;
            boundPort = port;
        }
        closing.countDown();
        releaseRequests();
        if (s == null) {
            return;
        }
        s.stop(0);
        if (p != null) {
            // After the connections were closed, so that no write of the pacer can block its end.
            p.close();
        }
        e.shutdownNow();
        try {
            if (!e.awaitTermination(5, TimeUnit.SECONDS)) {
                LOG.warn("Fake LLM server on port {}: handler threads still running 5 s after close", boundPort);
            }
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
        }
        LOG.info("Fake LLM server on port {} closed", boundPort);
    }

    // ---------------------------------------------------------------------------------------------------------

    private void handle(HttpExchange ex) throws IOException {
        String method = ex.getRequestMethod();
        String path = ex.getRequestURI().getPath();
        try {
            switch (path) {
                case "/v1/chat/completions" -> {
                    if (allowed(ex, "POST", openAi)) {
                        chat(ex, openAi);
                    }
                }
                case "/v1/models" -> {
                    if (allowed(ex, "GET", openAi)) {
                        models(ex);
                    }
                }
                case "/api/chat" -> {
                    if (allowed(ex, "POST", ollama)) {
                        chat(ex, ollama);
                    }
                }
                case "/api/tags" -> {
                    if (allowed(ex, "GET", ollama)) {
                        tags(ex);
                    }
                }
                case "/api/version" -> {
                    if (allowed(ex, "GET", ollama)) {
                        version(ex);
                    }
                }
                default -> notFound(ex, method, path);
            }
        } catch (AbortConnection e) {
            // Propagating makes com.sun.net.httpserver close the connection without finishing the response;
            // closing the exchange instead would write a proper end of the body.
            throw e;
        } catch (IOException e) {
            LOG.debug("Fake LLM server: {} {} failed on the connection: {}", method, path, e.toString());
            throw e;
        } catch (RuntimeException e) {
            LOG.error("Fake LLM server: {} {} failed", method, path, e);
            if (ex.getResponseCode() == -1) {
                Dialect dialect = path.startsWith("/api/") ? ollama : openAi;
                send(ex, 500, dialect.jsonContentType(), dialect.error(500, "fake LLM server failure: " + e));
                return;
            }
            throw new AbortConnection("failure after the response started", e);
        }
    }

    private void chat(HttpExchange ex, Dialect dialect) throws IOException {
        peakActiveRequests.accumulateAndGet(activeRequests.incrementAndGet(), Math::max);
        try {
            answerChat(ex, dialect);
        } finally {
            activeRequests.decrementAndGet();
        }
    }

    private void answerChat(HttpExchange ex, Dialect dialect) throws IOException {
        long startNanos = System.nanoTime();
        byte[] raw = ex.getRequestBody().readAllBytes();
        boolean authorizationPresent = ex.getRequestHeaders().getFirst("Authorization") != null;
        boolean authorized = dialect.format() != WireFormat.OPENAI || authorized(ex);

        ChatCall call = null;
        String badRequest = null;
        try {
            JsonNode body = Json.mapper().readTree(raw);
            if (body == null || !body.isObject()) {
                throw new BadRequestException("the request body must be a JSON object");
            }
            call = dialect.parse(body);
        } catch (JsonProcessingException e) {
            badRequest = "the request body is not valid JSON: " + e.getOriginalMessage();
        } catch (BadRequestException e) {
            badRequest = e.getMessage();
        }

        Behavior behavior = null;
        int requestNo;
        RecordedRequest request = new RecordedRequest(
                dialect.format(),
                ex.getRequestURI().getPath(),
                call != null && call.stream(),
                call == null ? null : call.model(),
                call == null ? List.of() : call.messages(),
                authorizationPresent,
                clock.instant(),
                new String(raw, StandardCharsets.UTF_8));
        synchronized (scriptLock) {
            if (recorded.size() == recordLimit) {
                recorded.removeFirst();
            }
            recorded.add(request);
            requestNo = ++requestCount;
            if (authorized && call != null) {
                behavior = scripted.isEmpty() ? defaultBehavior : scripted.removeFirst();
            }
        }

        if (!authorized) {
            LOG.debug("Chat request #{} ({}): unauthorised", requestNo, dialect.format());
            error(ex, dialect, 401, "Incorrect API key provided", OptionalInt.empty());
            return;
        }
        if (call == null) {
            LOG.debug("Chat request #{} ({}): bad request: {}", requestNo, dialect.format(), badRequest);
            error(ex, dialect, 400, badRequest, OptionalInt.empty());
            return;
        }
        LOG.debug(
                "Chat request #{} ({}): model={} stream={} messages={} {}",
                requestNo,
                dialect.format(),
                call.model(),
                call.stream(),
                call.messages().size(),
                behavior);
        respond(ex, dialect, call, request, behavior, requestNo, startNanos);
    }

    private void respond(
            HttpExchange ex,
            Dialect dialect,
            ChatCall call,
            RecordedRequest request,
            Behavior behavior,
            int requestNo,
            long startNanos)
            throws IOException {
        if (awaitRelease()) {
            throw new AbortConnection("server closing while request #" + requestNo + " is held");
        }
        if (behavior.hangs()) {
            hungRequests.incrementAndGet();
            try {
                awaitClosing(Long.MAX_VALUE);
            } finally {
                hungRequests.decrementAndGet();
            }
            throw new AbortConnection("server closing while request #" + requestNo + " hangs");
        }
        if (!behavior.latency().isZero() && awaitClosing(saturatedNanos(behavior.latency()))) {
            throw new AbortConnection("server closing during the latency of request #" + requestNo);
        }
        if (behavior.status().isPresent()) {
            int status = behavior.status().getAsInt();
            String message = behavior.errorMessage().orElseGet(() -> Dialect.defaultErrorMessage(status));
            behavior.retryAfterSeconds()
                    .ifPresent(s -> ex.getResponseHeaders().set("Retry-After", Integer.toString(s)));
            send(
                    ex,
                    status,
                    dialect.jsonContentType(),
                    dialect.error(status, message, behavior.errorCode().orElse(null)));
            return;
        }

        String text = behavior.reply().orElse(null);
        if (text == null) {
            try {
                text = Objects.requireNonNull(responder.reply(call.messages()), "the responder returned null");
            } catch (RuntimeException e) {
                LOG.warn("Chat request #{}: the responder failed", requestNo, e);
                error(ex, dialect, 500, "the fake LLM responder failed: " + e, OptionalInt.empty());
                return;
            }
        }
        String id = (dialect.format() == WireFormat.OPENAI ? "chatcmpl-fake-" : "fake-") + replyIds.incrementAndGet();
        List<String> tokens = Tokens.split(text);
        String finishReason = "stop";
        if (behavior.lengthLimitTokens().isPresent()
                && behavior.lengthLimitTokens().getAsInt() < tokens.size()) {
            // The output limit cuts the reply where it is: what was generated so far, with finish reason length.
            tokens = tokens.subList(0, behavior.lengthLimitTokens().getAsInt());
            text = String.join("", tokens);
            finishReason = "length";
        }
        Reply reply = new Reply(
                id,
                call.model(),
                clock.instant(),
                text,
                tokens,
                call.promptTokens(),
                call.includeUsage(),
                startNanos,
                finishReason);
        if (call.stream()) {
            stream(ex, dialect, request, reply, behavior, requestNo);
        } else {
            complete(ex, dialect, reply, behavior, requestNo);
        }
    }

    private void complete(HttpExchange ex, Dialect dialect, Reply reply, Behavior behavior, int requestNo)
            throws IOException {
        byte[] body = dialect.completion(reply, clock.instant());
        boolean stall = behavior.stallAfterTokens().isPresent();
        boolean cutOff = behavior.cutOffAfterTokens().isPresent();
        if (!stall && !cutOff) {
            send(ex, 200, dialect.jsonContentType(), body);
            return;
        }
        // Announce the full length, deliver half of it: a truncated body whatever the client's parser.
        ex.getResponseHeaders().set("Content-Type", dialect.jsonContentType());
        ex.sendResponseHeaders(200, body.length);
        OutputStream out = ex.getResponseBody();
        out.write(body, 0, body.length / 2);
        out.flush();
        if (stall) {
            stalledResponses.incrementAndGet();
            try {
                awaitClosing(Long.MAX_VALUE);
            } finally {
                stalledResponses.decrementAndGet();
            }
            throw new AbortConnection("server closing while response #" + requestNo + " is stalled");
        }
        cutOffPending.set(Boolean.TRUE);
        throw new AbortConnection("response #" + requestNo + " cut off after half the body");
    }

    private void stream(
            HttpExchange ex, Dialect dialect, RecordedRequest request, Reply reply, Behavior behavior, int requestNo)
            throws IOException {
        List<String> tokens = reply.tokens();
        OptionalInt stallAfter = behavior.stallAfterTokens();
        OptionalInt cutOffAfter = behavior.cutOffAfterTokens();
        OptionalInt errorAfter = behavior.errorAfterTokens();
        int limit = Math.min(tokens.size(), stallAfter.orElse(cutOffAfter.orElse(errorAfter.orElse(tokens.size()))));
        long pauseNanos = behavior.tokensPerSecond() > 0 ? Math.round(1e9 / behavior.tokensPerSecond()) : 0;

        ex.getResponseHeaders().set("Content-Type", dialect.streamContentType());
        ex.getResponseHeaders().set("Cache-Control", "no-cache");
        // Length 0: chunked transfer encoding, so every flush reaches the client as it happens.
        ex.sendResponseHeaders(200, 0);
        OutputStream out = ex.getResponseBody();
        try {
            write(out, dialect.streamStart(reply, clock.instant()));
            TokenPacer p = pacer;
            if (p != null && pauseNanos > 0 && limit > 0) {
                awaitPaced(p, new PacedStream(out, dialect, request, reply, limit, pauseNanos), requestNo);
            } else {
                for (int i = 0; i < limit; i++) {
                    if (pauseNanos > 0 && awaitClosing(pauseNanos)) {
                        throw new AbortConnection("server closing during stream #" + requestNo);
                    }
                    write(out, dialect.streamToken(reply, tokens.get(i), clock.instant()));
                    tokensStreamed.incrementAndGet();
                    if (tokenListener != null) {
                        tokenListener.written(request, tokens, i, clock.instant());
                    }
                }
            }
            if (stallAfter.isPresent()) {
                stall(out, dialect, reply, requestNo);
            }
            if (cutOffAfter.isPresent()) {
                // A paced stream drops when its next token was due, as a dying upstream would.
                if (pauseNanos > 0 && awaitClosing(pauseNanos)) {
                    throw new AbortConnection("server closing during stream #" + requestNo);
                }
                LOG.debug("Stream #{}: cutting off after {} tokens", requestNo, limit);
                cutOffPending.set(Boolean.TRUE);
                throw new AbortConnection("stream #" + requestNo + " cut off after " + limit + " tokens");
            }
            // Not flushed on its own: closing flushes it together with the end of the chunked body.
            if (errorAfter.isPresent()) {
                LOG.debug("Stream #{}: an error inside the stream after {} tokens", requestNo, limit);
                out.write(dialect.streamError(reply, "The server had an error while generating (scripted mid-stream)"));
            } else {
                out.write(dialect.streamEnd(reply, clock.instant()));
            }
            out.close();
        } catch (AbortConnection e) {
            throw e;
        } catch (IOException e) {
            if (isClosing()) {
                throw new AbortConnection("server closing during stream #" + requestNo, e);
            }
            abandonedStreams.incrementAndGet();
            LOG.debug("Stream #{}: the client hung up: {}", requestNo, e.toString());
            throw new AbortConnection("client hung up on stream #" + requestNo, e);
        }
        completedStreams.incrementAndGet();
        ex.close();
    }

    /**
     * Has the pacer write the stream's tokens and waits until it has written them all; a failed write comes back as
     * its IOException (the client left, or {@link TokenPacer.Closed}: the server is closing).
     */
    private void awaitPaced(TokenPacer p, PacedStream paced, int requestNo) throws IOException {
        CompletableFuture<Void> done = p.submit(paced);
        try {
            done.get();
        } catch (InterruptedException e) {
            paced.givenUp = true;
            Thread.currentThread().interrupt();
            throw new AbortConnection("server closing during stream #" + requestNo, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof IOException io) {
                throw io;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            throw new IllegalStateException("the token pacer failed on stream #" + requestNo, cause);
        }
    }

    /**
     * A paced stream's tokens as the {@link TokenPacer} writes them: token {@code i} falls due {@code i + 1} pauses
     * after the stream started (as when the handler pauses before each token), and each tick writes every token due
     * by then in one write and flush. The listener is told of each with the time that write was flushed.
     */
    private final class PacedStream implements TokenPacer.Paced {
        private final OutputStream out;
        private final Dialect dialect;
        private final RecordedRequest request;
        private final Reply reply;
        private final List<String> tokens;
        private final int limit;
        private final long pauseNanos;
        private final long startNanos = System.nanoTime();
        private int next;
        /** Set when the handler stopped waiting (the server is closing): nothing more is written. */
        volatile boolean givenUp;

        PacedStream(
                OutputStream out, Dialect dialect, RecordedRequest request, Reply reply, int limit, long pauseNanos) {
            this.out = out;
            this.dialect = dialect;
            this.request = request;
            this.reply = reply;
            this.tokens = reply.tokens();
            this.limit = limit;
            this.pauseNanos = pauseNanos;
        }

        @Override
        public boolean writeDue(long nowNanos) throws IOException {
            if (givenUp) {
                return true;
            }
            int due = (int) Math.min(limit, (nowNanos - startNanos) / pauseNanos);
            if (due <= next) {
                return false;
            }
            out.write(dialect.streamTokens(reply, tokens.subList(next, due), clock.instant()));
            out.flush();
            Instant at = clock.instant();
            tokensStreamed.addAndGet(due - next);
            if (tokenListener != null) {
                for (int i = next; i < due; i++) {
                    tokenListener.written(request, tokens, i, at);
                }
            }
            next = due;
            return next == limit;
        }
    }

    /** Silence (token-wise) until the client leaves, which the next keep-alive write reveals, or the server closes. */
    private void stall(OutputStream out, Dialect dialect, Reply reply, int requestNo) throws IOException {
        LOG.debug("Stream #{}: stalled", requestNo);
        stalledResponses.incrementAndGet();
        try {
            while (!awaitClosing(probeNanos)) {
                write(out, dialect.keepAlive(reply, clock.instant()));
            }
        } finally {
            stalledResponses.decrementAndGet();
        }
        throw new AbortConnection("server closing while stream #" + requestNo + " is stalled");
    }

    /**
     * OpenAI's {@code GET /models} (its OpenAPI spec, {@code listModels}): {@code {"object": "list", "data": [{"id",
     * "object": "model", "created", "owned_by"}]}}, 401 without the key.
     */
    private void models(HttpExchange ex) throws IOException {
        if (!authorized(ex)) {
            error(ex, openAi, 401, "Incorrect API key provided", OptionalInt.empty());
            return;
        }
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("object", "list");
        ArrayNode data = root.putArray("data");
        for (String name : listedModels) {
            ObjectNode model = data.addObject();
            model.put("id", name);
            model.put("object", "model");
            model.put("created", clock.instant().getEpochSecond());
            model.put("owned_by", "thoughtstream-fake");
        }
        send(ex, 200, openAi.jsonContentType(), OpenAiDialect.json(root));
    }

    /**
     * Ollama's {@code GET /api/tags} ("List Local Models" in Ollama's docs/api.md): every model under its full name,
     * tag included, {@code latest} where none was given ("Model names", same page), as Ollama lists a model pulled
     * as {@code llama3.2} as {@code llama3.2:latest}.
     */
    private void tags(HttpExchange ex) throws IOException {
        ObjectNode root = Json.mapper().createObjectNode();
        ArrayNode models = root.putArray("models");
        for (String name : listedModels) {
            String tagged = withOllamaTag(name);
            ObjectNode model = models.addObject();
            model.put("name", tagged);
            model.put("model", tagged);
            model.put("modified_at", clock.instant().toString());
            model.put("size", 0);
            model.put("digest", "0000000000000000000000000000000000000000000000000000000000000000");
            ObjectNode details = model.putObject("details");
            details.put("parent_model", "");
            details.put("format", "fake");
            details.put("family", "fake");
            details.putArray("families").add("fake");
            details.put("parameter_size", "0B");
            details.put("quantization_level", "none");
        }
        send(ex, 200, ollama.jsonContentType(), OpenAiDialect.json(root));
    }

    /** {@code name} with Ollama's default tag when it has none; a namespace ({@code library/llama3.2}) has slashes. */
    static String withOllamaTag(String name) {
        int slash = name.lastIndexOf('/');
        return name.indexOf(':', slash + 1) >= 0 ? name : name + ":latest";
    }

    private void version(HttpExchange ex) throws IOException {
        ObjectNode root = Json.mapper().createObjectNode();
        root.put("version", "0.0.0-fake");
        send(ex, 200, ollama.jsonContentType(), OpenAiDialect.json(root));
    }

    private void notFound(HttpExchange ex, String method, String path) throws IOException {
        ex.getRequestBody().readAllBytes();
        if (path.startsWith("/api/")) {
            send(ex, 404, ollama.jsonContentType(), ollama.error(404, "404 page not found"));
        } else {
            send(ex, 404, openAi.jsonContentType(), openAi.error(404, "Unknown request URL: " + method + " " + path));
        }
    }

    private boolean allowed(HttpExchange ex, String method, Dialect dialect) throws IOException {
        if (method.equals(ex.getRequestMethod())) {
            return true;
        }
        ex.getRequestBody().readAllBytes();
        ex.getResponseHeaders().set("Allow", method);
        send(
                ex,
                405,
                dialect.jsonContentType(),
                dialect.error(
                        405,
                        "Method " + ex.getRequestMethod() + " not allowed on "
                                + ex.getRequestURI().getPath() + "; use " + method));
        return false;
    }

    private boolean authorized(HttpExchange ex) {
        return apiKey == null
                || ("Bearer " + apiKey).equals(ex.getRequestHeaders().getFirst("Authorization"));
    }

    private static void error(HttpExchange ex, Dialect dialect, int status, String message, OptionalInt retryAfter)
            throws IOException {
        retryAfter.ifPresent(s -> ex.getResponseHeaders().set("Retry-After", Integer.toString(s)));
        send(ex, status, dialect.jsonContentType(), dialect.error(status, message));
    }

    private static void send(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
        ex.getResponseHeaders().set("Content-Type", contentType);
        ex.sendResponseHeaders(status, body.length == 0 ? -1 : body.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(body);
        }
        ex.close();
    }

    private static void write(OutputStream out, byte[] bytes) throws IOException {
        if (bytes.length > 0) {
            out.write(bytes);
            out.flush();
        }
    }

    /** Waits while requests are held; true if the server is closing (an interrupt counts as closing). */
    private boolean awaitRelease() {
        synchronized (holdLock) {
            while (holding && !isClosing()) {
                try {
                    holdLock.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return true;
                }
            }
        }
        return isClosing();
    }

    private boolean isClosing() {
        return closing.getCount() == 0;
    }

    /** Waits up to {@code nanos}; true if the server is closing (an interrupt counts as closing). */
    private boolean awaitClosing(long nanos) {
        try {
            return closing.await(nanos, TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return true;
        }
    }

    private static long saturatedNanos(Duration duration) {
        try {
            return duration.toNanos();
        } catch (ArithmeticException e) {
            // Longer than ~292 years: effectively forever, which is what such a latency asks for.
            return Long.MAX_VALUE;
        }
    }

    /** Thrown by a handler to have the connection closed with the response unfinished. */
    private static final class AbortConnection extends IOException {
        private static final long serialVersionUID = 1L;

        AbortConnection(String message) {
            super(message);
        }

        AbortConnection(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * Runs the JDK server's exchanges on named daemon threads. The JDK server closes a connection inside the
     * exchange task, after the handler threw; afterExecute runs once that is done, so a deliberate cut-off is
     * counted only when the client can already see it.
     */
    private final class ExchangeExecutor extends ThreadPoolExecutor {
        ExchangeExecutor(int port) {
            super(
                    0,
                    maxConcurrentRequests,
                    30,
                    TimeUnit.SECONDS,
                    new SynchronousQueue<>(),
                    threadFactory(port),
                    (task, pool) -> {
                        LOG.warn(
                                "Fake LLM server on port {}: all {} handler threads busy, dropping a connection",
                                port,
                                pool.getMaximumPoolSize());
                        throw new RejectedExecutionException("fake LLM server busy");
                    });
        }

        @Override
        protected void afterExecute(Runnable task, Throwable failure) {
            super.afterExecute(task, failure);
            if (Boolean.TRUE.equals(cutOffPending.get())) {
                cutOffPending.remove();
                cutOffResponses.incrementAndGet();
            }
        }
    }

    private static ThreadFactory threadFactory(int port) {
        AtomicInteger n = new AtomicInteger();
        return task -> {
            Thread t = new Thread(task, "fake-llm-" + port + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }

    public static final class Builder {
        private int port;
        private String apiKey;
        private String modelName = DEFAULT_MODEL;
        private List<String> listedModels;
        private Responder responder = Responder.echo();
        private Clock clock = Clock.systemUTC();
        private Duration probeInterval = DEFAULT_PROBE_INTERVAL;
        private int maxConcurrentRequests = DEFAULT_MAX_CONCURRENT_REQUESTS;
        private int recordLimit = DEFAULT_RECORD_LIMIT;
        private TokenListener tokenListener;
        private Duration pacingTick = Duration.ZERO;

        private Builder() {}

        /** The port to bind on 127.0.0.1; 0 (the default) picks a free one. */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0-65535: " + port);
            }
            this.port = port;
            return this;
        }

        /** Requires {@code Authorization: Bearer <apiKey>} on OpenAI endpoints; by default nothing is checked. */
        public Builder apiKey(String apiKey) {
            if (apiKey == null || apiKey.isBlank()) {
                throw new IllegalArgumentException("apiKey must not be blank");
            }
            this.apiKey = apiKey;
            return this;
        }

        /** The model listed by {@code /v1/models} and {@code /api/tags}; replies echo the requested model. */
        public Builder modelName(String modelName) {
            if (modelName == null || modelName.isBlank()) {
                throw new IllegalArgumentException("modelName must not be blank");
            }
            this.modelName = modelName;
            return this;
        }

        /**
         * The models {@code /v1/models} and {@code /api/tags} list instead of the {@link #modelName(String) model
         * name}; none for a server with no model installed. Chat requests are answered whatever model they name.
         */
        public Builder listedModels(String... names) {
            for (String name : names) {
                if (name == null || name.isBlank()) {
                    throw new IllegalArgumentException("listed model names must not be blank");
                }
            }
            this.listedModels = List.of(names);
            return this;
        }

        public Builder responder(Responder responder) {
            this.responder = Objects.requireNonNull(responder, "responder");
            return this;
        }

        /** Timestamps of records and replies. */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /** How often a stalled stream writes a token-less keep-alive to notice a client that hung up. */
        public Builder probeInterval(Duration probeInterval) {
            Objects.requireNonNull(probeInterval, "probeInterval");
            if (probeInterval.isNegative() || probeInterval.isZero()) {
                throw new IllegalArgumentException("probeInterval must be positive: " + probeInterval);
            }
            this.probeInterval = probeInterval;
            return this;
        }

        /**
         * Requests handled at once (one thread each, hung and stalled ones included); connections beyond it are
         * dropped with a warning.
         */
        public Builder maxConcurrentRequests(int maxConcurrentRequests) {
            if (maxConcurrentRequests < 1) {
                throw new IllegalArgumentException("maxConcurrentRequests must be positive: " + maxConcurrentRequests);
            }
            this.maxConcurrentRequests = maxConcurrentRequests;
            return this;
        }

        /** How many of the most recent requests {@link FakeLlmServer#requests()} keeps; bounds memory in benchmarks. */
        public Builder recordLimit(int recordLimit) {
            if (recordLimit < 1) {
                throw new IllegalArgumentException("recordLimit must be positive: " + recordLimit);
            }
            this.recordLimit = recordLimit;
            return this;
        }

        /** Told of every streamed token as it is written (none by default); see {@link TokenListener}. */
        public Builder tokenListener(TokenListener tokenListener) {
            this.tokenListener = Objects.requireNonNull(tokenListener, "tokenListener");
            return this;
        }

        /**
         * Writes paced streams' tokens from one shared thread every {@code tick}: each stream, all its tokens that
         * fell due since the last tick (several events) in one write and one flush, a token at most one tick after
         * it was due. The default, {@link Duration#ZERO}, has each stream's handler thread sleep before each token
         * and write and flush it alone, as close to its pace as the machine allows but at a thread wake-up and a socket write per
         * token. For benchmarks with hundreds of streams at once, whose clients read what they are sent (a client
         * that stops reading a long stream blocks the shared thread once its socket buffers are full). The
         * {@link TokenListener} is then told of each token on that thread, with the time its write was flushed.
         */
        public Builder pacingTick(Duration tick) {
            Objects.requireNonNull(tick, "tick");
            if (tick.isNegative()) {
                throw new IllegalArgumentException("pacingTick must not be negative: " + tick);
            }
            this.pacingTick = tick;
            return this;
        }

        public FakeLlmServer build() {
            return new FakeLlmServer(this);
        }
    }
}
