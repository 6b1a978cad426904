package dev.thoughtstream.emitter.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.telegram.TelegramLimits;
import dev.thoughtstream.emitter.SlowBotApi;
import dev.thoughtstream.emitter.telegram.MessageSender.RateLimited;
import dev.thoughtstream.emitter.telegram.MessageSender.Rejected;
import dev.thoughtstream.emitter.telegram.MessageSender.Retryable;
import dev.thoughtstream.emitter.telegram.MessageSender.SendResult;
import dev.thoughtstream.emitter.telegram.MessageSender.Sent;
import dev.thoughtstream.emitter.telegram.MessageSender.Unknown;
import dev.thoughtstream.emitter.telegram.TelegramMessageSender.ParseMode;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.telegram.ApiCall;
import dev.thoughtstream.testkit.telegram.Fault;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import dev.thoughtstream.testkit.telegram.TranscriptEntry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.telegram.telegrambots.meta.generics.TelegramClient;

/**
 * {@link TelegramMessageSender} with TelegramBots' real OkHttp client over real sockets: the emulator for
 * Telegram's answers, and small servers for the failures the emulator cannot play (silence, a closed port, a
 * connection that is never accepted).
 */
class TelegramMessageSenderTest {
    private static final String TOKEN = "555000111:SenderTestSecret_Xyz-987";
    private static final String SECRET_PART = TOKEN.substring(TOKEN.indexOf(':') + 1);
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    private static final long CHAT = 5_101;
    private static final long STRANGER = 5_199;

    private final Deque<AutoCloseable> closers = new ArrayDeque<>();
    private TelegramEmulator emulator;
    private Metrics metrics;

    @BeforeEach
    void setUp() {
        emulator = TelegramEmulator.builder().botToken(TOKEN).build().start();
        closers.push(emulator);
        metrics = new Metrics();
        // The person writes first; Telegram answers "chat not found" to a bot writing to a stranger.
        emulator.injectMessage(CHAT, "hi bot");
    }

    @AfterEach
    void tearDown() throws Exception {
        while (!closers.isEmpty()) {
            closers.pop().close();
        }
    }

    /** TelegramBots' client for {@code baseUrl} on its own OkHttp client, released after the test. */
    private TelegramClient client(String baseUrl, OkHttpClient.Builder http) {
        OkHttpClient built = http.build();
        closers.push(() -> TelegramClients.release(built));
        TelegramSettings settings = TelegramSettings.from(
                Config.of(Map.of(TelegramSettings.TOKEN, TOKEN, TelegramSettings.API_URL, baseUrl)));
        return TelegramClients.create(settings, built);
    }

    private TelegramMessageSender sender(ParseMode parseMode) {
        return new TelegramMessageSender(
                client(emulator.baseUrl(), TelegramClients.http().newBuilder()), new Secret(TOKEN), parseMode, metrics);
    }

    private long calls(String method, String result) {
        return metrics.counter(TelegramMessageSender.CALLS, "", "method", method, "result", result)
                .count();
    }

    private static void assertNoToken(SendResult result) {
        assertFalse(result.toString().contains(SECRET_PART), "the token is in " + result);
    }

    private List<Integer> sendMessageStatuses() {
        return emulator.calls("sendmessage").stream().map(ApiCall::status).toList();
    }

    // ---- what Telegram answers ----------------------------------------------------------------------------

    @Test
    void aTakenMessageIsSentWithTelegramsMessageIdAndCounted() {
        TelegramMessageSender sender = sender(ParseMode.NONE);

        SendResult result = sender.send(CHAT, "hello there");

        TranscriptEntry shown = emulator.transcript(CHAT).get(1);
        assertEquals(new Sent(shown.messageId()), result);
        assertEquals(List.of("hello there"), emulator.botTexts(CHAT));
        assertEquals(1, calls(TelegramMessageSender.SEND_MESSAGE, "sent"));
        String scrape = metrics.scrape();
        assertTrue(
                scrape.contains("thoughtstream_emitter_telegram_call_seconds_count{method=\"sendMessage\"} 1"), scrape);
        assertTrue(
                scrape.contains(
                        "thoughtstream_emitter_telegram_calls_total{method=\"sendMessage\",result=\"rejected\"} 0"),
                scrape);
    }

    @Test
    void tooManyRequestsWithRetryAfterIsRateLimitedForThatLong() {
        // given Telegram rate-limits the chat's next sendMessage for 7 s
        emulator.addFault("sendMessage", 429, 7, 1, CHAT, null);
        TelegramMessageSender sender = sender(ParseMode.NONE);

        // when a message is sent
        SendResult result = sender.send(CHAT, "too soon");

        // then the caller is told to wait 7 s, and nothing was shown or retried
        assertEquals(new RateLimited(Duration.ofSeconds(7)), result);
        assertEquals(List.of(429), sendMessageStatuses());
        assertEquals(List.of(), emulator.botTexts(CHAT));
        assertEquals(1, calls(TelegramMessageSender.SEND_MESSAGE, "rate_limited"));
    }

    @Test
    void aServerErrorIsRetryable() {
        emulator.addFault("sendMessage", 500, 0, 1, CHAT, null);
        TelegramMessageSender sender = sender(ParseMode.NONE);

        SendResult result = sender.send(CHAT, "into the error");

        Retryable retryable = assertInstanceOf(Retryable.class, result);
        assertTrue(retryable.reason().startsWith("500 Internal Server Error"), retryable.reason());
        assertEquals(List.of(500), sendMessageStatuses(), "no retry inside the sender");
        assertEquals(1, calls(TelegramMessageSender.SEND_MESSAGE, "retryable"));
        assertNoToken(result);
    }

    // ---- Telegram's front end answering instead of the Bot API (nginx's HTML pages) ------------------------

    @Test
    void anHtmlBadGatewayFromTelegramsFrontEndIsRetryableWithItsRealStatus() {
        // given Telegram's front end answers the next sendMessage with nginx's 502 page instead of the Bot API's JSON
        emulator.addFault(Fault.nginx("sendMessage", 502, 1));
        TelegramMessageSender sender = sender(ParseMode.NONE);

        // when a message is sent
        SendResult result = sender.send(CHAT, "through the gateway");

        // then it was not passed on: retryable, with the status and what answered, and nothing was shown
        Retryable retryable = assertInstanceOf(Retryable.class, result);
        assertTrue(
                retryable.reason().startsWith("502 Bad Gateway (text/html from Telegram's front end"),
                retryable.reason());
        assertEquals(List.of(502), sendMessageStatuses(), "no retry inside the sender");
        assertEquals(List.of(), emulator.botTexts(CHAT));
        assertEquals(1, calls(TelegramMessageSender.SEND_MESSAGE, "retryable"));
        assertEquals(0, calls(TelegramMessageSender.SEND_MESSAGE, "unknown"));
        assertNoToken(result);
    }

    @Test
    void anHtmlServiceUnavailableOrInternalErrorIsRetryable() {
        emulator.addFault(Fault.nginx("sendMessage", 503, 1));
        emulator.addFault(Fault.nginx("sendMessage", 500, 1).forChat(CHAT));
        TelegramMessageSender sender = sender(ParseMode.NONE);

        SendResult unavailable = sender.send(CHAT, "one");
        SendResult internal = sender.send(CHAT, "two");

        assertTrue(
                assertInstanceOf(Retryable.class, unavailable)
                        .reason()
                        .startsWith("503 Service Temporarily Unavailable"),
                unavailable.toString());
        assertTrue(
                assertInstanceOf(Retryable.class, internal).reason().startsWith("500 Internal Server Error"),
                internal.toString());
        assertEquals(2, calls(TelegramMessageSender.SEND_MESSAGE, "retryable"));
    }

    @Test
    void anHtmlGatewayTimeoutIsUnknownBecauseTheBotApiMayHaveSentTheMessage() {
        // given the Bot API sends the message, but its answer comes too late for the front end, which answers 504
        emulator.addFault(Fault.nginx("sendMessage", 504, 1).processedFirst());
        TelegramMessageSender sender = sender(ParseMode.NONE);

        // when a message is sent
        SendResult result = sender.send(CHAT, "slow but there");

        // then its fate is unknown (it was in fact shown), so the caller must not send it again
        Unknown unknown = assertInstanceOf(Unknown.class, result);
        assertTrue(unknown.reason().startsWith("504 Gateway Time-out (text/html"), unknown.reason());
        assertTrue(unknown.reason().contains("may have been sent"), unknown.reason());
        assertEquals(List.of("slow but there"), emulator.botTexts(CHAT));
        assertEquals(1, calls(TelegramMessageSender.SEND_MESSAGE, "unknown"));
        assertNoToken(result);
    }

    @Test
    void aNonJsonAnswerKeepsItsStatusMeaningForRateLimitsAndRefusals() {
        // given a plain-text 429 with a Retry-After header, then nginx's 413 page
        emulator.addFault(new Fault("sendMessage", 429, 4, 1, CHAT, null, "text/plain", "slow down", false));
        emulator.addFault(Fault.nginx("sendMessage", 413, 1));
        TelegramMessageSender sender = sender(ParseMode.NONE);

        // when two messages are sent
        SendResult limited = sender.send(CHAT, "too soon");
        SendResult refused = sender.send(CHAT, "too big");

        // then the 429 waits the header's time, and the 413 is a refusal that a retry will not change
        assertEquals(new RateLimited(Duration.ofSeconds(4)), limited);
        Rejected rejected = assertInstanceOf(Rejected.class, refused);
        assertEquals(413, rejected.status());
        assertTrue(rejected.reason().startsWith("413 Request Entity Too Large"), rejected.reason());
    }

    @Test
    void anErrorBodyWithoutATitleOrWithMislabelledJsonStillKeepsItsStatus() {
        // given a 502 in plain text without a title, then the Bot API's JSON 502 labelled as text/plain
        emulator.addFault(new Fault("sendMessage", 502, 0, 1, CHAT, null, "text/plain", "upstream down", false));
        emulator.addFault(new Fault(
                "sendMessage",
                502,
                0,
                1,
                CHAT,
                null,
                "text/plain",
                "{\"ok\":false,\"error_code\":502,\"description\":\"Bad Gateway\"}",
                false));
        TelegramMessageSender sender = sender(ParseMode.NONE);

        // when two messages are sent
        SendResult untitled = sender.send(CHAT, "one");
        SendResult mislabelled = sender.send(CHAT, "two");

        // then the first is named by the status line's reason phrase, and the JSON is read as it is
        assertTrue(
                assertInstanceOf(Retryable.class, untitled)
                        .reason()
                        .startsWith("502 Bad Gateway (text/plain from Telegram's front end"),
                untitled.toString());
        assertEquals(new Retryable("502 Bad Gateway"), mislabelled);
    }

    @Test
    void aTypingActionAnsweredByAnHtmlPageIsCountedAndNeverThrown() {
        emulator.addFault(Fault.nginx("sendChatAction", 502, 1));
        TelegramMessageSender sender = sender(ParseMode.NONE);

        sender.typing(CHAT);

        Await.until(
                "the failed typing action counted as retryable",
                TIMEOUT,
                () -> calls(TelegramMessageSender.SEND_CHAT_ACTION, "retryable") == 1);
    }

    @Test
    void aChatThatBlockedTheBotIsRejectedWithTelegramsDescription() {
        emulator.block(CHAT);
        TelegramMessageSender sender = sender(ParseMode.NONE);

        SendResult result = sender.send(CHAT, "you won't see this");

        assertEquals(new Rejected(403, "403 Forbidden: bot was blocked by the user"), result);
        assertEquals(1, calls(TelegramMessageSender.SEND_MESSAGE, "rejected"));
    }

    @Test
    void aChatThatWasNeverOpenedIsRejectedAsNotFound() {
        TelegramMessageSender sender = sender(ParseMode.NONE);

        SendResult result = sender.send(STRANGER, "hello stranger");

        assertEquals(new Rejected(400, "400 Bad Request: chat not found"), result);
    }

    @Test
    void aTextOverTelegramsLimitIsRejectedByTelegramSoTheCallerMustSplitIt() {
        TelegramMessageSender sender = sender(ParseMode.NONE);

        SendResult result = sender.send(CHAT, "x".repeat(TelegramLimits.MAX_MESSAGE_CHARS + 1));

        assertEquals(new Rejected(400, "400 Bad Request: message is too long"), result);
        assertEquals(List.of(400), sendMessageStatuses());
    }

    @Test
    void anEmptyTextIsRejectedWithoutANetworkCall() {
        TelegramMessageSender sender = sender(ParseMode.NONE);

        SendResult empty = sender.send(CHAT, "");
        SendResult missing = sender.send(CHAT, null);

        Rejected rejected = assertInstanceOf(Rejected.class, empty);
        assertEquals(TelegramMessageSender.NOT_SENT_STATUS, rejected.status());
        assertTrue(rejected.reason().startsWith("not sendable"), rejected.reason());
        assertEquals(
                TelegramMessageSender.NOT_SENT_STATUS,
                assertInstanceOf(Rejected.class, missing).status());
        assertEquals(List.of(), emulator.calls("sendmessage"));
        assertEquals(2, calls(TelegramMessageSender.SEND_MESSAGE, "rejected"));
    }

    // ---- answers that never come ----------------------------------------------------------------------------

    @Test
    void aRequestThatGotNoAnswerIsUnknownBecauseItMayHaveBeenDelivered() throws Exception {
        // given a server that takes the request and stays silent, and a client that waits 300 ms for an answer
        SilentServer silent = new SilentServer();
        closers.push(silent);
        TelegramMessageSender sender = new TelegramMessageSender(
                client(silent.baseUrl(), new OkHttpClient.Builder().readTimeout(Duration.ofMillis(300))),
                new Secret(TOKEN),
                ParseMode.NONE,
                metrics);

        // when a message is sent
        SendResult result = sender.send(CHAT, "lost in silence");

        // then the request was on the wire, and its fate is unknown
        assertTrue(silent.bytesRead() > 0, "the request reached the server");
        Unknown unknown = assertInstanceOf(Unknown.class, result);
        assertTrue(unknown.reason().contains("may have been sent"), unknown.reason());
        assertEquals(1, calls(TelegramMessageSender.SEND_MESSAGE, "unknown"));
        assertNoToken(result);
    }

    @Test
    void aClosedPortIsRetryableBecauseNothingWasSent() throws IOException {
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        TelegramMessageSender sender = new TelegramMessageSender(
                client("http://127.0.0.1:" + closedPort, TelegramClients.http().newBuilder()),
                new Secret(TOKEN),
                ParseMode.NONE,
                metrics);

        SendResult result = sender.send(CHAT, "knock knock");

        Retryable retryable = assertInstanceOf(Retryable.class, result);
        assertTrue(retryable.reason().contains("ConnectException"), retryable.reason());
        assertNoToken(result);
    }

    @Test
    void aConnectionThatIsNeverAcceptedTimesOutRetryable() throws IOException {
        // given a server whose accept queue is full, so that new connections never complete their handshake
        ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        closers.push(server);
        List<Socket> queued = new ArrayList<>();
        closers.push(() -> {
            for (Socket s : queued) {
                s.close();
            }
        });
        boolean full = false;
        for (int i = 0; i < 50 && !full; i++) {
            Socket filler = new Socket();
            try {
                filler.connect(server.getLocalSocketAddress(), 200);
                queued.add(filler);
            } catch (SocketTimeoutException e) {
                filler.close();
                full = true;
            }
        }
        assertTrue(full, "the accept queue filled up (a connect timed out)");
        TelegramMessageSender sender = new TelegramMessageSender(
                client(
                        "http://127.0.0.1:" + server.getLocalPort(),
                        new OkHttpClient.Builder().connectTimeout(Duration.ofMillis(300))),
                new Secret(TOKEN),
                ParseMode.NONE,
                metrics);

        // when a message is sent there
        SendResult result = sender.send(CHAT, "anyone home?");

        // then the connect timed out before a byte of the request left: safe to try again
        Retryable retryable = assertInstanceOf(Retryable.class, result);
        assertTrue(retryable.reason().toLowerCase().contains("connect timed out"), retryable.reason());
    }

    @Test
    void aSendOnTheWireIsSeenThroughAnInterruptAndTheFlagIsKept() throws Exception {
        // given a Bot API that holds every sendMessage until released
        SlowBotApi slow = new SlowBotApi();
        closers.push(slow);
        TelegramMessageSender sender = new TelegramMessageSender(
                client(slow.baseUrl(), TelegramClients.http().newBuilder()),
                new Secret(TOKEN),
                ParseMode.NONE,
                metrics);
        AtomicReference<SendResult> result = new AtomicReference<>();
        AtomicBoolean interruptedAfterwards = new AtomicBoolean();
        Thread lane = new Thread(
                () -> {
                    result.set(sender.send(CHAT, "held on the wire"));
                    interruptedAfterwards.set(Thread.currentThread().isInterrupted());
                },
                "test-lane");
        lane.setDaemon(true);
        lane.start();
        Await.until("the sendMessage on the wire", TIMEOUT, () -> slow.sendMessages() == 1);

        // when the lane is interrupted while the request is on the wire, and Telegram answers afterwards
        lane.interrupt();
        slow.release();

        // then the answer was awaited (the message id is known) and the interrupt is still there for the caller
        Await.until("the send to return", TIMEOUT, () -> !lane.isAlive());
        assertEquals(new Sent(SlowBotApi.MESSAGE_ID), result.get());
        assertTrue(interruptedAfterwards.get(), "the interrupt flag was restored");
    }

    @Test
    void anInterruptPendingOnEntryDoesNotStopTheSendAndIsKept() {
        // given a thread that is already interrupted
        TelegramMessageSender sender = sender(ParseMode.NONE);
        Thread.currentThread().interrupt();

        // when it sends
        SendResult result;
        boolean stillInterrupted;
        try {
            result = sender.send(CHAT, "despite the interrupt");
        } finally {
            stillInterrupted = Thread.interrupted();
        }

        // then the message went out and the interrupt is left for the caller
        assertInstanceOf(Sent.class, result);
        assertEquals(List.of("despite the interrupt"), emulator.botTexts(CHAT));
        assertTrue(stillInterrupted, "the interrupt flag was kept");
    }

    // ---- parse modes ------------------------------------------------------------------------------------------

    @Test
    void markdownV2WithAnUnescapedReservedCharacterIsResentOnceAsPlainText() {
        // given MarkdownV2 and a text whose '.' and '!' are not escaped
        TelegramMessageSender sender = sender(ParseMode.MARKDOWNV2);

        // when it is sent
        SendResult result = sender.send(CHAT, "Done. It costs 5.00!");

        // then Telegram refused the markup, the same text went out as plain text, and the person sees one message
        List<ApiCall> calls = emulator.calls("sendmessage");
        assertEquals(List.of(400, 200), calls.stream().map(ApiCall::status).toList());
        assertEquals("MarkdownV2", calls.get(0).param("parse_mode"));
        assertNull(calls.get(1).param("parse_mode"));
        assertEquals("Done. It costs 5.00!", calls.get(1).param("text"));
        assertEquals(List.of("Done. It costs 5.00!"), emulator.botTexts(CHAT));
        assertEquals(new Sent(emulator.transcript(CHAT).get(1).messageId()), result);
        assertEquals(1, metrics.counter(TelegramMessageSender.FALLBACKS, "").count());
        assertEquals(1, calls(TelegramMessageSender.SEND_MESSAGE, "rejected"));
        assertEquals(1, calls(TelegramMessageSender.SEND_MESSAGE, "sent"));
    }

    @Test
    void validMarkdownV2IsSentFormattedOnce() {
        TelegramMessageSender sender = sender(ParseMode.MARKDOWNV2);

        SendResult result = sender.send(CHAT, "*Done*\\. It costs 5\\.00\\!");

        assertInstanceOf(Sent.class, result);
        List<ApiCall> calls = emulator.calls("sendmessage");
        assertEquals(1, calls.size());
        assertEquals("MarkdownV2", calls.get(0).param("parse_mode"));
        // the person sees the text without its markup: Telegram parsed it
        assertEquals(List.of("Done. It costs 5.00!"), emulator.botTexts(CHAT));
        assertEquals(0, metrics.counter(TelegramMessageSender.FALLBACKS, "").count());
    }

    @Test
    void htmlWithABareLessThanSignIsResentAsPlainText() {
        TelegramMessageSender sender = sender(ParseMode.HTML);

        SendResult result = sender.send(CHAT, "if a < b then swap");

        assertInstanceOf(Sent.class, result);
        assertEquals(List.of(400, 200), sendMessageStatuses());
        assertEquals(List.of("if a < b then swap"), emulator.botTexts(CHAT));
    }

    @Test
    void aFormattedTextRefusedForAnotherReasonIsNotResent() {
        TelegramMessageSender sender = sender(ParseMode.MARKDOWNV2);

        SendResult result = sender.send(STRANGER, "*hello*");

        assertEquals(new Rejected(400, "400 Bad Request: chat not found"), result);
        assertEquals(List.of(400), sendMessageStatuses());
        assertEquals(0, metrics.counter(TelegramMessageSender.FALLBACKS, "").count());
    }

    // ---- typing -------------------------------------------------------------------------------------------

    @Test
    void typingShowsTheIndicatorInTheChat() {
        TelegramMessageSender sender = sender(ParseMode.NONE);

        sender.typing(CHAT);

        Await.until(
                "the typing action in the transcript",
                TIMEOUT,
                () -> emulator.transcript(CHAT).stream().anyMatch(e -> e.isFromBot() && "typing".equals(e.action())));
        Await.until(
                "the typing call counted", TIMEOUT, () -> calls(TelegramMessageSender.SEND_CHAT_ACTION, "sent") == 1);
    }

    @Test
    void typingFailuresAreCountedButNeverThrown() throws IOException {
        // given a blocked chat, and a Bot API that is not there at all
        emulator.block(CHAT);
        TelegramMessageSender sender = sender(ParseMode.NONE);
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        TelegramMessageSender nowhere = new TelegramMessageSender(
                client("http://127.0.0.1:" + closedPort, TelegramClients.http().newBuilder()),
                new Secret(TOKEN),
                ParseMode.NONE,
                metrics);

        // when typing is shown in both
        sender.typing(CHAT);
        nowhere.typing(CHAT);

        // then both calls returned normally, and their failures were classified
        Await.until(
                "both typing failures counted",
                TIMEOUT,
                () -> calls(TelegramMessageSender.SEND_CHAT_ACTION, "rejected") == 1
                        && calls(TelegramMessageSender.SEND_CHAT_ACTION, "retryable") == 1);
        assertEquals(
                List.of(403),
                emulator.calls("sendchataction").stream().map(ApiCall::status).toList());
    }

    @Test
    void typingDoesNotWaitForASilentTelegram() throws Exception {
        // given a silent server, a client that would wait 60 s for its answer, and a short typing wait
        SilentServer silent = new SilentServer();
        closers.push(silent);
        TelegramMessageSender sender = new TelegramMessageSender(
                client(silent.baseUrl(), new OkHttpClient.Builder().readTimeout(Duration.ofSeconds(60))),
                new Secret(TOKEN),
                ParseMode.NONE,
                metrics,
                TelegramMessageSender.IN_FLIGHT_LIMIT,
                Duration.ofMillis(100));
        Thread lane = new Thread(() -> sender.typing(CHAT), "test-typing");
        lane.setDaemon(true);

        // when typing is shown
        lane.start();

        // then the call went out, and typing returned long before the client's read timeout
        Await.until("typing to return", TIMEOUT, () -> !lane.isAlive());
        Await.until("the typing request on the wire", TIMEOUT, () -> silent.bytesRead() > 0);
    }

    @Test
    void anInterruptedTypingReturnsAtOnceAndKeepsTheFlag() throws Exception {
        SilentServer silent = new SilentServer();
        closers.push(silent);
        TelegramMessageSender sender = new TelegramMessageSender(
                client(silent.baseUrl(), new OkHttpClient.Builder().readTimeout(Duration.ofSeconds(60))),
                new Secret(TOKEN),
                ParseMode.NONE,
                metrics,
                TelegramMessageSender.IN_FLIGHT_LIMIT,
                Duration.ofSeconds(60));
        AtomicBoolean interruptedAfterwards = new AtomicBoolean();
        Thread lane = new Thread(
                () -> {
                    Thread.currentThread().interrupt();
                    sender.typing(CHAT);
                    interruptedAfterwards.set(Thread.currentThread().isInterrupted());
                },
                "test-typing");
        lane.setDaemon(true);

        lane.start();

        Await.until("typing to return", TIMEOUT, () -> !lane.isAlive());
        assertTrue(interruptedAfterwards.get(), "the interrupt flag was kept");
    }

    // ---- the token ------------------------------------------------------------------------------------------

    @Test
    void theTokenNeverReachesAReasonNorTheLogEvenWhenTelegramEchoesIt() throws IOException {
        // given Telegram answers with descriptions that quote the token (not in a URL the log layout would mask)
        String echo = "Bad Request: token " + TOKEN + " is not allowed here";
        emulator.addFault("sendMessage", 400, 0, 1, CHAT, echo);
        emulator.addFault("sendChatAction", 400, 0, 1, CHAT, echo);
        TelegramMessageSender sender = sender(ParseMode.NONE);

        // when a message and a typing action fail with it
        SendResult result = sender.send(CHAT, "echo");
        sender.typing(CHAT);
        Await.until(
                "the typing failure counted",
                TIMEOUT,
                () -> calls(TelegramMessageSender.SEND_CHAT_ACTION, "rejected") == 1);

        // then the reason says what happened without the token ...
        assertEquals(new Rejected(400, "400 Bad Request: token <redacted> is not allowed here"), result);
        // ... and the log file (which has the typing failure's line) does not carry it either
        Path log = Path.of(System.getProperty("thoughtstream.log.dir", "target/logs"), "test.log");
        String written = Await.value("the typing failure in " + log, TIMEOUT, () -> {
            try {
                String text = Files.readString(log, StandardCharsets.UTF_8);
                return text.contains("chat " + CHAT + ": typing action failed") ? Optional.of(text) : Optional.empty();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        assertTrue(written.contains("token <redacted> is not allowed here"), "the failure was logged, redacted");
        assertFalse(written.contains(SECRET_PART), "the token is in " + log);
    }
}
