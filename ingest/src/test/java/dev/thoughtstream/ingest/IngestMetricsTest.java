package dev.thoughtstream.ingest;

import static dev.thoughtstream.ingest.IngestHarness.TIMEOUT;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.Service;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.kafka.TestKafka;
import dev.thoughtstream.testkit.redis.TestRedis;
import dev.thoughtstream.testkit.telegram.UserMessage;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What an operator scrapes from a running ingest: its own counters (those kept in plain longs too), the JVM's and
 * its Kafka producers', all on {@code /metrics} of the process' HTTP port. Built the way the launcher builds it:
 * {@link IngestFactory} over an {@link Infra} serving HTTP, on the in-process broker, real Redis and the emulator.
 */
class IngestMetricsTest {
    private final IngestHarness harness = new IngestHarness();
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void close() {
        harness.close();
    }

    @Test
    void givenARunningIngest_whenAMessageIsWritten_thenMetricsShowsItsCountersTheJvmAndItsKafkaProducers()
            throws Exception {
        // given: ingest as deployed, with Redis (dedup, the staleness signal, the poller lease) and HTTP on
        String prefix = TestKafka.uniquePrefix("ingest-metrics");
        Topics topics = IngestHarness.createTopics(prefix);
        Map<String, String> env = harness.variables();
        env.put(KafkaSettings.BOOTSTRAP, TestKafka.bootstrapServers());
        env.put("TOPIC_PREFIX", prefix);
        env.put(RedisSettings.URL, TestRedis.url().toString());
        env.put("REDIS_KEY_PREFIX", TestRedis.uniqueKeyPrefix("ingest-metrics"));
        Config config = Config.of(env);
        Infra infra = harness.track(Infra.create(Infra.Settings.from(config, true)));
        int port = infra.serveHttp(0).port();
        Service ingest = harness.track(new IngestFactory().create(config, infra));
        ingest.start();
        harness.awaitLongPoll();

        // when: a person writes, and ingest writes it to Kafka and records it in the staleness signal
        UserMessage m = harness.telegram.injectMessage(31, "count me");
        TestKafka.awaitRecords(topics.updates(), 1, TIMEOUT);
        Await.until("the update confirmed", TIMEOUT, () -> harness.telegram.confirmedOffset() == m.updateId() + 1);

        // then: the counters that used to live only in ingest's fields are on /metrics
        HttpResponse<String> scrape = http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, scrape.statusCode());
        assertEquals(
                Metrics.CONTENT_TYPE,
                scrape.headers().firstValue("Content-Type").orElseThrow(),
                "Prometheus text, as before");
        String text = scrape.body();
        for (String line : List.of(
                "# TYPE thoughtstream_ingest_activity_recorded_total counter\n",
                "thoughtstream_ingest_activity_recorded_total 1.0\n",
                "thoughtstream_ingest_activity_unavailable_total 0.0\n",
                "thoughtstream_ingest_dedup_unavailable_total 0.0\n",
                "thoughtstream_ingest_write_retries_total 0.0\n",
                "thoughtstream_ingest_fence_rejections_total 0.0\n",
                "thoughtstream_ingest_updates_total{result=\"written\"} 1.0\n",
                "thoughtstream_ingest_lease_role 1.0\n")) {
            assertTrue(text.contains(line), "missing " + line + " in:\n" + text);
        }
        // and Micrometer's binders show the JVM and both producers with no code of ours
        for (String series : List.of(
                "jvm_memory_used_bytes{",
                "jvm_threads_live_threads ",
                "process_uptime_seconds ",
                "kafka_producer_record_send_total{",
                "client_id=\"thoughtstream-ingest\"",
                "client_id=\"thoughtstream-ingest-notices\"")) {
            assertTrue(text.contains(series), "missing " + series + " in:\n" + text);
        }
    }
}
