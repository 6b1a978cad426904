package dev.thoughtstream.common.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class MetricsTest {

    @Test
    void countersAreSeriesByNameAndLabelsAndScrapeInPrometheusFormat() {
        Metrics metrics = new Metrics();
        metrics.counter("llm_calls_total", "Model calls.", "outcome", "ok").add(3);
        metrics.counter("llm_calls_total", "Model calls.", "outcome", "error").increment();

        String text = metrics.scrape();

        assertTrue(text.contains("# HELP thoughtstream_llm_calls_total Model calls.\n"), text);
        assertTrue(text.contains("# TYPE thoughtstream_llm_calls_total counter\n"), text);
        assertTrue(text.contains("thoughtstream_llm_calls_total{outcome=\"ok\"} 3.0\n"), text);
        assertTrue(text.contains("thoughtstream_llm_calls_total{outcome=\"error\"} 1.0\n"), text);
    }

    @Test
    void theSameSeriesIsTheSameInstrument() {
        Metrics metrics = new Metrics();

        assertSame(metrics.counter("a_total", "A.", "x", "1"), metrics.counter("a_total", "A.", "x", "1"));
    }

    @Test
    void timersAreCumulativeHistogramsInSecondsWithBucketsForQuantiles() {
        Metrics metrics = new Metrics();
        Metrics.Timer t = metrics.timer("reply_seconds", "Reply latency.");
        t.record(Duration.ofMillis(3));
        t.record(Duration.ofMillis(30));
        t.record(Duration.ofSeconds(500));

        String text = metrics.scrape();

        assertTrue(text.contains("thoughtstream_reply_seconds_bucket{le=\"0.005\"} 1\n"), text);
        assertTrue(text.contains("thoughtstream_reply_seconds_bucket{le=\"0.05\"} 2\n"), text);
        assertTrue(text.contains("thoughtstream_reply_seconds_bucket{le=\"120.0\"} 2\n"), text);
        assertTrue(text.contains("thoughtstream_reply_seconds_bucket{le=\"+Inf\"} 3\n"), text);
        assertTrue(text.contains("thoughtstream_reply_seconds_count 3\n"), text);
        assertTrue(text.contains("thoughtstream_reply_seconds_sum 500.033\n"), text);
        assertTrue(text.contains("# TYPE thoughtstream_reply_seconds histogram\n"), text);
        for (double le : Metrics.BUCKETS) {
            assertTrue(
                    text.contains("thoughtstream_reply_seconds_bucket{le=\"" + le + "\"}"),
                    "bucket " + le + ": " + text);
        }
        assertEquals(3, t.count());
        assertEquals(500.033, t.sumSeconds(), 1e-9);
    }

    @Test
    void gaugesAreReadAtScrapeTime() {
        Metrics metrics = new Metrics();
        int[] depth = {1};
        metrics.gauge("queue_depth", "Parts waiting.", () -> depth[0], "chat_kind", "private");
        depth[0] = 7;

        assertTrue(metrics.scrape().contains("thoughtstream_queue_depth{chat_kind=\"private\"} 7.0\n"));
    }

    @Test
    void labelValuesAreEscapedAndBadNamesRejected() {
        Metrics metrics = new Metrics();
        metrics.counter("x_total", "X.", "reason", "a \"quoted\"\nline").increment();

        assertTrue(metrics.scrape().contains("x_total{reason=\"a \\\"quoted\\\"\\nline\"} 1.0"));
        assertThrows(IllegalArgumentException.class, () -> metrics.counter("Bad-Name", "x"));
        assertThrows(IllegalArgumentException.class, () -> metrics.counter("y_total", "y", "odd"));
        assertThrows(IllegalArgumentException.class, () -> metrics.timer("x_total", "X."), "a counter is not a timer");
    }

    @Test
    void givenAGaugeRegisteredAgain_whenScraped_thenTheNewestSourceIsRead() {
        Metrics metrics = new Metrics();
        metrics.gauge("lease_role", "Role.", () -> 1);

        metrics.gauge("lease_role", "Role.", () -> 0);

        assertTrue(metrics.scrape().contains("thoughtstream_lease_role 0.0\n"), metrics.scrape());
    }

    @Test
    void givenCountsKeptElsewhere_whenScraped_thenTheyAreCountersSummedOverTheirSources() {
        // Given two components of one process (devstack) counting the same thing in plain longs
        Metrics metrics = new Metrics();
        long[] first = {2};
        metrics.counter("write_retries_total", "Retries.", () -> first[0], "mode", "polling");
        metrics.counter("write_retries_total", "Retries.", () -> 3, "mode", "polling");

        // When one of them counts on
        first[0] = 4;

        // Then the series is a counter read at scrape time: the sum of both
        String text = metrics.scrape();
        assertTrue(text.contains("# TYPE thoughtstream_write_retries_total counter\n"), text);
        assertTrue(text.contains("thoughtstream_write_retries_total{mode=\"polling\"} 7.0\n"), text);
    }

    @Test
    void givenTheJvmBound_whenScraped_thenMicrometersJvmAndProcessMetricsAreThere() {
        Metrics metrics = new Metrics();

        metrics.bindJvm();
        metrics.bindJvm(); // once per registry, however often asked

        String text = metrics.scrape();
        for (String name : List.of(
                "jvm_memory_used_bytes{",
                "jvm_gc_",
                "jvm_threads_live_threads ",
                "jvm_classes_loaded_classes ",
                "system_cpu_count ",
                "process_uptime_seconds ")) {
            assertTrue(text.contains(name), name + " missing from:\n" + text);
        }
        metrics.close();
    }

    @Test
    void theEndpointsServeMetricsLivenessAndReadiness() throws Exception {
        Metrics metrics = new Metrics();
        metrics.counter("updates_total", "Updates.").add(2);
        AtomicBoolean polling = new AtomicBoolean(true);
        HttpClient http = HttpClient.newHttpClient();
        try (HttpEndpoints endpoints = HttpEndpoints.start(0, metrics).check("polling", polling::get)) {
            String base = "http://127.0.0.1:" + endpoints.port();

            HttpResponse<String> scrape = get(http, base + "/metrics");
            assertEquals(200, scrape.statusCode());
            assertTrue(scrape.body().contains("thoughtstream_updates_total 2.0"));
            assertEquals(
                    Metrics.CONTENT_TYPE,
                    scrape.headers().firstValue("Content-Type").orElseThrow());
            assertEquals(200, get(http, base + "/health/live").statusCode());
            assertEquals(200, get(http, base + "/health/ready").statusCode());

            polling.set(false);
            HttpResponse<String> notReady = get(http, base + "/health/ready");
            assertEquals(503, notReady.statusCode());
            assertTrue(notReady.body().contains("polling"));
        }
    }

    @Test
    void theEndpointsAreNotReadyBeforeAServiceRegisteredItsCheck() throws Exception {
        // Given endpoints serving while the service is still being built (as ServiceRunner starts them)
        HttpClient http = HttpClient.newHttpClient();
        try (HttpEndpoints endpoints = HttpEndpoints.start(0, new Metrics())) {
            String base = "http://127.0.0.1:" + endpoints.port();

            // Then the process is alive but not ready
            assertEquals(200, get(http, base + "/health/live").statusCode());
            HttpResponse<String> starting = get(http, base + "/health/ready");
            assertEquals(503, starting.statusCode());
            assertTrue(starting.body().contains("starting"), starting.body());

            // When the service registers its check, readiness is that check's
            endpoints.check("emitter", () -> true);
            assertEquals(200, get(http, base + "/health/ready").statusCode());
        }
    }

    @Test
    void aRefreshingBinderLooksAgainAtTheRegistrysIntervalUntilItsHandleIsClosed() throws Exception {
        // Given a registry that refreshes every 50 ms, and a binder that registers one more meter at each refresh
        // (as a Kafka binder registers the meters its client created since)
        Metrics metrics = new Metrics(Duration.ofMillis(50));
        AtomicInteger refreshes = new AtomicInteger();
        AtomicBoolean closed = new AtomicBoolean();
        AtomicReference<java.util.concurrent.ScheduledExecutorService> given = new AtomicReference<>();
        final class Growing implements MeterBinder, AutoCloseable {
            private final java.util.concurrent.ScheduledExecutorService scheduler;
            private final Duration every;

            Growing(java.util.concurrent.ScheduledExecutorService scheduler, Duration every) {
                this.scheduler = scheduler;
                this.every = every;
            }

            @Override
            public void bindTo(MeterRegistry registry) {
                scheduler.scheduleAtFixedRate(
                        () -> registry.counter("refreshed_" + refreshes.incrementAndGet()),
                        every.toMillis(),
                        every.toMillis(),
                        TimeUnit.MILLISECONDS);
            }

            @Override
            public void close() {
                closed.set(true);
            }
        }

        // When it is bound
        Metrics.Binding binding = metrics.bindRefreshing((scheduler, every) -> {
            given.set(scheduler);
            assertEquals(Duration.ofMillis(50), every);
            return new Growing(scheduler, every);
        });

        // Then it refreshes on its own thread at that interval, well within the default's 30 s
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (refreshes.get() < 3 && System.nanoTime() < deadline) {
            java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
        }
        assertTrue(refreshes.get() >= 3, "refreshes: " + refreshes.get());
        assertTrue(metrics.scrape().contains("refreshed_1_total"), metrics.scrape());

        // And closing the handle closes the binder and stops its scheduler
        binding.close();
        assertTrue(closed.get());
        assertTrue(given.get().awaitTermination(5, TimeUnit.SECONDS), "the binder's scheduler stopped");
        assertEquals(Metrics.DEFAULT_REFRESH, new Metrics().refresh());
        assertThrows(IllegalArgumentException.class, () -> new Metrics(Duration.ZERO));
    }

    private static HttpResponse<String> get(HttpClient http, String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
