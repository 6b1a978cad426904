package dev.thoughtstream.emitter;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import dev.thoughtstream.testkit.telegram.TranscriptEntry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.telegram.telegrambots.meta.generics.TelegramClient;

/** One part's way to the person, against the emulator (or a slow Bot API) with the real TelegramBots client. */
class PartSenderTest {
    private static final long CHAT = 4_501;
    private static final Duration TTL = Duration.ofMinutes(10);

    private TelegramEmulator emulator;
    private RedisClaimStore claims;
    private OkHttpClient http;

    @BeforeEach
    void setUp() {
        emulator = TelegramEmulator.builder().botToken(EmitterFixture.TOKEN).build().start();
        emulator.injectMessage(CHAT, "hi");
        claims = new RedisClaimStore(RedisClaimStore.connect(TestRedis.settings()),
                TestRedis.uniqueKeyPrefix("part-sender"));
        http = TelegramClients.http();
    }

    @AfterEach
    void tearDown() {
        TelegramClients.release(http);
        claims.close();
        emulator.close();
    }

    private static TelegramClient clientFor(String baseUrl, OkHttpClient http) {
        return TelegramClients.create(TelegramSettings.from(Config.of(Map.of(
                TelegramSettings.TOKEN, EmitterFixture.TOKEN, TelegramSettings.API_URL, baseUrl))), http);
    }

    private PartSender sender(TelegramClient telegram, Duration typingDelay, Pause pause, int maxAttempts) {
        TypingDelay fixed = new TypingDelay(1, typingDelay, typingDelay, 0, new Random(1));
        return new PartSender(telegram, claims, fixed, pause, Clock.systemUTC(), TTL, maxAttempts, "emitter-test",
                new Secret(EmitterFixture.TOKEN));
    }

    private static ReplyPart part(String replyId, String text) {
        return EmitterFixture.part(CHAT, replyId, 0, true, text);
    }

    @ParameterizedTest(name = "{0} ms of typing shows {1} typing action(s)")
    @CsvSource({"0, 0", "3000, 1", "4000, 1", "4001, 2", "10000, 3"})
    void theTypingActionIsRepeatedEveryFourSecondsUntilTheMessageGoesOut(long delayMs, int typingActions)
            throws InterruptedException {
        // given a sender whose typing delay is delayMs and whose waiting is only recorded
        RecordingPause pause = new RecordingPause(false);
        PartSender sender = sender(clientFor(emulator.baseUrl(), http), Duration.ofMillis(delayMs), pause, 3);

        // when it sends a part
        Delivery outcome = sender.send(part("r-typing-" + delayMs, "typed for a while"), Duration.ZERO);

        // then the person saw "typing..." that many times, then the message
        assertEquals(Delivery.Outcome.SENT, outcome.outcome());
        List<String> bot = emulator.transcript(CHAT).stream().filter(TranscriptEntry::isFromBot)
                .map(e -> e.isMessage() ? "message" : e.action()).toList();
        List<String> expected = new ArrayList<>(Collections.nCopies(typingActions, "typing"));
        expected.add("message");
        assertEquals(expected, bot);
        // and the waits between them add up to the delay, none longer than the indicator lasts
        assertEquals(delayMs, pause.pauses().stream().mapToLong(Duration::toMillis).sum());
        assertTrue(pause.pauses().stream().allMatch(d -> d.compareTo(PartSender.TYPING_REFRESH) <= 0),
                pause.pauses().toString());
    }

    @Test
    void aTenSecondDelayWaitsFourFourAndTwoSeconds() throws InterruptedException {
        // given a ten-second typing delay, waits recorded rather than slept
        RecordingPause pause = new RecordingPause(false);
        PartSender sender = sender(clientFor(emulator.baseUrl(), http), Duration.ofSeconds(10), pause, 3);

        // when a part is sent
        sender.send(part("r-ten", "ten seconds of typing"), Duration.ZERO);

        // then the indicator was refreshed at 0, 4 and 8 s
        assertEquals(List.of(Duration.ofSeconds(4), Duration.ofSeconds(4), Duration.ofSeconds(2)), pause.pauses());
        assertEquals(3, emulator.calls("sendchataction").size());
    }

    @Test
    void aSentPartIsRecordedWithItsMessageIdAndAnotherSendOnlyReportsIt() throws InterruptedException {
        // given a part sent once
        PartSender sender = sender(clientFor(emulator.baseUrl(), http), Duration.ZERO, new RecordingPause(false), 3);
        ReplyPart part = part("r-record", "recorded");
        Delivery first = sender.send(part, Duration.ZERO);

        // then its claim holds the message id
        assertEquals(Optional.of("sent:" + first.telegramMessageId()), claims.get(PartSender.claimKey(part)));

        // when another sender (another instance) gets the same part
        PartSender other = sender(clientFor(emulator.baseUrl(), http), Duration.ZERO, new RecordingPause(false), 3);
        Delivery second = other.send(part, Duration.ZERO);

        // then it reports the same message without sending
        assertEquals(Delivery.Outcome.SENT, second.outcome());
        assertEquals(first.telegramMessageId(), second.telegramMessageId());
        assertEquals(1, emulator.calls("sendmessage").size());
    }

    @Test
    void interruptedWhileTypingTheClaimIsReleasedSoTheNextInstanceSendsThePart() throws InterruptedException {
        // given a sender interrupted (as close() does) during its typing pause
        Pause interrupted = d -> {
            throw new InterruptedException("closing");
        };
        PartSender stopping = sender(clientFor(emulator.baseUrl(), http), Duration.ofSeconds(3), interrupted, 3);
        ReplyPart part = part("r-released", "sent by the next instance");

        // when it sends, then it gives up without a message and without keeping the claim
        assertThrows(InterruptedException.class, () -> stopping.send(part, Duration.ZERO));
        assertEquals(0, emulator.calls("sendmessage").size());
        assertEquals(Optional.empty(), claims.get(PartSender.claimKey(part)));

        // and the next instance sends it
        PartSender next = sender(clientFor(emulator.baseUrl(), http), Duration.ZERO, new RecordingPause(false), 3);
        assertEquals(Delivery.Outcome.SENT, next.send(part, Duration.ZERO).outcome());
        assertEquals(List.of("sent by the next instance"), emulator.botTexts(CHAT));
    }

    @Test
    void anInterruptDuringASendOnTheWireIsSeenThroughRecordedAndRestoredWithoutASecondSend() throws Exception {
        // given a Bot API that holds sendMessage answers
        try (SlowBotApi slow = new SlowBotApi()) {
            PartSender sender = sender(clientFor(slow.baseUrl(), http), Duration.ZERO, new RecordingPause(false), 5);
            ReplyPart part = part("r-in-flight", "on the wire");
            AtomicReference<Delivery> outcome = new AtomicReference<>();
            AtomicReference<Throwable> thrown = new AtomicReference<>();
            AtomicBoolean interruptedAfter = new AtomicBoolean();
            Thread sending = new Thread(() -> {
                try {
                    outcome.set(sender.send(part, Duration.ZERO));
                } catch (Throwable t) {
                    thrown.set(t);
                }
                interruptedAfter.set(Thread.currentThread().isInterrupted());
            }, "part-sender-test-sending");
            sending.setDaemon(true);
            sending.start();
            Await.until("the sendMessage to arrive", EmitterFixture.TIMEOUT, () -> slow.sendMessages() == 1);

            // when the sending thread is interrupted while the request is on the wire, and then Telegram answers
            sending.interrupt();
            slow.release();
            sending.join(EmitterFixture.TIMEOUT.toMillis());

            // then the answer was awaited, recorded and reported; nothing was sent again; the interrupt survives
            assertFalse(sending.isAlive());
            assertEquals(null, thrown.get());
            assertEquals(Delivery.Outcome.SENT, outcome.get().outcome());
            assertEquals(SlowBotApi.MESSAGE_ID, outcome.get().telegramMessageId());
            assertEquals(1, slow.sendMessages());
            assertEquals(Optional.of("sent:" + SlowBotApi.MESSAGE_ID), claims.get(PartSender.claimKey(part)));
            assertTrue(interruptedAfter.get(), "the interrupt flag was restored");
        }
    }

    @Test
    void aSendWhoseAnswerNeverComesIsReportedFailedAndNotRetried() throws InterruptedException {
        // given a Bot API that does not answer within the client's read timeout
        OkHttpClient impatient = http.newBuilder().readTimeout(Duration.ofMillis(300)).build();
        try (SlowBotApi slow = new SlowBotApi()) {
            RecordingPause pause = new RecordingPause(false);
            PartSender sender = sender(clientFor(slow.baseUrl(), impatient), Duration.ZERO, pause, 5);
            ReplyPart part = part("r-no-answer", "did it arrive?");

            // when a part is sent
            Delivery outcome = sender.send(part, Duration.ZERO);

            // then it may have arrived, so it is FAILED after a single attempt rather than risked twice
            assertEquals(Delivery.Outcome.FAILED, outcome.outcome());
            assertTrue(outcome.reason().contains("may have been sent"), outcome.reason());
            assertEquals(1, slow.sendMessages());
            assertEquals(List.of(), pause.pauses());
            assertTrue(claims.get(PartSender.claimKey(part)).orElseThrow().startsWith("failed:"));
        } finally {
            TelegramClients.release(impatient);
        }
    }

    @Test
    void aRefusedConnectionIsRetriedWithGrowingBackoffThenReportedFailedWithoutTheToken()
            throws IOException, InterruptedException {
        // given nothing listens where the Bot API should be
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        RecordingPause pause = new RecordingPause(false);
        PartSender sender = sender(clientFor("http://127.0.0.1:" + closedPort, http), Duration.ZERO, pause, 3);

        // when a part is sent
        Delivery outcome = sender.send(part("r-refused", "nobody home"), Duration.ZERO);

        // then every attempt was made (the request never left), with growing waits, and the reason is token-free
        assertEquals(Delivery.Outcome.FAILED, outcome.outcome());
        assertTrue(outcome.reason().startsWith("gave up after 3 attempts"), outcome.reason());
        assertEquals(List.of(Duration.ofMillis(500), Duration.ofMillis(1000)), pause.pauses());
        assertFalse(outcome.reason().contains(EmitterFixture.TOKEN), outcome.reason());
        assertFalse(outcome.reason().contains(EmitterFixture.TOKEN.substring(EmitterFixture.TOKEN.indexOf(':') + 1)));
    }

    @Test
    void aRateLimitWaitsExactlyWhatTelegramAsksFor() throws InterruptedException {
        // given Telegram will answer 429 retry_after=3 twice
        emulator.addFault("sendMessage", 429, 3, 2, CHAT, null);
        RecordingPause pause = new RecordingPause(false);
        PartSender sender = sender(clientFor(emulator.baseUrl(), http), Duration.ZERO, pause, 5);

        // when a part is sent
        Delivery outcome = sender.send(part("r-flood", "after the flood"), Duration.ZERO);

        // then it waited 3 s twice (recorded, not slept) and went out on the third attempt
        assertEquals(Delivery.Outcome.SENT, outcome.outcome());
        assertEquals(List.of(Duration.ofSeconds(3), Duration.ofSeconds(3)), pause.pauses());
    }

    @Test
    void aRefusalQuotingTheTokenIsReportedWithTheTokenRedacted() throws InterruptedException {
        // given Telegram's refusal text quotes the bot's URL (reasons end up on the delivered topic)
        emulator.addFault("sendMessage", 400, 0, 1, CHAT,
                "Bad Request: see https://api.telegram.org/bot" + EmitterFixture.TOKEN + "/sendMessage");
        PartSender sender = sender(clientFor(emulator.baseUrl(), http), Duration.ZERO, new RecordingPause(false), 3);

        // when a part is refused
        Delivery outcome = sender.send(part("r-quoted", "quoted"), Duration.ZERO);

        // then the reason keeps Telegram's words but not the token
        assertEquals(Delivery.Outcome.FAILED, outcome.outcome());
        assertFalse(outcome.reason().contains(EmitterFixture.TOKEN), outcome.reason());
        assertTrue(outcome.reason().contains("<redacted>"), outcome.reason());
    }
}
