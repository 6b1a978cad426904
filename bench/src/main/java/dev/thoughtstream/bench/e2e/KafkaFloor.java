package dev.thoughtstream.bench.e2e;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The floor: what Kafka alone costs on the same broker for the pipeline's path to the first send. A source
 * produces into hop 1; two relays consume and produce (trivial processing: the payload is resized to the next
 * topic's record size) into hops 2 and 3; a sink consumes hop 3. Same partition count as the pipeline's topics,
 * chat-id keys, each hop's values the average size of the matching pipeline topic (updates, thoughts, reply
 * parts), acks=all and idempotent producers. Latency is measured at the pipeline's ingest rate with linger 0
 * (as ingest and the emitter produce); throughput with the source producing as fast as it can, linger 5.
 */
final class KafkaFloor {
    private static final Logger LOG = LoggerFactory.getLogger(KafkaFloor.class);
    static final int HOPS = 3;

    /**
     * @param hops                latency from the source's send to the consume at hop 1, 2 and 3
     * @param ratePerSecond       the source's rate during the latency run
     * @param throughputPerSecond records per second through all three hops, producing flat out
     */
    record Result(List<Summary> hops, double ratePerSecond, double throughputPerSecond, int[] sizes, long lost) {
        Summary hop(int n) {
            return hops.get(n - 1);
        }

        /** No floor measured (--scenarios left it out): every ratio to it prints "n/a". */
        static Result skipped() {
            Summary none = Summary.of(List.of());
            return new Result(List.of(none, none, none), Double.NaN, Double.NaN, new int[] {0, 0, 0}, 0);
        }

        boolean ran() {
            return !Double.isNaN(ratePerSecond);
        }
    }

    private KafkaFloor() {}

    static Result run(
            String bootstrap,
            int partitions,
            int keys,
            int[] sizes,
            double rate,
            Duration warmup,
            Duration duration,
            Duration throughputFor)
            throws InterruptedException {
        String id = "bench-floor-" + Long.toString(System.currentTimeMillis(), 36);
        List<Summary> hops;
        long lost;
        try (Chain chain = new Chain(bootstrap, id + "-lat", partitions, sizes, 0)) {
            long measureFrom = System.nanoTime() + warmup.toNanos();
            long measureTo = measureFrom + duration.toNanos();
            chain.measureBetween(measureFrom, measureTo);
            long sent = chain.produceAtRate(rate, keys, measureTo);
            Poll.until(Duration.ofSeconds(30), Duration.ofMillis(20), () -> chain.received(HOPS) >= sent);
            lost = sent - chain.received(HOPS);
            hops = new ArrayList<>();
            for (int h = 1; h <= HOPS; h++) {
                hops.add(Summary.of(chain.latencies(h)));
            }
        }
        double throughput;
        try (Chain chain = new Chain(bootstrap, id + "-tput", partitions, sizes, 5)) {
            long sent = chain.produceFlatOut(keys, System.nanoTime() + throughputFor.toNanos());
            Poll.until(Duration.ofSeconds(60), Duration.ofMillis(20), () -> chain.received(HOPS) >= sent);
            throughput = chain.sinkRate();
        }
        return new Result(hops, rate, throughput, sizes.clone(), lost);
    }

    /** Source → hop1 → relay → hop2 → relay → hop3 → sink, each stage on its own thread. */
    private static final class Chain implements AutoCloseable {
        private final String bootstrap;
        private final int partitions;
        private final int[] sizes;
        private final int lingerMs;
        private final List<String> topics = new ArrayList<>();
        private final List<Stage> stages = new ArrayList<>();
        private final KafkaProducer<Long, byte[]> source;
        private volatile long measureFrom = Long.MIN_VALUE;
        private volatile long measureTo = Long.MAX_VALUE;

        Chain(String bootstrap, String id, int partitions, int[] sizes, int lingerMs) {
            this.bootstrap = bootstrap;
            this.partitions = partitions;
            this.sizes = sizes;
            this.lingerMs = lingerMs;
            for (int h = 1; h <= HOPS; h++) {
                topics.add(id + ".hop" + h);
            }
            createTopics();
            source = producer("source");
            awaitLeaders();
            for (int h = 1; h <= HOPS; h++) {
                Stage stage = new Stage(h);
                stages.add(stage);
                stage.thread.start();
            }
        }

        void measureBetween(long fromNanos, long toNanos) {
            measureFrom = fromNanos;
            measureTo = toNanos;
        }

        /** Paces the source at {@code rate}; returns how many it sent. */
        long produceAtRate(double rate, int keys, long untilNanos) throws InterruptedException {
            long start = System.nanoTime();
            long sent = 0;
            while (System.nanoTime() < untilNanos) {
                long due = (long) ((System.nanoTime() - start) / 1e9 * rate);
                while (sent < due) {
                    send(sent++ % keys);
                }
                // Pacing the load, not synchronisation: 1 ms steps keep the rate smooth.
                Thread.sleep(1);
            }
            source.flush();
            return sent;
        }

        long produceFlatOut(int keys, long untilNanos) {
            long sent = 0;
            while (System.nanoTime() < untilNanos) {
                send(sent++ % keys);
            }
            source.flush();
            return sent;
        }

        private void send(long key) {
            byte[] value = new byte[sizes[0]];
            ByteBuffer.wrap(value).putLong(System.nanoTime());
            source.send(new ProducerRecord<>(topics.get(0), key, value));
        }

        long received(int hop) {
            return stages.get(hop - 1).received.get();
        }

        List<Double> latencies(int hop) {
            Stage s = stages.get(hop - 1);
            synchronized (s.latencies) {
                return new ArrayList<>(s.latencies);
            }
        }

        /** Records per second at the sink, from its first to its last record. */
        double sinkRate() {
            Stage sink = stages.get(HOPS - 1);
            long n = sink.received.get();
            double seconds = (sink.lastNanos.get() - sink.firstNanos.get()) / 1e9;
            return n < 2 || seconds <= 0 ? Double.NaN : (n - 1) / seconds;
        }

        private void createTopics() {
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            try (Admin admin = Admin.create(p)) {
                List<NewTopic> newTopics = topics.stream()
                        .map(t -> new NewTopic(t, Optional.of(partitions), Optional.empty()))
                        .toList();
                admin.createTopics(newTopics).all().get(30, TimeUnit.SECONDS);
                // Metadata can name a leader before the broker serves the partition; an idempotent producer that
                // meets NOT_LEADER there can end in OUT_OF_ORDER_SEQUENCE retries. Listing offsets succeeds only
                // once every partition is served.
                java.util.Map<TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> specs =
                        new java.util.HashMap<>();
                for (String t : topics) {
                    for (int i = 0; i < partitions; i++) {
                        specs.put(new TopicPartition(t, i), org.apache.kafka.clients.admin.OffsetSpec.latest());
                    }
                }
                boolean served = Poll.until(Duration.ofSeconds(30), Duration.ofMillis(100), () -> {
                    try {
                        admin.listOffsets(specs).all().get(5, TimeUnit.SECONDS);
                        return true;
                    } catch (ExecutionException | TimeoutException e) {
                        return false;
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return true;
                    }
                });
                if (!served) {
                    throw new IllegalStateException("the floor's topics " + topics + " are not served after 30 s");
                }
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("cannot create the floor's topics " + topics, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while creating the floor's topics", e);
            }
        }

        /** A new topic's partitions have no leader for a moment; producing then only adds retries to the figures. */
        private void awaitLeaders() {
            try {
                boolean ready = Poll.until(
                        Duration.ofSeconds(30),
                        Duration.ofMillis(50),
                        () -> topics.stream()
                                .allMatch(t -> source.partitionsFor(t).stream().allMatch(p -> p.leader() != null)));
                if (!ready) {
                    throw new IllegalStateException("the floor's topics " + topics + " have no leaders after 30 s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the floor's topics", e);
            }
        }

        private KafkaProducer<Long, byte[]> producer(String name) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
            p.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
            // Bounds a stalled partition (see createTopics): its records are then counted as lost, not waited for.
            p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 30_000);
            p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 20_000);
            if (lingerMs > 0) {
                p.put(ProducerConfig.BATCH_SIZE_CONFIG, 65_536);
            }
            p.put(ProducerConfig.CLIENT_ID_CONFIG, "bench-floor-" + name);
            return new KafkaProducer<>(p, new LongSerializer(), new ByteArraySerializer());
        }

        /** Consumes hop {@code h}; relays to hop h+1 unless it is the sink. */
        private final class Stage implements Runnable {
            final int hop;
            final Thread thread;
            final KafkaConsumer<Long, byte[]> consumer;
            final KafkaProducer<Long, byte[]> producer;
            final AtomicBoolean running = new AtomicBoolean(true);
            final AtomicLong received = new AtomicLong();
            final AtomicLong firstNanos = new AtomicLong();
            final AtomicLong lastNanos = new AtomicLong();
            final List<Double> latencies = Collections.synchronizedList(new ArrayList<>());

            Stage(int hop) {
                this.hop = hop;
                Properties p = new Properties();
                p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
                p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
                p.put(ConsumerConfig.CLIENT_ID_CONFIG, "bench-floor-hop" + hop);
                consumer = new KafkaConsumer<>(p, new LongDeserializer(), new ByteArrayDeserializer());
                List<TopicPartition> tps = new ArrayList<>();
                for (int i = 0; i < partitions; i++) {
                    tps.add(new TopicPartition(topics.get(hop - 1), i));
                }
                consumer.assign(tps);
                consumer.seekToBeginning(tps);
                producer = hop < HOPS ? producer("relay" + hop) : null;
                thread = new Thread(this, "bench-floor-hop" + hop);
                thread.setDaemon(true);
            }

            @Override
            public void run() {
                try {
                    while (running.get()) {
                        for (ConsumerRecord<Long, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                            long now = System.nanoTime();
                            long origin = ByteBuffer.wrap(r.value()).getLong();
                            if (origin >= measureFrom && origin <= measureTo) {
                                latencies.add((now - origin) / 1e6);
                            }
                            if (received.getAndIncrement() == 0) {
                                firstNanos.set(now);
                            }
                            lastNanos.set(now);
                            if (producer != null) {
                                byte[] next = new byte[sizes[hop]];
                                ByteBuffer.wrap(next).putLong(origin);
                                producer.send(new ProducerRecord<>(topics.get(hop), r.key(), next));
                            }
                        }
                    }
                } catch (WakeupException e) {
                    LOG.debug("floor hop {} woken up to stop", hop);
                } catch (RuntimeException e) {
                    LOG.warn("floor hop {} stopped by an error: {}", hop, e.toString());
                } finally {
                    consumer.close(CloseOptions.timeout(Duration.ofSeconds(5)));
                    if (producer != null) {
                        producer.close(Duration.ofSeconds(5));
                    }
                }
            }
        }

        @Override
        public void close() {
            source.close(Duration.ofSeconds(5));
            for (Stage s : stages) {
                s.running.set(false);
                s.consumer.wakeup();
            }
            for (Stage s : stages) {
                try {
                    s.thread.join(10_000);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }
}
