package dev.thoughtstream.llm.budget;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.redis.RedisClaimStore;
import dev.thoughtstream.llm.budget.ProviderBudget.Permit;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.redis.TestRedis;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;

/**
 * Two budget instances on one real Redis, each pumping on its own thread, hammered by many threads that acquire,
 * release and withdraw at once, in real time: the limit holds under every interleaving, every request is granted in
 * the end, and no permit is left behind.
 */
class SharedBudgetUnderLoadTest {
    private static final int LIMIT = 3;
    private static final int THREADS = 8;
    private static final int REQUESTS_PER_THREAD = 25;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    private final RedisClient redis = RedisClaimStore.connect(TestRedis.settings());
    private final String keyPrefix = TestRedis.uniqueKeyPrefix("budget-load");
    private final BudgetConfig config =
            new BudgetConfig(LIMIT, 0, 0, 2, Duration.ofSeconds(30), Duration.ofMillis(5), "load");
    private final List<ScheduledThreadPoolExecutor> schedulers = new ArrayList<>();
    private final List<ProviderBudget> budgets = new ArrayList<>();
    private final List<Metrics> metrics = new ArrayList<>();
    private final ExecutorService workers = Executors.newFixedThreadPool(THREADS);

    @AfterEach
    void close() {
        workers.shutdownNow();
        budgets.forEach(ProviderBudget::close);
        schedulers.forEach(ScheduledThreadPoolExecutor::shutdownNow);
        redis.close();
    }

    private ProviderBudget instance() {
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1);
        scheduler.setRemoveOnCancelPolicy(true);
        Metrics m = new Metrics();
        ProviderBudget budget =
                ProviderBudgets.create(config, Optional.of(redis), keyPrefix, scheduler, Clock.systemUTC(), m);
        schedulers.add(scheduler);
        budgets.add(budget);
        metrics.add(m);
        return budget;
    }

    private List<String> leases() {
        return redis.zrange(RedisLimits.keyBase(keyPrefix, config) + "leases", 0, -1);
    }

    private static double inFlight(Metrics m) {
        return m.scrape()
                .lines()
                .filter(l -> l.startsWith(Metrics.PREFIX + "llm_budget_in_flight "))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.indexOf(' ') + 1)))
                .findFirst()
                .orElseThrow();
    }

    @Test
    void manyThreadsOnTwoInstancesNeverHoldMoreThanTheLimitAndAllAreGranted() throws Exception {
        // given two instances sharing a limit of 3 requests at once
        ProviderBudget a = instance();
        ProviderBudget b = instance();
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger mostInFlight = new AtomicInteger();
        AtomicInteger done = new AtomicInteger();

        // when 8 threads each run 25 requests, alternating between the instances
        List<Future<?>> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            threads.add(workers.submit(() -> {
                for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
                    ProviderBudget budget = (thread + i) % 2 == 0 ? a : b;
                    Permit permit =
                            budget.acquire("t" + thread + "-" + i, 1).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                    mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                    // Stands for the model call: a permit is held for a moment, so that holders overlap.
                    LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(1_000_000));
                    inFlight.decrementAndGet();
                    permit.release(1);
                    done.incrementAndGet();
                }
                return null;
            }));
        }
        for (Future<?> thread : threads) {
            thread.get(2 * TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }

        // then never more than 3 ran at once, every request was granted, and nothing is left held
        assertTrue(mostInFlight.get() <= LIMIT, "at most " + LIMIT + " at once, but saw " + mostInFlight.get());
        assertEquals(THREADS * REQUESTS_PER_THREAD, done.get());
        Await.until("every lease gone from Redis", TIMEOUT, () -> leases().isEmpty());
    }

    @Test
    void requestsWithdrawnWhileWaitingNeverKeepAPermit() throws Exception {
        // given two instances sharing a limit of 3
        ProviderBudget a = instance();
        ProviderBudget b = instance();

        // when 8 threads each ask 25 times, withdrawing half of the requests at once (some of those were granted
        // just before: then cancel() answers false and the thread releases what it got)
        List<Future<?>> threads = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            threads.add(workers.submit(() -> {
                for (int i = 0; i < REQUESTS_PER_THREAD; i++) {
                    ProviderBudget budget = (thread + i) % 2 == 0 ? a : b;
                    CompletableFuture<Permit> request = budget.acquire("t" + thread + "-" + i, 1);
                    if (ThreadLocalRandom.current().nextBoolean() && request.cancel(false)) {
                        continue;
                    }
                    request.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS).release(1);
                }
                return null;
            }));
        }
        for (Future<?> thread : threads) {
            thread.get(2 * TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }

        // then no permit is left: not in Redis, not in either instance
        Await.until(
                "every lease gone from Redis and every permit back",
                TIMEOUT,
                () -> leases().isEmpty() && metrics.stream().allMatch(m -> inFlight(m) == 0));

        // and the whole limit is there to take again, and not more
        List<CompletableFuture<Permit>> again = new ArrayList<>();
        for (int i = 0; i < LIMIT; i++) {
            again.add((i % 2 == 0 ? a : b).acquire("again" + i, 1));
        }
        for (CompletableFuture<Permit> request : again) {
            request.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        }
        CompletableFuture<Permit> oneMore = b.acquire("one-more", 1);
        Await.until("the limit reached in Redis", TIMEOUT, () -> leases().size() == LIMIT);
        assertFalse(oneMore.isDone(), "a fourth request waits");
        again.get(0).join().release(1);
        oneMore.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    }
}
