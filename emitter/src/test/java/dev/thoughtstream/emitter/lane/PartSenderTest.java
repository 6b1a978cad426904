package dev.thoughtstream.emitter.lane;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.RedisOutage;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.RedisChatActivity;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.emitter.EmitterMetrics;
import dev.thoughtstream.emitter.ManualScheduler;
import dev.thoughtstream.emitter.SlowBotApi;
import dev.thoughtstream.emitter.consume.EmitterFixture;
import dev.thoughtstream.emitter.pace.SendPacer;
import dev.thoughtstream.emitter.telegram.TelegramClients;
import dev.thoughtstream.emitter.telegram.TelegramMessageSender;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.telegram.telegrambots.meta.generics.TelegramClient;
import redis.clients.jedis.RedisClient;

/**
 * One message's blocking steps (staleness, claim, send, record) against the emulator, or a Bot API that is slow or
 * absent, with the real TelegramBots client and the real Redis. No waiting happens here: the lanes do it.
 */
class PartSenderTest {
    private static final long CHAT = 4_501;
    private static final Duration TTL = Duration.ofMinutes(10);

    private TelegramEmulator emulator;
    private RedisClient redis;
    private RedisClaimStore claims;
    private RedisChatActivity activity;
    private OkHttpClient http;
    private ManualScheduler time;
    private EmitterMetrics metrics;

    @BeforeEach
    void setUp() {
        emulator = TelegramEmulator.builder()
                .botToken(EmitterFixture.TOKEN)
                .build()
                .start();
        emulator.injectMessage(CHAT, "hi");
        String prefix = TestRedis.uniqueKeyPrefix("part-sender");
        redis = RedisClaimStore.connect(TestRedis.settings());
        claims = new RedisClaimStore(redis, prefix);
        activity = new RedisChatActivity(redis, prefix, Duration.ofHours(1));
        http = TelegramClients.http();
        time = new ManualScheduler();
        metrics = new EmitterMetrics(new Metrics());
        pacer = new SendPacer(time.clock(), time, 0, 1, 0, 1, new EmitterMetrics(new Metrics()));
        unlimited = new SendPacer(time.clock(), time, 0, 1, 0, 0, new EmitterMetrics(new Metrics()));
    }

    @AfterEach
    void tearDown() {
        time.shutdownNow();
        TelegramClients.release(http);
        activity.close();
        claims.close();
        emulator.close();
    }

    private static TelegramClient clientFor(String baseUrl, OkHttpClient http) {
        return TelegramClients.create(
                TelegramSettings.from(Config.of(
                        Map.of(TelegramSettings.TOKEN, EmitterFixture.TOKEN, TelegramSettings.API_URL, baseUrl))),
                http);
    }

    private PartSender sender(TelegramClient telegram, String instance) {
        return sender(telegram, claims, RedisOutage.FAIL_OPEN, instance);
    }

    private PartSender sender(TelegramClient telegram, RedisClaimStore store, RedisOutage mode, String instance) {
        return new PartSender(
                new TelegramMessageSender(
                        telegram,
                        new Secret(EmitterFixture.TOKEN),
                        TelegramMessageSender.ParseMode.NONE,
                        new Metrics()),
                store,
                activity,
                mode,
                TTL,
                instance,
                metrics);
    }

    /** One message a second overall, on frozen time: shows whether a permit's slot was kept or given back. */
    private SendPacer pacer;
    /** No limits at all. */
    private SendPacer unlimited;

    private SendPacer.Permit permit() {
        SendPacer.Permit permit = pacer.acquire(CHAT, p -> {}).grantedNow();
        assertNotNull(permit, "the pacer has a slot");
        return permit;
    }

    private boolean slotFree() {
        SendPacer.Request probe = pacer.acquire(CHAT + 1, p -> {});
        SendPacer.Permit p = probe.grantedNow();
        probe.cancel();
        if (p != null) {
            p.release(false);
        }
        return p != null;
    }

    private static ReplyPart part(String replyId, String text) {
        return EmitterFixture.part(CHAT, 5, replyId, 0, true, text);
    }

    private PartSender.Attempt attempt(PartSender sender, ReplyPart part) {
        return sender.attempt(part, PartSender.claimKey(part), part.text(), permit(), null);
    }

    @Test
    void aSentMessageIsRecordedWithItsIdAndAnotherInstanceOnlyFindsIt() {
        // given a part sent once
        ReplyPart part = part("r-once", "only once");
        PartSender.Attempt first = attempt(sender(clientFor(emulator.baseUrl(), http), "emitter-a"), part);

        // then its key holds the message id, and the pacer's slot stays taken (the message reached Telegram)
        long id = assertInstanceOf(PartSender.Attempt.Sent.class, first).messageId();
        assertEquals(Optional.of("sent:" + id), claims.get(PartSender.claimKey(part)));
        assertFalse(slotFree());

        // when another instance looks before typing, and then tries to send it
        PartSender other = sender(clientFor(emulator.baseUrl(), http), "emitter-b");
        PartSender.Check check = other.check(part, PartSender.claimKey(part));
        PartSender.Attempt second = other.attempt(
                part,
                PartSender.claimKey(part),
                part.text(),
                unlimited.acquire(CHAT, p -> {}).grantedNow(),
                null);

        // then both find it sent, with the same id, and nothing went out twice
        PartSender.Earlier seen =
                assertInstanceOf(PartSender.Check.Recorded.class, check).earlier();
        assertEquals(new PartSender.Earlier(Delivery.Outcome.SENT, id, null), seen);
        assertEquals(
                seen,
                assertInstanceOf(PartSender.Attempt.Recorded.class, second).earlier());
        assertEquals(List.of("only once"), emulator.botTexts(CHAT));
    }

    @Test
    void aStalePartIsNotClaimedNotSentAndGivesItsPermitBack() {
        // given the chat has a message newer than the one the part answers
        activity.recordIngested(CHAT, 6);
        ReplyPart part = part("r-stale", "too late");

        // when it is checked, and when an attempt is made anyway
        PartSender sender = sender(clientFor(emulator.baseUrl(), http), "emitter-a");
        PartSender.Check check = sender.check(part, PartSender.claimKey(part));
        PartSender.Attempt attempt = attempt(sender, part);

        // then both say stale, with the newer message, and nothing was claimed, sent or kept
        assertTrue(
                assertInstanceOf(PartSender.Check.Stale.class, check).reason().contains("newer message 6"));
        assertInstanceOf(PartSender.Attempt.Stale.class, attempt);
        assertEquals(Optional.empty(), claims.get(PartSender.claimKey(part)));
        assertEquals(0, emulator.calls("sendmessage").size());
        assertTrue(slotFree(), "the permit was given back unused");
    }

    @Test
    void aPartClaimedButNeverConfirmedIsReportedFailedAndNotSent() {
        // given another instance claimed the part and died during its send
        ReplyPart part = part("r-orphan", "maybe seen");
        claims.put(PartSender.claimKey(part), "sending:emitter-dead", TTL);

        // when this instance tries
        PartSender.Attempt attempt = attempt(sender(clientFor(emulator.baseUrl(), http), "emitter-a"), part);

        // then it is FAILED, naming the claim, and Telegram was not asked
        PartSender.Earlier earlier =
                assertInstanceOf(PartSender.Attempt.Recorded.class, attempt).earlier();
        assertEquals(Delivery.Outcome.FAILED, earlier.outcome());
        assertTrue(earlier.reason().contains("sending:emitter-dead"), earlier.reason());
        assertEquals(0, emulator.calls("sendmessage").size());
    }

    @Test
    void aRateLimitIsHandedBackWithTelegramsRetryAfterAndTheClaimReleased() {
        // given Telegram answers 429 retry_after=3
        emulator.addFault("sendMessage", 429, 3, 1, CHAT, null);
        ReplyPart part = part("r-flood", "after the flood");

        // when an attempt is made
        PartSender.Attempt attempt = attempt(sender(clientFor(emulator.baseUrl(), http), "emitter-a"), part);

        // then the lane is told to wait 3 s, and nobody holds the key meanwhile
        assertEquals(
                Duration.ofSeconds(3),
                assertInstanceOf(PartSender.Attempt.Again.class, attempt).retryAfter());
        assertEquals(Optional.empty(), claims.get(PartSender.claimKey(part)));
    }

    @Test
    void aSendWhoseAnswerNeverComesIsFailedAndRecordedNotRetried() {
        // given a Bot API that does not answer within the client's read timeout
        OkHttpClient impatient =
                new OkHttpClient.Builder().readTimeout(Duration.ofMillis(500)).build();
        try (SlowBotApi slow = new SlowBotApi()) {
            ReplyPart part = part("r-silent", "into the silence");

            // when an attempt is made
            PartSender.Attempt attempt = attempt(sender(clientFor(slow.baseUrl(), impatient), "emitter-a"), part);

            // then it may have arrived, so it is final: FAILED, recorded, one request
            String reason =
                    assertInstanceOf(PartSender.Attempt.Failed.class, attempt).reason();
            assertTrue(reason.contains("may have been sent"), reason);
            assertEquals(Optional.of("failed:" + reason), claims.get(PartSender.claimKey(part)));
            assertEquals(1, slow.sendMessages());
        } finally {
            TelegramClients.release(impatient);
        }
    }

    @Test
    void aRefusedConnectionIsRetryableReleasesTheClaimAndNamesNoToken() throws IOException {
        // given nothing listens where the Bot API should be
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        ReplyPart part = part("r-refused", "nobody home");

        // when an attempt is made
        PartSender.Attempt attempt =
                attempt(sender(clientFor("http://127.0.0.1:" + closedPort, http), "emitter-a"), part);

        // then it can be tried again (the request never left), without the token in the reason
        PartSender.Attempt.Again again = assertInstanceOf(PartSender.Attempt.Again.class, attempt);
        assertNull(again.retryAfter());
        assertFalse(
                again.reason().contains(EmitterFixture.TOKEN.substring(EmitterFixture.TOKEN.indexOf(':') + 1)),
                again.reason());
        assertEquals(Optional.empty(), claims.get(PartSender.claimKey(part)));
    }

    @Test
    void aRefusalQuotingTheTokenIsReportedWithTheTokenRedacted() {
        // given Telegram's refusal text quotes the bot's URL (reasons end up on the delivered topic)
        emulator.addFault(
                "sendMessage",
                400,
                0,
                1,
                CHAT,
                "Bad Request: see https://api.telegram.org/bot" + EmitterFixture.TOKEN + "/sendMessage");

        // when a part is refused
        PartSender.Attempt attempt =
                attempt(sender(clientFor(emulator.baseUrl(), http), "emitter-a"), part("r-quoted", "quoted"));

        // then the reason keeps Telegram's words and status, but not the token
        String reason =
                assertInstanceOf(PartSender.Attempt.Failed.class, attempt).reason();
        assertTrue(reason.startsWith("400 "), reason);
        assertFalse(reason.contains(EmitterFixture.TOKEN), reason);
        assertTrue(reason.contains("<redacted>"), reason);
    }

    @Test
    void withRedisDownFailOpenSendsUnprotectedAndFailClosedHoldsTheMessageBack() throws IOException {
        // given a claim store that cannot be reached
        int closedPort;
        try (ServerSocket probe = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = probe.getLocalPort();
        }
        try (RedisClaimStore down = new RedisClaimStore(
                RedisClaimStore.connect(RedisSettings.from(Config.of(
                        Map.of(RedisSettings.URL, "redis://127.0.0.1:" + closedPort, "REDIS_TIMEOUT_MS", "200")))),
                "x:")) {
            TelegramClient telegram = clientFor(emulator.baseUrl(), http);

            // when failing closed, then nothing is sent and the lane is told to wait for Redis
            PartSender closed = sender(telegram, down, RedisOutage.FAIL_CLOSED, "emitter-a");
            assertInstanceOf(PartSender.Attempt.RedisDown.class, attempt(closed, part("r-closed", "held back")));
            assertInstanceOf(PartSender.Check.RedisDown.class, closed.check(part("r-closed", "held back"), "k"));
            assertEquals(0, emulator.calls("sendmessage").size());
            assertTrue(slotFree(), "the permit was given back unused");

            // when failing open, then it is sent, and counted as unprotected
            PartSender open = sender(telegram, down, RedisOutage.FAIL_OPEN, "emitter-a");
            assertInstanceOf(PartSender.Attempt.Sent.class, attempt(open, part("r-open", "sent anyway")));
            assertEquals(List.of("sent anyway"), emulator.botTexts(CHAT));
            assertEquals(1, metrics.sentWithoutClaimCount());
            assertTrue(metrics.redisErrors() >= 4, "claims, look-ups and records failed: " + metrics.redisErrors());
        }
    }
}
