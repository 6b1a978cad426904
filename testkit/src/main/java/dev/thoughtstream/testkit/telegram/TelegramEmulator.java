package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.thoughtstream.common.net.HttpServers;
import dev.thoughtstream.common.service.NamedThreads;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Telegram Bot API emulator over real HTTP: the real TelegramBots clients (long polling, webhook, OkHttp
 * client) talk to it exactly as to {@code api.telegram.org}, and people are played through its Java API, its
 * control API ({@code /emulator/...}) or the web chat page at {@code /}, all on one port.
 *
 * <pre>{@code
 * try (TelegramEmulator telegram = TelegramEmulator.builder().botToken("123:abc").build().start()) {
 *     TelegramUrl url = new TelegramUrl("http", "127.0.0.1", telegram.port(), false);
 *     telegram.injectMessage(42, "hello");
 *     ...
 *     List<TranscriptEntry> seen = telegram.transcript(42);
 * }
 * }</pre>
 *
 * <p>Telegram semantics kept on purpose: updates stay pending until confirmed by a higher getUpdates offset
 * (or a successful webhook delivery) and are dropped a day old; one long poll at a time (409 for the older); webhook
 * deliveries up to {@code max_connections} at once, one at a time per chat, chats out of order, failures retried on
 * Telegram's schedule (up to 60–120 s apart, see {@link Builder#webhookRetryBackoff}); message ids per chat shared by
 * person and bot;
 * Telegram's error codes and descriptions. Its HTTP answers go out without Nagle's delay ({@code HttpServers}), as a
 * real Bot API server's do. Threads: a bounded pool of named daemon threads for HTTP (each long poll holds one),
 * one daemon thread handing out webhook deliveries and the webhook client's pool; all stopped by {@link #close()}.
 */
public final class TelegramEmulator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TelegramEmulator.class);

    /** The port the laptop stack uses unless EMULATOR_PORT says otherwise (read by the caller). */
    public static final int DEFAULT_DEVSTACK_PORT = 8088;

    private final int requestedPort;
    private final InetAddress bindAddress;
    private final Clock clock;
    private final BotIdentity bot;
    private final int maxHttpThreads;

    private final ChatJournal journal;
    private final UpdateQueue updates;
    private final ChatRegistry chats;
    private final FaultInjector faults;
    private final CallLog calls;
    private final BotApi botApi;

    private HttpServer server;
    private ThreadPoolExecutor httpExecutor;
    private ExecutorService webhookHttpExecutor;
    private ExecutorService webhookConnections;
    private PlainHttpPoster webhookPoster;
    private Thread webhookThread;
    private boolean closed;

    private TelegramEmulator(Builder b) {
        this.requestedPort = b.port;
        this.bindAddress = b.bindAddress;
        this.clock = b.clock;
        this.bot = b.bot;
        this.maxHttpThreads = b.maxHttpThreads;
        this.journal = b.stateDirectory == null ? ChatJournal.inMemory() : ChatJournal.open(b.stateDirectory);
        try {
            // Update ids continue after the saved ones, as Telegram's never go back (unless restarted on purpose).
            long firstUpdateId = Math.max(b.firstUpdateId, ChatRegistry.nextUpdateIdAfter(journal.saved()));
            this.updates = new UpdateQueue(
                    firstUpdateId, clock, new WebhookRetryPolicy(b.webhookInitialBackoff, b.webhookMaxBackoff));
            this.chats = new ChatRegistry(clock, bot, updates, b.firstMessageId, journal);
        } catch (RuntimeException e) {
            journal.close();
            throw e;
        }
        this.faults = new FaultInjector(clock);
        this.calls = new CallLog(clock);
        this.botApi = new BotApi(b.botToken, chats, updates, faults, calls);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Binds the port and starts serving.
     *
     * @throws UncheckedIOException naming the port when it cannot be bound
     * @throws IllegalStateException when already started or closed
     */
    public synchronized TelegramEmulator start() {
        if (server != null || closed) {
            throw new IllegalStateException("the emulator can be started once");
        }
        httpExecutor = new ThreadPoolExecutor(
                maxHttpThreads,
                maxHttpThreads,
                30,
                TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(),
                NamedThreads.daemon("tg-emulator-http"));
        // Threads come and go with load; a long poll holds one for its whole timeout.
        httpExecutor.allowCoreThreadTimeOut(true);
        try {
            server = HttpServers.create(new InetSocketAddress(bindAddress, requestedPort), 128);
        } catch (IOException e) {
            httpExecutor.shutdownNow();
            throw new UncheckedIOException(
                    "Telegram emulator cannot bind " + bindAddress.getHostAddress() + ":" + requestedPort, e);
        }
        server.setExecutor(httpExecutor);
        ControlApi controlApi = new ControlApi(this);
        // One root context routing by prefix: HttpServer's own context matching differs between JDKs.
        server.createContext("/", exchange -> {
            if (exchange.getRequestURI().getPath().startsWith("/bot")) {
                botApi.handle(exchange);
            } else {
                controlApi.handle(exchange);
            }
        });
        server.start();

        webhookHttpExecutor = Executors.newCachedThreadPool(NamedThreads.daemon("tg-emulator-webhook-http"));
        HttpClient webhookClient = HttpClient.newBuilder()
                .connectTimeout(Duration.ofSeconds(5))
                .executor(webhookHttpExecutor)
                .build();
        webhookConnections = Executors.newCachedThreadPool(NamedThreads.daemon("tg-emulator-webhook-connection"));
        webhookPoster = new PlainHttpPoster(Duration.ofSeconds(5), Duration.ofSeconds(10));
        webhookThread = NamedThreads.daemon("tg-emulator-webhook")
                .newThread(new WebhookDeliverer(
                        updates, webhookClient, webhookPoster, webhookConnections, Duration.ofSeconds(10)));
        webhookThread.start();
        LOG.info("Telegram emulator listening on {} (bot @{})", baseUrl(), bot.username());
        return this;
    }

    /** The bound port (the real one when 0 was requested). */
    public synchronized int port() {
        if (server == null) {
            throw new IllegalStateException("the emulator is not started");
        }
        return server.getAddress().getPort();
    }

    /** {@code http://127.0.0.1:<port>}; the Bot API lives under {@code /bot<token>/}. */
    public String baseUrl() {
        return "http://127.0.0.1:" + port();
    }

    public BotIdentity bot() {
        return bot;
    }

    /** The emulator's clock, epoch millis (timestamps in transcripts and calls come from it). */
    public long now() {
        return clock.millis();
    }

    // ---- people -------------------------------------------------------------------------------------------

    /** A person writes {@code text} in the private chat {@code chatId} (their user id), as "User". */
    public UserMessage injectMessage(long chatId, String text) {
        return injectMessage(IncomingMessage.text(chatId, text).build());
    }

    /**
     * A person sends a message; it becomes a pending update for the bot.
     *
     * @throws IllegalArgumentException for an invalid message (e.g. empty text, a private chat id that is
     *                                  not the sender's user id, a group message without a sender)
     * @throws java.util.NoSuchElementException when replying to a message the chat does not have
     */
    public UserMessage injectMessage(IncomingMessage message) {
        return chats.inject(message);
    }

    /** A person edits their own message; the bot gets an edited_message update. */
    public UserMessage editMessage(long chatId, int messageId, String newText) {
        return chats.editUserMessage(chatId, messageId, newText);
    }

    /**
     * An update exactly as given, with the next {@code update_id}: for what the emulator does not model, such as a
     * field Telegram added after every library was written. The chats and their transcripts do not see it.
     *
     * @return its update id
     */
    public long injectUpdate(ObjectNode update) {
        ObjectNode copy = update.deepCopy();
        return updates.enqueue(id -> {
            ObjectNode withId = JsonNodeFactory.instance.objectNode().put("update_id", id);
            copy.properties().forEach(field -> {
                if (!field.getKey().equals("update_id")) {
                    withId.set(field.getKey(), field.getValue());
                }
            });
            return withId;
        });
    }

    /** Everything a person would have seen in the chat, in order; empty for an unknown chat. */
    public List<TranscriptEntry> transcript(long chatId) {
        return transcript(chatId, 0);
    }

    /** The transcript from entry index {@code since} on (for incremental polling). */
    public List<TranscriptEntry> transcript(long chatId, int since) {
        return chats.transcript(chatId, since);
    }

    /** The texts the bot sent to the chat as new messages, in order (a common assertion). */
    public List<String> botTexts(long chatId) {
        return transcript(chatId).stream()
                .filter(e -> e.isFromBot() && e.isMessage())
                .map(TranscriptEntry::text)
                .toList();
    }

    public List<ChatSummary> chats() {
        return chats.summaries();
    }

    /** The person blocks the bot: sending to the chat answers 403. */
    public void block(long chatId) {
        chats.setBlocked(chatId, true);
    }

    public void unblock(long chatId) {
        chats.setBlocked(chatId, false);
    }

    // ---- Telegram's failures ------------------------------------------------------------------------------

    /**
     * The next {@code times} calls of {@code method} (for {@code chatId}, or any chat when null) fail with
     * {@code status}; 429 answers carry {@code retryAfterSeconds} (at least 1).
     *
     * @param description null for Telegram's default text for that status
     */
    public void addFault(String method, int status, int retryAfterSeconds, int times, Long chatId, String description) {
        faults.add(method, status, retryAfterSeconds, times, chatId, description);
    }

    /** The next {@code times} calls of {@code method} fail with {@code status} and Telegram's default text. */
    public void addFault(String method, int status, int times) {
        addFault(method, status, 0, times, null, null);
    }

    /**
     * The next {@code fault.remaining()} matching calls are answered as {@code fault} says: the Bot API's JSON error,
     * or (with a body) exactly that status, content type and body. For Telegram's front end answering instead of the
     * Bot API (nginx's HTML 502 or 504 page) use {@link Fault#nginx}:
     * {@code addFault(Fault.nginx("sendMessage", 502, 3))}.
     */
    public void addFault(Fault fault) {
        faults.add(fault);
    }

    /**
     * The next {@code times} calls of {@code method} are answered {@code status} with this content type and body
     * instead of the Bot API's JSON (any status from 200 to 599, any content type, any body).
     */
    public void addFault(String method, int status, int times, String contentType, String body) {
        addFault(new Fault(method, status, 0, times, null, null, contentType, body == null ? "" : body, false));
    }

    public List<Fault> faults() {
        return faults.faults();
    }

    public void clearFaults() {
        faults.clearFaults();
    }

    /**
     * Turns on flood limits for sendMessage/editMessageText: more than the given calls within one second (per chat,
     * overall) answer 429 with retry_after. 0 leaves that dimension unlimited; groups are not limited apart. Off by
     * default.
     */
    public void enforceLimits(int perChatPerSecond, int globalPerSecond) {
        enforceLimits(perChatPerSecond, 0, globalPerSecond);
    }

    /**
     * Turns on Telegram's flood limits for sendMessage/editMessageText: more than {@code perChatPerSecond} calls into
     * one chat within a second, {@code perGroupPerMinute} into one group chat within a minute, or
     * {@code globalPerSecond} overall within a second answer 429 with retry_after ({@link FloodWindows}). 0 leaves
     * that dimension unlimited. Off by default.
     */
    public void enforceLimits(int perChatPerSecond, int perGroupPerMinute, int globalPerSecond) {
        faults.enforceLimits(perChatPerSecond, perGroupPerMinute, globalPerSecond);
    }

    /** Telegram's documented limits: 1 message a second per chat, 20 a minute per group, 30 a second overall. */
    public void enforceTelegramLimits() {
        enforceLimits(1, 20, 30);
    }

    public void disableLimits() {
        faults.enforceLimits(0, 0, 0);
    }

    // ---- observation --------------------------------------------------------------------------------------

    /** Recorded Bot API calls of {@code method} (case-insensitive; null for all), oldest first. */
    public List<ApiCall> calls(String method) {
        return calls.calls(method);
    }

    public List<ApiCall> calls() {
        return calls.calls(null);
    }

    /** Updates not yet confirmed by the bot. */
    public int pendingUpdates() {
        return updates.pendingCount();
    }

    /** Every update id below this has been confirmed (by a getUpdates offset or a webhook delivery). */
    public long confirmedOffset() {
        return updates.confirmedOffset();
    }

    /**
     * Telegram restarting its update ids after a long idle: the next update gets {@code next} (usually lower than the
     * ids so far). A poller still asking for the old offset is answered from the head of the queue, as the real
     * server answers an offset out of its queue's range; see {@link UpdateQueue#restartIds}.
     *
     * @throws IllegalStateException while updates are pending (Telegram restarts only after a week without any)
     */
    public void restartUpdateIds(long next) {
        updates.restartIds(next);
    }

    /** The update id the next update gets. */
    public long nextUpdateId() {
        return updates.nextUpdateId();
    }

    /** getUpdates long polls currently waiting. */
    public int activePolls() {
        return updates.activePolls();
    }

    public WebhookInfo webhook() {
        return updates.webhookInfo();
    }

    /**
     * Forgets chats (also those kept in the state directory), pending updates, the webhook, faults, limits, calls and
     * commands. Update ids keep increasing, so a bot that keeps polling across a reset is not confused by reused ids.
     */
    public void reset() {
        chats.reset();
        updates.reset();
        faults.reset();
        calls.clear();
        botApi.resetCommands();
        LOG.info("Telegram emulator reset");
    }

    /**
     * Stops serving: waiting long polls answer empty, webhook delivery stops, all threads end; the state directory's
     * journal, if any, is flushed to the disk and released.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        updates.close();
        if (server != null) {
            server.stop(0);
            httpExecutor.shutdownNow();
            webhookThread.interrupt();
            webhookHttpExecutor.shutdownNow();
            webhookConnections.shutdownNow();
            webhookPoster.close();
            try {
                if (!httpExecutor.awaitTermination(5, TimeUnit.SECONDS)) {
                    LOG.warn("Telegram emulator HTTP threads did not stop within 5 s");
                }
                webhookThread.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        journal.close();
        LOG.info("Telegram emulator stopped");
    }

    /** Configuration; every value has a default suitable for tests. */
    public static final class Builder {
        private int port;
        private InetAddress bindAddress = InetAddress.getLoopbackAddress();
        private Clock clock = Clock.systemUTC();
        private String botToken;
        private BotIdentity bot = BotIdentity.DEFAULT;
        private int maxHttpThreads = 64;
        private Duration webhookInitialBackoff = WebhookRetryPolicy.TELEGRAM_FIRST_DELAY;
        private Duration webhookMaxBackoff = WebhookRetryPolicy.TELEGRAM_MAX_DELAY;
        private long firstUpdateId = 1;
        private int firstMessageId = 1;
        private Path stateDirectory;

        private Builder() {}

        /**
         * Where update ids and each chat's message ids start (default 1). Message ids are never reused, and update
         * ids only restart after a week without updates ({@link TelegramEmulator#restartUpdateIds}); the pipeline relies on that
         * (deduplication by update id within its TTL, staleness by message id), so an emulator that is restarted
         * beside a pipeline that keeps its state must start above every id it handed out before.
         */
        public Builder idsStartAt(long updateId, int messageId) {
            if (updateId < 1 || updateId > Integer.MAX_VALUE || messageId < 1) {
                throw new IllegalArgumentException("ids must be in 1..2^31-1 (Telegram's clients use 32-bit ints)");
            }
            this.firstUpdateId = updateId;
            this.firstMessageId = messageId;
            return this;
        }

        /**
         * Ids above any an earlier run of an emulator could have handed out, for an emulator restarted beside a
         * pipeline that keeps its state: the epoch second of {@code clock}, which outgrows a person's message rate
         * over any run (and fits Telegram's 32-bit ids until 2038).
         */
        public Builder idsAbovePreviousRuns(Clock clock) {
            int idBase = (int) Math.min(clock.instant().getEpochSecond(), Integer.MAX_VALUE - 100_000_000L);
            return idsStartAt(idBase, idBase);
        }

        /**
         * Keeps the chats (each one's messages, transcript and whether the bot is blocked) in {@code directory},
         * created if missing, so an emulator started again on it shows the same chats, as the bot beside it remembers
         * them; see {@link ChatJournal}. Update ids continue after the saved ones. Updates the bot had not fetched, the
         * webhook, faults, limits and recorded calls are not kept. Null (the default) keeps everything in memory only.
         * The directory is read by {@link #build()}, which fails naming it when it cannot be used (for instance
         * while another emulator runs on it).
         */
        public Builder stateDirectory(Path directory) {
            this.stateDirectory = directory;
            return this;
        }

        /** 0 (the default) picks a free port. */
        public Builder port(int value) {
            if (value < 0 || value > 65_535) {
                throw new IllegalArgumentException("port must be 0-65535, was " + value);
            }
            this.port = value;
            return this;
        }

        /** Loopback by default; the laptop stack in a container may want the wildcard address. */
        public Builder bindAddress(InetAddress value) {
            this.bindAddress = Objects.requireNonNull(value, "bindAddress");
            return this;
        }

        public Builder clock(Clock value) {
            this.clock = Objects.requireNonNull(value, "clock");
            return this;
        }

        /** The only token accepted (others get 401); null (the default) accepts any token. */
        public Builder botToken(String value) {
            if (value != null && (value.isBlank() || value.contains("/"))) {
                throw new IllegalArgumentException("bot token must be non-blank and contain no '/'");
            }
            this.botToken = value;
            return this;
        }

        public Builder bot(BotIdentity value) {
            this.bot = Objects.requireNonNull(value, "bot");
            return this;
        }

        /** Upper bound on HTTP threads; each waiting long poll holds one. */
        public Builder maxHttpThreads(int value) {
            if (value < 2) {
                throw new IllegalArgumentException("maxHttpThreads must be at least 2, was " + value);
            }
            this.maxHttpThreads = value;
            return this;
        }

        /**
         * Scales Telegram's retry schedule of failed webhook deliveries, for tests that cannot wait minutes: the
         * first failure of an update is retried at once, later ones after {@code 2 × initial}, doubling, capped at a
         * value drawn between {@code max} and {@code 2 × max} each time. Telegram's (the default) is 1 s and 60 s:
         * 0, 2, 4, 8, 16, 32 s, then 60–120 s. A {@code Retry-After} in the webhook's answer and the day after which
         * an undelivered update is dropped are not scaled. For time without waiting, give the emulator a clock the
         * test moves ({@link #clock}); the deliverer notices a moved clock within a few milliseconds.
         */
        public Builder webhookRetryBackoff(Duration initial, Duration max) {
            if (initial.isNegative() || initial.isZero() || max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("webhook backoff needs 0 < initial <= max");
            }
            this.webhookInitialBackoff = initial;
            this.webhookMaxBackoff = max;
            return this;
        }

        public TelegramEmulator build() {
            return new TelegramEmulator(this);
        }
    }
}
