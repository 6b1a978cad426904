package dev.thoughtstream.ingest.intake;

import static dev.thoughtstream.ingest.IngestHarness.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.serde.Json;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ingest.IngestConfig;
import dev.thoughtstream.ingest.IngestHarness;
import dev.thoughtstream.ingest.IntakeSetup;
import dev.thoughtstream.ingest.poll.IngestService;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.MutableClock;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.IncomingMessage;
import dev.thoughtstream.testkit.telegram.MessageEntity;
import dev.thoughtstream.testkit.telegram.MessageKind;
import dev.thoughtstream.testkit.telegram.UserMessage;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The access and abuse rules on real parts: the long poller against the Telegram emulator, the shared Kafka
 * broker (updates and replies topics) and a real redis-server (refusal memory, flood windows). The bot's username
 * comes from the emulator's getMe.
 */
class IntakeRulesTest {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final IngestHarness harness = new IngestHarness();
    private final Metrics metrics = new Metrics();
    private String prefix;
    private String keyPrefix;
    private Topics topics;
    private KafkaSettings kafka;

    @BeforeEach
    void createTopics(TestInfo test) {
        prefix = TestKafka.uniquePrefix(test.getTestMethod().orElseThrow().getName());
        keyPrefix = TestRedis.uniqueKeyPrefix(prefix);
        topics = IngestHarness.createTopics(prefix);
        kafka = TestKafka.settings(prefix);
    }

    @AfterEach
    void closeEverything() {
        harness.close();
    }

    private record Started(IngestService ingest, IntakeRules rules) {}

    private Started start(Map<String, String> variables, Clock clock) {
        Map<String, String> v = new HashMap<>(harness.variables());
        v.putAll(variables);
        IngestConfig config = IngestConfig.from(Config.of(v));
        ClaimStore claims = harness.redis(keyPrefix);
        IntakeRules rules = IntakeSetup.rules(config, claims, harness.redisClient(), keyPrefix, metrics, HTTP, clock);
        return new Started(harness.startIngest(config, kafka, claims, rules, clock), rules);
    }

    private Started start(Map<String, String> variables) {
        return start(variables, Clock.systemUTC());
    }

    private void awaitHandled(UserMessage last) {
        Await.until(
                "ingest to confirm update " + last.updateId(),
                TIMEOUT,
                () -> harness.telegram.confirmedOffset() == last.updateId() + 1);
    }

    private Set<Long> writtenUpdateIds() {
        return TopicReader.readAll(TestKafka.bootstrapServers(), topics.updates(), TIMEOUT).stream()
                .map(r -> r.value().updateId())
                .collect(Collectors.toSet());
    }

    private List<ReplyPart> notices() {
        return TopicReader.readAll(TestKafka.bootstrapServers(), topics.replies(), TIMEOUT).stream()
                .map(ConsumerRecord::value)
                .toList();
    }

    private static String noticeId(long chatId, UserMessage m, String what) {
        return "r:" + chatId + ":" + m.messageId() + ":ingest-" + what + ":" + m.updateId();
    }

    // ---- allow-lists ---------------------------------------------------------------------------------------

    @Test
    void givenAllowLists_whenAStrangerWritesThreeTimes_thenOnePoliteRefusalThenSilenceAndNothingOfTheirsIsWritten() {
        // given: one allowed person and one allowed group
        long allowed = 501;
        long stranger = 777;
        long group = -100_900;
        Started s = start(Map.of(
                IngestConfig.ALLOWED_USER_IDS,
                Long.toString(allowed),
                IngestConfig.ALLOWED_CHAT_IDS,
                Long.toString(group),
                IngestConfig.ACCESS_DENIED_TEXT,
                "Sorry, private bot."));

        // when
        UserMessage ok = harness.telegram.injectMessage(allowed, "hi, it's me");
        UserMessage denied1 = harness.telegram.injectMessage(stranger, "hello?");
        UserMessage denied2 = harness.telegram.injectMessage(stranger, "anyone there?");
        UserMessage inGroup = harness.telegram.injectMessage(IncomingMessage.builder(group)
                .group("Friends")
                .from(888, "Guest")
                .text("/help")
                .build());
        UserMessage denied3 = harness.telegram.injectMessage(stranger, "please");
        awaitHandled(denied3);

        // then: the allowed person and the allowed group's member pass; the stranger's updates are not written
        assertEquals(Set.of(ok.updateId(), inGroup.updateId()), writtenUpdateIds());
        // and the stranger got exactly one refusal, answering their first message, with ids from that update
        List<ReplyPart> notices = notices();
        assertEquals(1, notices.size(), "one refusal: " + notices);
        ReplyPart refusal = notices.get(0);
        assertEquals(stranger, refusal.chatId());
        assertEquals("Sorry, private bot.", refusal.text());
        assertEquals(denied1.messageId(), refusal.lastMessageId());
        assertEquals(0, refusal.seq());
        assertTrue(refusal.last());
        assertEquals(noticeId(stranger, denied1, "access-denied"), refusal.replyId());
        assertEquals(3, s.rules().counted(IngestResult.DENIED));
        assertEquals(2, s.rules().counted(IngestResult.WRITTEN));
        assertTrue(
                metrics.scrape().contains("thoughtstream_ingest_updates_total{result=\"denied\"} 3"), metrics.scrape());
        assertNotEquals(denied2.messageId(), refusal.lastMessageId());

        // when: ingest restarts (same Redis) and the stranger writes again
        s.ingest().close();
        start(Map.of(IngestConfig.ALLOWED_USER_IDS, Long.toString(allowed)));
        UserMessage later = harness.telegram.injectMessage(stranger, "what about now?");
        awaitHandled(later);

        // then: Redis remembered the refusal: still silence
        assertEquals(1, notices().size());
        assertFalse(writtenUpdateIds().contains(later.updateId()));
    }

    @Test
    void givenNoAllowLists_whenAnyoneWrites_thenEverythingIsWrittenAndNobodyIsRefused() {
        // given
        Started s = start(Map.of());

        // when
        UserMessage a = harness.telegram.injectMessage(601, "hello");
        UserMessage b = harness.telegram.injectMessage(602, "hi there");
        awaitHandled(b);

        // then
        assertEquals(Set.of(a.updateId(), b.updateId()), writtenUpdateIds());
        assertEquals(List.of(), notices());
        assertEquals(0, s.rules().counted(IngestResult.DENIED));
    }

    // ---- group chats ---------------------------------------------------------------------------------------

    /** The bot writes in {@code chatId} through the Bot API; returns the message id. */
    private int botWrites(long chatId, String text) throws IOException, InterruptedException {
        HttpRequest send = HttpRequest.newBuilder(
                        URI.create(harness.telegram.baseUrl() + "/bot" + harness.token + "/sendMessage"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"chat_id\":" + chatId + ",\"text\":\"" + text + "\"}"))
                .build();
        HttpResponse<String> answer = HTTP.send(send, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, answer.statusCode(), answer.body());
        return Json.mapper()
                .readTree(answer.body())
                .path("result")
                .path("message_id")
                .asInt();
    }

    private IncomingMessage.Builder inGroup(long group, long user, String text) {
        return IncomingMessage.builder(group)
                .group("Team")
                .from(user, "Member" + user)
                .text(text);
    }

    @Test
    void givenAGroupInAddressedMode_whenMembersChat_thenOnlyMentionsRepliesToTheBotAndCommandsAreWritten()
            throws Exception {
        // given: a group where the bot has spoken, and a member's message to reply to
        Started s = start(Map.of());
        long group = -100_500;
        UserMessage first =
                harness.telegram.injectMessage(inGroup(group, 11, "morning all").build());
        int botMessage = botWrites(group, "Hello team");
        String me = "@" + harness.telegram.bot().username();

        // when: the members write all kinds of things
        UserMessage mention = harness.telegram.injectMessage(inGroup(group, 12, me + " what's the plan?")
                .entities(List.of(MessageEntity.of("mention", 0, me.length())))
                .build());
        UserMessage replyToBot = harness.telegram.injectMessage(
                inGroup(group, 11, "thanks!").replyTo(botMessage).build());
        UserMessage command =
                harness.telegram.injectMessage(inGroup(group, 12, "/help").build());
        UserMessage commandForUs =
                harness.telegram.injectMessage(inGroup(group, 11, "/start" + me).build());
        UserMessage commandForOther = harness.telegram.injectMessage(
                inGroup(group, 11, "/start@other_bot").build());
        UserMessage replyToPerson = harness.telegram.injectMessage(
                inGroup(group, 12, "agreed").replyTo(first.messageId()).build());
        UserMessage otherMention = harness.telegram.injectMessage(inGroup(group, 12, "@someone_else look")
                .entities(List.of(MessageEntity.of("mention", 0, 13)))
                .build());
        UserMessage photo = harness.telegram.injectMessage(
                inGroup(group, 11, null).kind(MessageKind.PHOTO).build());
        UserMessage privately = harness.telegram.injectMessage(11, "just between us");
        awaitHandled(privately);

        // then
        assertEquals(
                Set.of(
                        mention.updateId(),
                        replyToBot.updateId(),
                        command.updateId(),
                        commandForUs.updateId(),
                        privately.updateId()),
                writtenUpdateIds());
        assertEquals(
                5,
                s.rules().counted(IngestResult.GROUP_IGNORED),
                "first, /start@other_bot, reply to a person, other mention, photo: "
                        + List.of(first, commandForOther, replyToPerson, otherMention, photo));
        assertEquals(List.of(), notices(), "ignored chatter gets no answer");
    }

    @Test
    void givenAGroupInAllMode_whenMembersChat_thenEveryMessageIsWritten() {
        // given
        Started s = start(Map.of(IngestConfig.GROUP_MODE, "all"));
        long group = -100_501;

        // when
        UserMessage a =
                harness.telegram.injectMessage(inGroup(group, 21, "morning all").build());
        UserMessage b = harness.telegram.injectMessage(inGroup(group, 22, "@someone_else hi")
                .entities(List.of(MessageEntity.of("mention", 0, 13)))
                .build());
        awaitHandled(b);

        // then
        assertEquals(Set.of(a.updateId(), b.updateId()), writtenUpdateIds());
        assertEquals(0, s.rules().counted(IngestResult.GROUP_IGNORED));
    }

    // ---- flood guard ---------------------------------------------------------------------------------------

    @Test
    void givenALimitOfThreePerMinute_whenSomeoneSendsFive_thenThreeAreWrittenAndOneNoticeIsSentAndTheWindowResets() {
        // given: a clock at the start of the current minute (the broker refuses record times far from now), moved
        // by hand
        MutableClock clock = new MutableClock(Instant.now().truncatedTo(ChronoUnit.MINUTES));
        Started s =
                start(Map.of(IngestConfig.MAX_MSGS_PER_MIN, "3", IngestConfig.FLOOD_NOTICE_TEXT, "Slow down"), clock);
        long fast = 611;

        // when: five messages in the same minute, and someone else writes meanwhile
        UserMessage[] burst = new UserMessage[5];
        for (int i = 0; i < burst.length; i++) {
            burst[i] = harness.telegram.injectMessage(fast, "message " + i);
        }
        UserMessage other = harness.telegram.injectMessage(612, "I'm calm");
        awaitHandled(other);

        // then: the first three pass, the rest do not; one notice, answering the first message over the limit
        assertEquals(
                Set.of(burst[0].updateId(), burst[1].updateId(), burst[2].updateId(), other.updateId()),
                writtenUpdateIds());
        List<ReplyPart> notices = notices();
        assertEquals(1, notices.size(), "one notice per window: " + notices);
        assertEquals("Slow down", notices.get(0).text());
        assertEquals(burst[3].messageId(), notices.get(0).lastMessageId());
        assertEquals(noticeId(fast, burst[3], "flood"), notices.get(0).replyId());
        assertEquals(2, s.rules().counted(IngestResult.FLOOD));

        // when: a minute later, four more
        clock.advance(Duration.ofMinutes(1));
        UserMessage[] next = new UserMessage[4];
        for (int i = 0; i < next.length; i++) {
            next[i] = harness.telegram.injectMessage(fast, "again " + i);
        }
        awaitHandled(next[3]);

        // then: the window started over: three pass, one more notice for the new window
        Set<Long> written = writtenUpdateIds();
        assertTrue(written.containsAll(Set.of(next[0].updateId(), next[1].updateId(), next[2].updateId())));
        assertFalse(written.contains(next[3].updateId()));
        List<ReplyPart> all = notices();
        assertEquals(2, all.size(), all.toString());
        assertEquals(next[3].messageId(), all.get(1).lastMessageId());
        assertNotEquals(all.get(0).replyId(), all.get(1).replyId());
        assertEquals(3, s.rules().counted(IngestResult.FLOOD));
    }

    @Test
    void givenRedisDownForTheFloodGuard_whenSomeoneFloods_thenEverythingIsWrittenAndTheFailuresAreCounted()
            throws IOException {
        // given: the flood counts on a Redis that is not there (dedup and notices still on the real one)
        RedisSettings nowhere = IngestHarness.unreachableRedis();
        var deadRedis = RedisClaimStore.connect(nowhere);
        harness.track(deadRedis::close);
        Map<String, String> v = new HashMap<>(harness.variables());
        v.put(IngestConfig.MAX_MSGS_PER_MIN, "2");
        IngestConfig config = IngestConfig.from(Config.of(v));
        ClaimStore claims = harness.redis(keyPrefix);
        IntakeRules rules = IntakeSetup.rules(config, claims, deadRedis, keyPrefix, metrics, HTTP, Clock.systemUTC());
        harness.startIngest(config, kafka, claims, rules, Clock.systemUTC());

        // when
        UserMessage last = null;
        for (int i = 0; i < 4; i++) {
            last = harness.telegram.injectMessage(621, "message " + i);
        }
        awaitHandled(last);

        // then: fail open
        assertEquals(4, writtenUpdateIds().size());
        assertEquals(0, rules.counted(IngestResult.FLOOD));
        assertTrue(
                metrics.scrape().contains("thoughtstream_ingest_rules_unavailable_total{check=\"flood\"} 4"),
                metrics.scrape());
    }

    // ---- size cap and non-text -----------------------------------------------------------------------------

    @Test
    void givenASizeCap_whenALongTextArrives_thenItIsWrittenCutWithAVisibleMarkerAndThePersonIsTold() {
        // given
        Started s = start(Map.of(IngestConfig.MAX_MESSAGE_CHARS, "100"));
        String longText = "x".repeat(90) + " " + "y".repeat(159);

        // when: a long text, a short one and a photo
        UserMessage tooLong = harness.telegram.injectMessage(631, longText);
        UserMessage shortOne = harness.telegram.injectMessage(631, "short");
        UserMessage photo = harness.telegram.injectMessage(
                IncomingMessage.builder(631).kind(MessageKind.PHOTO).build());
        awaitHandled(photo);

        // then: all three are on the topic; the long one cut, with the marker, the others as received
        Map<Long, JsonNode> written =
                TopicReader.readAll(TestKafka.bootstrapServers(), topics.updates(), TIMEOUT).stream()
                        .collect(Collectors.toMap(
                                r -> r.value().updateId(), r -> r.value().update()));
        assertEquals(Set.of(tooLong.updateId(), shortOne.updateId(), photo.updateId()), written.keySet());
        String cut =
                written.get(tooLong.updateId()).path("message").path("text").asText();
        assertTrue(
                cut.startsWith(longText.substring(0, 100) + "\n[… cut by the bot: the first 100 of 250 characters"),
                cut);
        assertEquals(
                "short",
                written.get(shortOne.updateId()).path("message").path("text").asText());
        // non-text passes through untouched (the chunker answers it)
        assertTrue(written.get(photo.updateId()).path("message").path("photo").isArray());
        // and the person is told, once, answering the long message
        List<ReplyPart> notices = notices();
        assertEquals(1, notices.size(), notices.toString());
        assertEquals(
                AccessSettings.DEFAULT_TOO_LONG_TEXT.replace("{max}", "100"),
                notices.get(0).text());
        assertEquals(tooLong.messageId(), notices.get(0).lastMessageId());
        assertEquals(1, s.rules().counted(IngestResult.TOO_LONG));
        assertEquals(2, s.rules().counted(IngestResult.WRITTEN));
    }

    // ---- redelivery ----------------------------------------------------------------------------------------

    @Test
    void givenARefusalWasDecided_whenTheSameUpdateIsJudgedAgain_thenTheSameNoticeIdComesBackAndANewUpdateGetsNone() {
        // given: rules on real Redis, as after a crash between the judgement and the dedup record
        Map<String, String> v = new HashMap<>(harness.variables());
        v.put(IngestConfig.ALLOWED_USER_IDS, "1");
        v.put(IngestConfig.BOT_USERNAME, "some_bot");
        IngestConfig config = IngestConfig.from(Config.of(v));
        IntakeRules rules = IntakeSetup.rules(
                config, harness.redis(keyPrefix), harness.redisClient(), keyPrefix, metrics, HTTP, Clock.systemUTC());
        JsonNode update = privateText(9001, 42, 7, "hello");

        // when
        IntakeRules.Verdict first = rules.judge(update);
        IntakeRules.Verdict redelivered = rules.judge(update);
        IntakeRules.Verdict next = rules.judge(privateText(9002, 42, 8, "hello again"));

        // then
        assertEquals(IngestResult.DENIED, first.result());
        assertEquals(first.notice().replyId(), redelivered.notice().replyId(), "the emitter sends it once");
        assertEquals(IngestResult.DENIED, next.result());
        assertEquals(null, next.notice());
    }

    private static JsonNode privateText(long updateId, long user, int messageId, String text) {
        var update = Json.mapper().createObjectNode().put("update_id", updateId);
        var message = update.putObject("message")
                .put("message_id", messageId)
                .put("date", 1)
                .put("text", text);
        message.putObject("from").put("id", user).put("is_bot", false).put("first_name", "P");
        message.putObject("chat").put("id", user).put("type", "private");
        return update;
    }
}
