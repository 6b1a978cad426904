package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.emitter.Main;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.process.ServiceProcess;
import dev.thoughtstream.testkit.redis.TestRedis;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code kill -9} of the emitter's JVM while it holds every partition, and a new JVM under the same
 * {@code INSTANCE_ID}, on the real broker, real Redis and the Telegram emulator over HTTP. The emitters run as their
 * own processes ({@link ServiceProcess}: {@link Main}, configured by environment variables) and ask for a session of
 * {@value #SESSION_TIMEOUT_MS} ms, so the killed member would keep its partitions that long; a restarted emitter that
 * sends within {@link #RECOVERY_BOUND} took them back at once (static membership).
 */
class EmitterKillRestartTest {
    private static final Logger LOG = LoggerFactory.getLogger(EmitterKillRestartTest.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final int SESSION_TIMEOUT_MS = 60_000;
    /** From starting the new JVM to the last part reaching the chat: its start-up plus slack for a loaded machine. */
    private static final Duration RECOVERY_BOUND = Duration.ofSeconds(20);

    private static final String INSTANCE_ID = "emitter-a";

    @TempDir
    Path workDir;

    private EmitterFixture fixture;

    @BeforeEach
    void setUp() {
        fixture = EmitterFixture.create("kill-restart");
    }

    @AfterEach
    void tearDown() {
        fixture.close();
    }

    @Test
    void aRestartedEmitterTakesBackItsPartitionsAtOnceAndSendsEveryNewPartOnce() throws Exception {
        // given an emitter in its own JVM with a stable instance id, holding every partition: it has sent a part
        Map<Integer, Long> chats = chatPerPartition();
        chats.values().forEach(fixture::chatOpens);
        long firstChat = chats.get(0);
        ServiceProcess first = startEmitter("first");
        fixture.produce(EmitterFixture.part(firstChat, "before", 0, true, "before the crash"));
        awaitBotTexts(firstChat, List.of("before the crash"), TIMEOUT, first);

        // when its JVM is killed with SIGKILL (it stays a member of the group until its session would time out)
        assertEquals(ServiceProcess.EXIT_KILLED, first.kill(TIMEOUT), first.describe());
        // and a new JVM starts under the same instance id, and a part arrives for a chat on every partition
        long restartedAt = System.nanoTime();
        ServiceProcess second = startEmitter("second");
        for (long chat : chats.values()) {
            fixture.produce(EmitterFixture.part(chat, "after-" + chat, 0, true, "after the crash"));
        }

        // then every chat gets its part, long before the dead member's session would have expired
        for (long chat : chats.values()) {
            List<String> expected = new ArrayList<>();
            if (chat == firstChat) {
                expected.add("before the crash");
            }
            expected.add("after the crash");
            awaitBotTexts(chat, expected, RECOVERY_BOUND.minusMillis(elapsedMs(restartedAt)), second);
        }
        LOG.info(
                "the restarted emitter delivered a part on every partition {} ms after its JVM was started",
                elapsedMs(restartedAt));
        // and nothing was sent twice: the part sent before the crash was not sent again
        for (long chat : chats.values()) {
            assertEquals(chat == firstChat ? 2 : 1, fixture.sendMessageCalls(chat), "sendMessage calls in " + chat);
        }
    }

    private static long elapsedMs(long sinceNanos) {
        return (System.nanoTime() - sinceNanos) / 1_000_000;
    }

    private void awaitBotTexts(long chat, List<String> expected, Duration timeout, ServiceProcess process) {
        try {
            Await.until(
                    "the bot's messages " + expected + " in chat " + chat,
                    timeout,
                    () -> fixture.emulator.botTexts(chat).equals(expected));
        } catch (AssertionError e) {
            throw new AssertionError(
                    e.getMessage() + " (has " + fixture.emulator.botTexts(chat) + ")\n" + process.describe(), e);
        }
    }

    private ServiceProcess startEmitter(String name) {
        RedisSettings redis = TestRedis.settings();
        Map<String, String> env = new HashMap<>();
        env.put(KafkaSettings.BOOTSTRAP, TestKafka.bootstrapServers());
        env.put("TOPIC_PREFIX", fixture.topicPrefix);
        env.put("TOPIC_PARTITIONS", Integer.toString(TestKafka.PARTITIONS));
        env.put(KafkaSettings.INSTANCE_ID, INSTANCE_ID);
        env.put("KAFKA_CLIENT_SESSION_TIMEOUT_MS", Integer.toString(SESSION_TIMEOUT_MS));
        env.put(RedisSettings.URL, redis.url().toString());
        env.put("REDIS_KEY_PREFIX", fixture.keyPrefix);
        env.put(TelegramSettings.TOKEN, EmitterFixture.TOKEN);
        env.put(TelegramSettings.API_URL, fixture.emulator.baseUrl());
        env.put("EMITTER_GROUP_ID", fixture.groupId);
        env.put("TYPING_MIN_MS", "0");
        env.put("TYPING_MAX_MS", "0");
        return fixture.track(
                ServiceProcess.start(Main.class, env, workDir, getClass().getSimpleName() + "-" + name + ".log"));
    }

    /** One chat id per partition of the replies topic. */
    private Map<Integer, Long> chatPerPartition() {
        Map<Integer, Long> chats = new LinkedHashMap<>();
        for (long chat = 6100; chats.size() < TestKafka.PARTITIONS; chat++) {
            chats.putIfAbsent(fixture.partitionOf(chat), chat);
        }
        return chats;
    }
}
