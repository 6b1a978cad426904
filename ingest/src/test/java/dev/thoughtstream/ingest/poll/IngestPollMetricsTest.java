package dev.thoughtstream.ingest.poll;

import static dev.thoughtstream.ingest.IngestHarness.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ingest.IngestConfig;
import dev.thoughtstream.ingest.IngestHarness;
import dev.thoughtstream.ingest.IntakeSetup;
import dev.thoughtstream.ingest.intake.IntakeRules;
import dev.thoughtstream.ingest.write.ActivityRecorder;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.redis.TestRedis;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * What ingest tells an operator about its poller, against the Telegram emulator over HTTP and the in-process broker:
 * every getUpdates it makes, by outcome (so a stopped poller differs from a quiet bot), and the updates Telegram holds
 * for it (getWebhookInfo's {@code pending_update_count}), refreshed on a thread of its own.
 */
class IngestPollMetricsTest {
    /** Refreshes well inside the tests' waits; services refresh every {@link Metrics#DEFAULT_REFRESH}. */
    private static final Duration REFRESH = Duration.ofMillis(200);

    private final IngestHarness harness = new IngestHarness();
    private final Metrics metrics = new Metrics(REFRESH);
    private Topics topics;
    private KafkaSettings kafka;
    private String prefix;

    @BeforeEach
    void createTopics(TestInfo test) {
        prefix = TestKafka.uniquePrefix(test.getTestMethod().orElseThrow().getName());
        topics = IngestHarness.createTopics(prefix);
        kafka = TestKafka.settings(prefix);
    }

    @AfterEach
    void closeEverything() {
        harness.close();
    }

    /** A polling ingest with one-second long polls, its metrics in {@link #metrics}. */
    private IngestService startIngest() {
        Map<String, String> env = harness.variables();
        env.put(IngestConfig.POLL_TIMEOUT, "1");
        IngestConfig config = IngestConfig.from(Config.of(env));
        IngestService ingest = harness.track(new IngestService(
                config,
                new IngestService.Dependencies(
                        kafka,
                        IntakeSetup.judge(
                                config,
                                harness.redis(TestRedis.uniqueKeyPrefix(prefix)),
                                IntakeRules.openToAll(metrics)),
                        ActivityRecorder.none(),
                        PollerLease.none(),
                        metrics,
                        Clock.systemUTC())));
        ingest.start();
        return ingest;
    }

    private double polls(String outcome) {
        Counter c = metrics.registry()
                .find(Metrics.PREFIX + PollCounts.NAME)
                .tag("outcome", outcome)
                .counter();
        return c == null ? -1 : c.count();
    }

    private double pendingGauge() {
        Gauge g = metrics.registry().find(Metrics.PREFIX + TelegramBacklog.NAME).gauge();
        return g == null ? Double.NaN : g.value();
    }

    @Test
    void givenAQuietBot_whenThePollerLongPolls_thenEveryGetUpdatesIsCountedAsEmpty() {
        // given: ingest polling a bot nobody writes to
        startIngest();

        // when: its one-second long polls end with nothing, one after the other
        Await.until("three empty polls counted", TIMEOUT, () -> polls("empty") >= 3);

        // then: each counted poll is a getUpdates Telegram answered; none brought updates or failed
        assertTrue(
                polls("empty") <= harness.getUpdatesAnswered(200),
                "no more empty polls counted (" + polls("empty") + ") than getUpdates answered ("
                        + harness.getUpdatesAnswered(200) + ")");
        assertEquals(0, polls("updates"));
        assertEquals(0, polls("failed"));
    }

    @Test
    void givenTelegramFailingGetUpdates_whenMessagesWait_thenFailedPollsAndTheBacklogShowIt_andBothRecoverAfter() {
        // given: ingest polling, its backlog read (nothing pending)
        startIngest();
        Await.until("the backlog read as 0", TIMEOUT, () -> pendingGauge() == 0);

        // when: Telegram answers every getUpdates with a 500, and three messages arrive meanwhile
        harness.telegram.addFault("getUpdates", 500, 1_000_000);
        Await.until("a getUpdates refused", TIMEOUT, () -> harness.getUpdatesAnswered(500) >= 1);
        for (int i = 1; i <= 3; i++) {
            harness.telegram.injectMessage(40 + i, "waiting " + i);
        }

        // then: the refused polls are counted as failed, and the gauge shows the three updates Telegram holds
        Await.until("the failed polls counted", TIMEOUT, () -> polls("failed") >= 2);
        Await.until("the backlog read as 3", TIMEOUT, () -> pendingGauge() == 3);
        assertEquals(3, harness.telegram.webhook().pendingUpdateCount(), "what the emulator holds");
        assertEquals(0, polls("updates"));

        // when: Telegram answers again
        harness.telegram.clearFaults();

        // then: the poller takes the batch (a poll with updates), confirms it, and the backlog drains to 0
        TestKafka.awaitRecords(topics.updates(), 3, TIMEOUT);
        Await.until("a poll with updates counted", TIMEOUT, () -> polls("updates") >= 1);
        Await.until("the backlog read as 0 again", TIMEOUT, () -> pendingGauge() == 0);
    }

    @Test
    void givenTheBacklogGauge_whenTheTermEnds_thenItHasNoValueRatherThanAStaleOne() {
        // given: a polling ingest whose backlog was read
        IngestService ingest = startIngest();
        Await.until("the backlog read", TIMEOUT, () -> pendingGauge() == 0);

        // when: it stops polling
        ingest.close();

        // then: the gauge says "unknown", as on a standby, and the scrape carries it as NaN
        assertTrue(Double.isNaN(pendingGauge()), "gauge after the term: " + pendingGauge());
        assertTrue(metrics.scrape().contains("thoughtstream_ingest_telegram_pending_updates NaN"), metrics.scrape());
    }
}
