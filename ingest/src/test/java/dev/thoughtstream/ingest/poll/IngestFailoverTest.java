package dev.thoughtstream.ingest.poll;

import static dev.thoughtstream.ingest.IngestHarness.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.ClaimStore;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.ingest.IngestConfig;
import dev.thoughtstream.ingest.IngestHarness;
import dev.thoughtstream.ingest.IntakeSetup;
import dev.thoughtstream.ingest.intake.IntakeRules;
import dev.thoughtstream.ingest.poll.IngestService.Role;
import dev.thoughtstream.ingest.write.ActivityRecorder;
import dev.thoughtstream.ingest.write.UpdateWriter;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.redis.ForwardingClaimStore;
import dev.thoughtstream.testkit.redis.RedisServer;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.UserMessage;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.SetParams;

/**
 * One poller at a time, on real parts: two ingest instances (each with its own Redis client, like two processes)
 * competing for the poller lease in a real redis-server, each polling the emulator over HTTP (which answers 409 to the
 * older of two concurrent getUpdates), and the shared Kafka broker.
 */
class IngestFailoverTest {
    private final IngestHarness harness = new IngestHarness();
    private String prefix;
    private String keyPrefix;
    private Topics topics;
    private KafkaSettings kafka;
    private RedisClient testRedis;

    /** An ingest instance as a process would build it, with the metrics it registers. */
    record Instance(String name, IngestService service, Metrics metrics) {
        String scrape() {
            return metrics.scrape();
        }
    }

    @BeforeEach
    void createTopics(TestInfo test) {
        prefix = TestKafka.uniquePrefix(test.getTestMethod().orElseThrow().getName());
        keyPrefix = TestRedis.uniqueKeyPrefix(prefix);
        topics = IngestHarness.createTopics(prefix);
        kafka = TestKafka.settings(prefix);
        testRedis = harness.track(RedisClaimStore.connect(TestRedis.settings()));
    }

    @AfterEach
    void closeEverything() {
        harness.close();
    }

    /** A new (not started) instance named {@code name} on the shared Redis, with ingest's variables plus these. */
    private Instance instance(String name, Map<String, String> leaseVariables) {
        return instance(name, leaseVariables, TestRedis.settings());
    }

    private Instance instance(String name, Map<String, String> leaseVariables, RedisSettings redis) {
        return instance(name, leaseVariables, redis, null);
    }

    /** With {@code claims} as its dedup store (null: its own on {@code redis}). */
    private Instance instance(String name, Map<String, String> leaseVariables, RedisSettings redis, ClaimStore dedup) {
        Map<String, String> v = harness.variables();
        v.putAll(leaseVariables);
        IngestConfig config = IngestConfig.from(Config.of(v));
        RedisClient client = RedisClaimStore.connect(redis);
        RedisClaimStore own = harness.track(new RedisClaimStore(client, keyPrefix));
        ClaimStore claims = dedup == null ? own : dedup;
        PollerLease lease =
                new PollerLease(client, leaseKey(), name, config.lease().ttl());
        Metrics metrics = new Metrics();
        IngestService service = harness.track(new IngestService(
                config,
                new IngestService.Dependencies(
                        kafka,
                        IntakeSetup.judge(config, claims, IntakeRules.openToAll(metrics)),
                        ActivityRecorder.none(),
                        lease,
                        metrics,
                        Clock.systemUTC())));
        return new Instance(name, service, metrics);
    }

    private String leaseKey() {
        return PollerLease.keyFor(keyPrefix, harness.config().telegram().botId());
    }

    private static Map<String, String> lease(long ttlMs, long retryMs) {
        return Map.of(IngestConfig.LEASE_TTL, Long.toString(ttlMs), IngestConfig.LEASE_RETRY, Long.toString(retryMs));
    }

    private List<ConsumerRecord<Long, StoredUpdate>> allRecords() {
        return TopicReader.readAll(TestKafka.bootstrapServers(), topics.updates(), TIMEOUT);
    }

    private static Map<Long, Long> countByUpdateId(List<ConsumerRecord<Long, StoredUpdate>> records) {
        return records.stream().collect(Collectors.groupingBy(r -> r.value().updateId(), Collectors.counting()));
    }

    private static Map<Long, Long> once(UserMessage... messages) {
        Map<Long, Long> m = new HashMap<>();
        for (UserMessage u : messages) {
            m.put(u.updateId(), 1L);
        }
        return m;
    }

    private static long tokenHeader(ConsumerRecord<?, ?> record) {
        Header h = record.headers().lastHeader(UpdateWriter.HEADER_LEASE_TOKEN);
        assertTrue(h != null, "record of update " + record.key() + " carries the lease token");
        return Long.parseLong(new String(h.value(), StandardCharsets.UTF_8));
    }

    private static long tokenOf(List<ConsumerRecord<Long, StoredUpdate>> records, UserMessage m) {
        return records.stream()
                .filter(r -> r.value().updateId() == m.updateId())
                .findFirst()
                .map(IngestFailoverTest::tokenHeader)
                .orElseThrow();
    }

    private void awaitActivePolling(Instance i) {
        Await.until(
                i.name() + " to be the active poller",
                TIMEOUT,
                () -> i.service().role() == Role.ACTIVE && i.service().isPolling());
    }

    private void awaitConfirmed(UserMessage last) {
        Await.until(
                "update " + last.updateId() + " confirmed to Telegram",
                TIMEOUT,
                () -> harness.telegram.confirmedOffset() == last.updateId() + 1);
    }

    // ---- two instances --------------------------------------------------------------------------------------

    @Test
    void givenTwoInstancesStartedTogether_whenMessagesArrive_thenExactlyOnePollsAndEachMessageLandsOnce() {
        // given: two instances started at the same moment, the standby retrying often
        Instance a = instance("a", lease(10_000, 50));
        Instance b = instance("b", lease(10_000, 50));
        CompletableFuture.allOf(
                        CompletableFuture.runAsync(a.service()::start), CompletableFuture.runAsync(b.service()::start))
                .join();
        Instance active = a.service().role() == Role.ACTIVE ? a : b;
        Instance standby = active == a ? b : a;
        awaitActivePolling(active);
        harness.awaitLongPoll();

        // when: people write over a while (the standby keeps trying to acquire meanwhile)
        List<UserMessage> sent = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            sent.add(harness.telegram.injectMessage(700 + i % 2, "message " + i));
            awaitConfirmed(sent.get(i));
        }

        // then: one poller all along, so Telegram never had to end a poll with 409
        assertEquals(Role.STANDBY, standby.service().role());
        assertFalse(standby.service().isPolling());
        assertEquals(1, harness.telegram.activePolls());
        assertEquals(0, harness.getUpdatesAnswered(409), "no 409: only one instance ever polled");
        // and every message is on the topic once, written by the active one under its token
        List<ConsumerRecord<Long, StoredUpdate>> records = allRecords();
        assertEquals(once(sent.toArray(UserMessage[]::new)), countByUpdateId(records));
        long token = active.service().leaseToken().orElseThrow();
        assertTrue(records.stream().allMatch(r -> tokenHeader(r) == token), "every record under token " + token);
        assertEquals(0, standby.service().updatesWritten());
        // and both are ready, and say which role they have
        assertTrue(active.service().isReady());
        assertTrue(standby.service().isReady(), "a connected standby is ready to take over");
        assertTrue(active.scrape().contains("thoughtstream_ingest_lease_role 1.0\n"), active.scrape());
        assertTrue(standby.scrape().contains("thoughtstream_ingest_lease_role 0.0\n"), standby.scrape());
        assertTrue(active.scrape().contains("thoughtstream_ingest_lease_changes_total 1.0\n"), active.scrape());
    }

    @Test
    void
            givenTheActiveInstanceDiesBetweenWriteAndConfirmation_whenItsLeaseExpires_thenTheStandbyTakesOverAndNothingIsLost() {
        // given: a active, b standing by
        Instance a = instance("a", lease(2_000, 100));
        Instance b = instance("b", lease(2_000, 100));
        a.service().start();
        b.service().start();
        awaitActivePolling(a);
        assertEquals(Role.STANDBY, b.service().role());
        UserMessage m1 = harness.telegram.injectMessage(801, "before the crash");
        awaitConfirmed(m1);
        long tokenA = a.service().leaseToken().orElseThrow();
        // and a second message written by a whose confirming poll fails
        harness.awaitLongPoll();
        harness.telegram.addFault("getUpdates", 500, 1_000_000);
        UserMessage m2 = harness.telegram.injectMessage(801, "written, never confirmed");
        Await.until("a to write the second message", TIMEOUT, () -> a.service().lastWrittenUpdateId() == m2.updateId());
        Await.until("its confirmation to fail", TIMEOUT, () -> harness.getUpdatesAnswered(500) >= 1);

        // when: a dies (kill -9: no release, no confirmation), and a person writes while nobody polls
        a.service().halt();
        harness.telegram.clearFaults();
        assertEquals(
                tokenA,
                new PollerLease(testRedis, leaseKey(), "test", Duration.ofSeconds(1))
                        .holder()
                        .orElseThrow()
                        .token(),
                "a dead instance does not release its lease: it has to expire");
        UserMessage m3 = harness.telegram.injectMessage(802, "while nobody polls");

        // then: b takes over once the lease expired, and gets everything not confirmed
        awaitActivePolling(b);
        awaitConfirmed(m3);
        List<ConsumerRecord<Long, StoredUpdate>> records = allRecords();
        assertEquals(once(m1, m2, m3), countByUpdateId(records), "each update exactly once");
        assertEquals(1, b.service().duplicatesSkipped(), "the redelivered second message was recognised");
        // and the fencing token went up, as the records' headers show
        long tokenB = b.service().leaseToken().orElseThrow();
        assertTrue(tokenB > tokenA, tokenA + " < " + tokenB);
        assertEquals(tokenA, tokenOf(records, m1));
        assertEquals(tokenA, tokenOf(records, m2));
        assertEquals(tokenB, tokenOf(records, m3));
        assertTrue(b.scrape().contains("thoughtstream_ingest_lease_role 1.0\n"), b.scrape());
    }

    @Test
    void givenACrash_whenTheInstanceRestartsUnderItsInstanceId_thenItTakesItsLeaseBackAtOnceUnderALargerToken() {
        // given: ingest-a's process polls under a lease that would take a minute to expire
        Instance crashed = instance("ingest-a#dead0001", lease(60_000, 100));
        crashed.service().start();
        awaitActivePolling(crashed);
        UserMessage m1 = harness.telegram.injectMessage(821, "before the crash");
        awaitConfirmed(m1);
        long oldToken = crashed.service().leaseToken().orElseThrow();

        // when: it dies without releasing the lease, and its restarted process (same instance id) starts
        crashed.service().halt();
        long restartedAt = System.nanoTime();
        Instance restarted = instance("ingest-a#live0002", lease(60_000, 100));
        restarted.service().start();

        // then: it polls long before the lease would have expired, under a larger token, and nothing is lost
        Await.until(
                "the restarted process to poll",
                Duration.ofSeconds(20),
                () -> restarted.service().isPolling());
        assertTrue(System.nanoTime() - restartedAt < Duration.ofSeconds(20).toNanos());
        assertTrue(restarted.service().leaseToken().orElseThrow() > oldToken);
        UserMessage m2 = harness.telegram.injectMessage(821, "after the restart");
        awaitConfirmed(m2);
        assertEquals(once(m1, m2), countByUpdateId(allRecords()));
    }

    @Test
    void
            givenACleanStop_whenTheActiveInstanceCloses_thenItReleasesTheLeaseAndTheStandbyTakesOverWithoutWaitingForTheTtl() {
        // given: a lease that would take a minute to expire
        Instance a = instance("a", lease(60_000, 100));
        Instance b = instance("b", lease(60_000, 100));
        a.service().start();
        b.service().start();
        awaitActivePolling(a);
        UserMessage m1 = harness.telegram.injectMessage(811, "to a");
        awaitConfirmed(m1);
        long tokenA = a.service().leaseToken().orElseThrow();

        // when
        a.service().close();

        // then: the lease is released at once (not left to expire), so b polls well before the ttl
        PollerLease view = new PollerLease(testRedis, leaseKey(), "test", Duration.ofSeconds(1));
        assertTrue(view.holder().map(h -> h.token() != tokenA).orElse(true), "a's lease is gone: " + view.holder());
        Await.until("b to take over", Duration.ofSeconds(30), () -> b.service().isPolling());
        UserMessage m2 = harness.telegram.injectMessage(811, "to b");
        awaitConfirmed(m2);
        assertEquals(once(m1, m2), countByUpdateId(allRecords()));
        assertEquals(0, b.service().duplicatesSkipped(), "a confirmed everything it wrote before it let go");
        assertFalse(a.service().isReady());
    }

    // ---- a lost lease ---------------------------------------------------------------------------------------

    @Test
    void givenAnotherHolderTookTheLease_whenABatchArrives_thenTheOldActiveNeitherWritesNorConfirmsItAndStopsPolling() {
        // given: a active with a lease that it would renew only every 100 s (so only the fence can notice), b
        // standing by
        Instance a = instance("a", lease(300_000, 100));
        Instance b = instance("b", lease(300_000, 100));
        a.service().start();
        b.service().start();
        awaitActivePolling(a);
        UserMessage m1 = harness.telegram.injectMessage(821, "normal");
        awaitConfirmed(m1);
        harness.awaitLongPoll();

        // when: someone else holds the lease now (as after a's pause outlasted the ttl), and a message arrives
        testRedis.set(
                leaseKey(), "999999999999999 intruder", SetParams.setParams().px(300_000));
        UserMessage m2 = harness.telegram.injectMessage(821, "after the lease was lost");

        // then: a fetched the batch but stops polling without writing or confirming it
        Await.until(
                "a to stop polling",
                TIMEOUT,
                () -> !a.service().isPolling() && a.service().role() == Role.STANDBY);
        Await.until(
                "the fence before the write caught it",
                TIMEOUT,
                () -> a.service().fenceRejections() == 1);
        assertEquals(m2.updateId(), harness.telegram.confirmedOffset(), "nothing confirmed after the loss");
        Await.until("no getUpdates in flight", TIMEOUT, () -> harness.telegram.activePolls() == 0);
        assertEquals(once(m1), countByUpdateId(allRecords()), "not written: the next poller writes it");
        assertEquals(Role.STANDBY, b.service().role(), "nobody may poll while the intruder holds the lease");
        assertTrue(a.scrape().contains("thoughtstream_ingest_lease_role 0.0\n"), a.scrape());
        UserMessage m3 = harness.telegram.injectMessage(822, "while the intruder holds the lease");
        assertEquals(m2.updateId(), harness.telegram.confirmedOffset());

        // when: the lease is free again
        testRedis.del(leaseKey());

        // then: one of them takes over and gets both messages: each once
        Await.until(
                "a new active poller",
                TIMEOUT,
                () -> a.service().isPolling() || b.service().isPolling());
        awaitConfirmed(m3);
        assertEquals(once(m1, m2, m3), countByUpdateId(allRecords()));
        assertNotEquals(a.service().role(), b.service().role(), "exactly one active");
    }

    @Test
    void givenTheLeaseIsLostWhileABatchIsBeingWritten_whenKafkaHasIt_thenItIsNotConfirmedAndTheNextPollerSkipsIt() {
        // given: a active, b standing by; a's dedup store takes the lease away from a the moment the batch of the
        // chosen chat is in Kafka (the fence before the write has passed by then): a stand-in for a pause that
        // outlasted the ttl in the middle of the write
        Map<String, String> vars = lease(300_000, 100);
        ClaimStoreSpy spy = new ClaimStoreSpy(
                new RedisClaimStore(RedisClaimStore.connect(TestRedis.settings()), keyPrefix),
                () -> testRedis.set(
                        leaseKey(),
                        "999999999999999 intruder",
                        SetParams.setParams().px(300_000)));
        Instance a = instance("a", vars, TestRedis.settings(), harness.track(spy));
        Instance b = instance("b", vars);
        a.service().start();
        b.service().start();
        awaitActivePolling(a);
        UserMessage m1 = harness.telegram.injectMessage(824, "normal");
        awaitConfirmed(m1);

        // when
        spy.armed = true;
        UserMessage m2 = harness.telegram.injectMessage(825, "written while the lease is lost");

        // then: in Kafka, but the fence after the write left it unconfirmed and a stopped polling
        Await.until(
                "a to stop polling",
                TIMEOUT,
                () -> !a.service().isPolling() && a.service().role() == Role.STANDBY);
        // (the fence hands the loss to the lease controller before the poller thread counts the rejection)
        Await.until(
                "the fence before the confirmation caught it",
                TIMEOUT,
                () -> a.service().fenceRejections() == 1);
        assertEquals(m2.updateId(), a.service().lastWrittenUpdateId());
        assertEquals(m2.updateId(), harness.telegram.confirmedOffset(), "written, never confirmed");
        assertEquals(once(m1, m2), countByUpdateId(allRecords()));

        // when: the lease is free again
        testRedis.del(leaseKey());

        // then: the new poller gets the message again from Telegram and recognises it: still once on the topic
        UserMessage m3 = harness.telegram.injectMessage(826, "after the takeover");
        awaitConfirmed(m3);
        assertEquals(once(m1, m2, m3), countByUpdateId(allRecords()));
        assertEquals(1, a.service().duplicatesSkipped() + b.service().duplicatesSkipped());
    }

    /**
     * The real dedup store, which once {@link #armed} runs {@code onFirstMark} right after the next dedup mark is
     * written: that is after Kafka acknowledged the update and before the consumer returns.
     */
    private static final class ClaimStoreSpy extends ForwardingClaimStore {
        private final Runnable onFirstMark;
        private final AtomicBoolean fired = new AtomicBoolean();
        volatile boolean armed;

        ClaimStoreSpy(ClaimStore real, Runnable onFirstMark) {
            super(real);
            this.onFirstMark = onFirstMark;
        }

        @Override
        public void put(String key, String value, Duration ttl) {
            super.put(key, value, ttl);
            if (armed && fired.compareAndSet(false, true)) {
                onFirstMark.run();
            }
        }
    }

    @Test
    void givenTheLeaseVanishes_whenTheActiveInstanceRenews_thenItStopsThatTermAndPollsAgainOnlyUnderANewerToken() {
        // given
        Instance a = instance("a", lease(1_500, 100));
        a.service().start();
        awaitActivePolling(a);
        long first = a.service().leaseToken().orElseThrow();
        UserMessage m1 = harness.telegram.injectMessage(831, "under the first token");
        awaitConfirmed(m1);

        // when: the key disappears (an operator, or Redis flushed)
        testRedis.del(leaseKey());

        // then: the next renewal notices, the term ends, and polling resumes under a newer token
        long second = Await.value(
                "a new token",
                TIMEOUT,
                () -> a.service().leaseToken().stream()
                        .boxed()
                        .filter(t -> t != first)
                        .findFirst());
        assertTrue(second > first, first + " < " + second);
        Await.until("polling again", TIMEOUT, a.service()::isPolling);
        UserMessage m2 = harness.telegram.injectMessage(831, "under the second token");
        awaitConfirmed(m2);
        List<ConsumerRecord<Long, StoredUpdate>> records = allRecords();
        assertEquals(once(m1, m2), countByUpdateId(records));
        assertEquals(first, tokenOf(records, m1));
        assertEquals(second, tokenOf(records, m2));
        assertTrue(a.scrape().contains("thoughtstream_ingest_lease_renew_failures_total 1.0\n"), a.scrape());
        assertTrue(
                a.scrape().contains("thoughtstream_ingest_lease_changes_total 3.0\n"),
                "acquired, lost, acquired: " + a.scrape());
        // (the old term's long poll, cancelled on our side, may still be answered 409 by the emulator when the new
        // term polls: that answer goes to a connection nobody reads any more)
        harness.awaitLongPoll();
    }

    // ---- Redis restart --------------------------------------------------------------------------------------

    /** A redis-server of this test alone on a fixed port, so it can be stopped and started again at the same address. */
    private RedisSettings ownRedis(int port) {
        return RedisSettings.from(
                Config.of(Map.of(RedisSettings.URL, "redis://127.0.0.1:" + port, "REDIS_TIMEOUT_MS", "200")));
    }

    private static int freePort() throws java.io.IOException {
        try (java.net.ServerSocket socket =
                new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static long counter(Instance i, String name) {
        String line = i.scrape()
                .lines()
                .filter(l -> l.startsWith("thoughtstream_" + name + " "))
                .findFirst()
                .orElseThrow(() -> new AssertionError(name + " not in " + i.scrape()));
        return (long) Double.parseDouble(line.substring(line.indexOf(' ') + 1));
    }

    @Test
    void givenTheLeaseIsRequired_whenRedisIsDownLongerThanTheTtl_thenPollingStopsUntilRedisIsBackAndNothingIsLost()
            throws Exception {
        // given: a active and b standing by on a Redis of their own
        int port = freePort();
        RedisServer redis = RedisServer.start(port);
        RedisSettings settings = ownRedis(port);
        Instance a = instance("a", lease(6_000, 100), settings);
        Instance b = instance("b", lease(6_000, 100), settings);
        try {
            a.service().start();
            b.service().start();
            awaitActivePolling(a);
            UserMessage m1 = harness.telegram.injectMessage(841, "redis is up");
            awaitConfirmed(m1);
            long before = a.service().leaseToken().orElseThrow();

            // when: Redis goes away, and a message arrives while a's lease is still valid by its own clock
            redis.close();
            UserMessage m2 = harness.telegram.injectMessage(841, "redis just went away");

            // then: a still writes and confirms it (the lease is valid for a ttl after the last renewal) ...
            awaitConfirmed(m2);
            // ... but stops polling once it could not renew for a whole ttl, and b cannot take over without Redis
            Await.until(
                    "a to stop polling",
                    TIMEOUT,
                    () -> a.service().role() == Role.STANDBY && !a.service().isPolling());
            assertEquals(Role.STANDBY, b.service().role());
            assertFalse(a.service().isReady(), "a standby that cannot reach Redis is not ready");
            assertFalse(b.service().isReady());
            assertTrue(counter(a, "ingest_lease_renew_failures_total") >= 1);
            Await.until("no poll in flight", TIMEOUT, () -> harness.telegram.activePolls() == 0);
            UserMessage m3 = harness.telegram.injectMessage(842, "nobody polls");
            assertEquals(m3.updateId(), harness.telegram.confirmedOffset(), "waits at Telegram, unconfirmed");

            // when: Redis is back (empty: it kept nothing)
            redis = RedisServer.start(port);

            // then: one instance takes the lease with a larger token and gets the waiting message
            Await.until(
                    "a new active poller",
                    TIMEOUT,
                    () -> a.service().isPolling() || b.service().isPolling());
            awaitConfirmed(m3);
            Instance active = a.service().role() == Role.ACTIVE ? a : b;
            assertEquals(Role.STANDBY, (active == a ? b : a).service().role(), "exactly one active");
            assertTrue(active.service().leaseToken().orElseThrow() > before, "fencing token rises across the restart");
            assertEquals(once(m1, m2, m3), countByUpdateId(allRecords()));
        } finally {
            a.service().close();
            b.service().close();
            redis.close();
        }
    }

    @Test
    void givenTheLeaseIsNotRequired_whenRedisIsDownLongerThanTheTtl_thenTheActiveInstanceKeepsPolling()
            throws Exception {
        // given: availability over exclusivity (fail-open)
        int port = freePort();
        RedisServer redis = RedisServer.start(port);
        RedisSettings settings = ownRedis(port);
        Map<String, String> vars = new HashMap<>(lease(1_500, 100));
        vars.put(IngestConfig.REDIS_OUTAGE, "fail-open");
        Instance a = instance("a", vars, settings);
        Instance b = instance("b", vars, settings);
        try {
            a.service().start();
            b.service().start();
            awaitActivePolling(a);
            UserMessage m1 = harness.telegram.injectMessage(851, "redis is up");
            awaitConfirmed(m1);

            // when: Redis stays away for longer than the ttl (a renewal every 500 ms: four failures take > 1.5 s)
            redis.close();
            Await.until(
                    "a to fail renewing for more than a ttl",
                    TIMEOUT,
                    () -> counter(a, "ingest_lease_renew_failures_total") >= 4);
            UserMessage m2 = harness.telegram.injectMessage(851, "long after redis went away");

            // then: a still polls, writes and confirms; b stays a standby
            awaitConfirmed(m2);
            assertEquals(Role.ACTIVE, a.service().role());
            assertTrue(a.service().isPolling());
            assertTrue(a.service().isReady());
            assertEquals(Role.STANDBY, b.service().role());
            assertFalse(b.service().isReady());
            assertTrue(a.service().dedupUnavailable() >= 1, "written without the duplicate check, counted");

            // when: Redis is back, without the lease
            redis = RedisServer.start(port);

            // then: a notices that its lease is gone; one instance polls under a new lease, nothing is lost
            PollerLease probe = new PollerLease(
                    harness.track(RedisClaimStore.connect(settings)), leaseKey(), "probe", Duration.ofSeconds(1));
            Await.until(
                    "the lease to be taken again", TIMEOUT, () -> probe.holder().isPresent());
            Await.until(
                    "an active poller",
                    TIMEOUT,
                    () -> a.service().isPolling() || b.service().isPolling());
            UserMessage m3 = harness.telegram.injectMessage(852, "redis is back");
            awaitConfirmed(m3);
            // The instance that lost its lease steps down at its next renewal, so both may be active for a moment.
            Await.until(
                    "exactly one active",
                    TIMEOUT,
                    () -> a.service().role() != b.service().role());
            assertEquals(once(m1, m2, m3), countByUpdateId(allRecords()));
        } finally {
            a.service().close();
            b.service().close();
            redis.close();
        }
    }
}
