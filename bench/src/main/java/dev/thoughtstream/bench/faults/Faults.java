package dev.thoughtstream.bench.faults;

import dev.thoughtstream.bench.faults.FaultSuite.Exchange;
import dev.thoughtstream.common.kafka.DeadLetters;
import dev.thoughtstream.common.topic.Topics;
import dev.thoughtstream.launcher.ComposeStack;
import dev.thoughtstream.testkit.kafka.TopicReader;
import dev.thoughtstream.testkit.process.ManagedProcess;
import dev.thoughtstream.testkit.process.ProcessGroup;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.LongSerializer;

/** The faults the suite injects, in the order it injects them; each leaves the pipeline whole again. */
final class Faults {
    /** People writing at once around a fault, each in a chat of their own. */
    static final int BATCH = 4;
    /** How long Redis stays down. */
    static final Duration REDIS_OUTAGE = Duration.ofSeconds(4);
    /** How many sendMessage calls a storm fails. */
    static final int STORM_CALLS = 8;
    /** People writing at once through the webhook. */
    static final int WEBHOOK_CHATS = 24;
    /** An nginx-style error page, as a proxy in front of the Bot API answers a 502. */
    static final String NGINX_502 = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
            + "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    /** The key of the malformed records: a chat nobody writes in. */
    private static final long MALFORMED_CHAT = 999_000_001L;

    private static final Duration STORM_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration DEAD_LETTER_TIMEOUT = Duration.ofSeconds(60);

    private Faults() {}

    /** One fault: injected, and over, when {@link #inject} returns. */
    interface Fault {
        String name();

        void inject(FaultSuite.Round round) throws Exception;
    }

    static List<Fault> all() {
        List<Fault> faults = new ArrayList<>();
        for (String service : ComposeStack.SERVICES) {
            faults.add(Outage.kill(service, s -> s.service(service)));
        }
        faults.add(Outage.kill("broker", ComposeStack::kafka));
        // Stopped, not killed: what matters is the services' side of a Redis that is gone, then back empty.
        faults.add(
                new Outage("redis outage", "Redis", ComposeStack::stopRedis, REDIS_OUTAGE, ComposeStack::startRedis));
        faults.add(new MalformedRecords());
        faults.add(new Storm(
                "telegram 429 storm",
                Map.of("method", "sendMessage", "status", 429, "retryAfter", 1, "times", STORM_CALLS)));
        faults.add(new Storm(
                "telegram html 502 storm",
                Map.of(
                        "method",
                        "sendMessage",
                        "status",
                        502,
                        "times",
                        STORM_CALLS,
                        "contentType",
                        "text/html",
                        "body",
                        NGINX_502)));
        // Last: it leaves ingest in webhook mode.
        faults.add(new WebhookBurst());
        return faults;
    }

    /**
     * An outage that strikes while replies are being generated and sent: more people write while it lasts, then the
     * part comes back.
     *
     * @param name    the fault's name
     * @param what    the part that goes down, for the people's messages
     * @param stop    takes it down
     * @param downFor how long it stays down beyond what {@code start} takes
     * @param start   brings it back and returns once it is ready
     */
    private record Outage(
            String name, String what, Consumer<ComposeStack> stop, Duration downFor, Consumer<ComposeStack> start)
            implements Fault {

        /**
         * {@code kill -9} of a process; its container restarted with the same environment (the same
         * {@code HOSTNAME}; for the broker the same data directory and port).
         */
        static Outage kill(String what, Function<ComposeStack, ManagedProcess> process) {
            return new Outage(
                    "kill -9 " + what, "the " + what, s -> process.apply(s).kill9(), Duration.ZERO, s -> {
                        ManagedProcess p = process.apply(s);
                        p.restart();
                        p.awaitReady(ComposeStack.START_TIMEOUT);
                    });
        }

        @Override
        public void inject(FaultSuite.Round round) {
            List<Exchange> before = round.write(BATCH, "before " + what + " goes down");
            round.awaitMidReply(before);
            stop.accept(round.stack());
            round.write(BATCH, "while " + what + " is down");
            if (!downFor.isZero()) {
                FaultSuite.sleep(downFor);
            }
            start.accept(round.stack());
        }
    }

    /**
     * Garbage bytes, a null value and JSON of the wrong shape on every topic a service consumes, between people's
     * messages: each must reach the dead-letter topic with a reason, and the people must still be answered.
     */
    private record MalformedRecords() implements Fault {
        @Override
        public String name() {
            return "malformed records";
        }

        @Override
        public void inject(FaultSuite.Round round) throws Exception {
            ComposeStack stack = round.stack();
            Topics topics = Topics.withPrefix(stack.topicPrefix());
            List<String> consumed = List.of(
                    topics.updates().name(),
                    topics.thoughts().name(),
                    topics.replies().name(),
                    topics.delivered().name());
            Map<String, byte[]> bad = new LinkedHashMap<>();
            bad.put("garbage bytes", new byte[] {(byte) 0xff, 0x00, (byte) 0xfe, 0x13, 0x37, (byte) 0x80});
            bad.put("null value", null);
            bad.put(
                    "wrong-schema JSON",
                    "{\"unexpected\":\"shape\",\"round\":%d}"
                            .formatted(round.number())
                            .getBytes(StandardCharsets.UTF_8));

            round.write(BATCH, "before the malformed records");
            // topic -> partition/offset -> which kind of malformed record
            Map<String, Map<String, String>> written = new TreeMap<>();
            byte[] key = new LongSerializer().serialize("", MALFORMED_CHAT);
            try (KafkaProducer<byte[], byte[]> producer = producer(stack.bootstrap())) {
                for (String topic : consumed) {
                    for (Map.Entry<String, byte[]> b : bad.entrySet()) {
                        RecordMetadata m = producer.send(new ProducerRecord<>(topic, key, b.getValue()))
                                .get();
                        written.computeIfAbsent(topic, t -> new TreeMap<>())
                                .put(m.partition() + "/" + m.offset(), b.getKey());
                    }
                }
            }
            round.write(BATCH, "after the malformed records");

            // Then each lands in the dead letters with its origin and a reason
            try (TopicReader<byte[], byte[]> reader =
                    new TopicReader<>(stack.bootstrap(), topics.deadLetters(), DEAD_LETTER_TIMEOUT)) {
                Optional<Boolean> all = round.poll(
                        DEAD_LETTER_TIMEOUT,
                        () -> missing(reader.poll(), written).isEmpty() ? Optional.of(true) : Optional.empty());
                List<String> missing = missing(reader.seen(), written);
                int total = written.values().stream().mapToInt(Map::size).sum();
                if (all.isPresent()) {
                    round.note("round " + round.number() + ": " + total + " of " + total
                            + " malformed records dead-lettered with a reason");
                } else {
                    round.note(FaultResult.FAILED + ": round " + round.number() + ": " + missing.size() + " of "
                            + total + " malformed records not dead-lettered with a reason within "
                            + DEAD_LETTER_TIMEOUT.toSeconds() + " s: " + missing);
                }
            }
        }

        /** The written records that have no dead letter naming their topic, partition and offset, with a reason. */
        private static List<String> missing(
                List<ConsumerRecord<byte[], byte[]>> deadLetters, Map<String, Map<String, String>> written) {
            Set<String> found = deadLetters.stream()
                    .filter(r -> !Optional.ofNullable(DeadLetters.header(r.headers(), DeadLetters.REASON))
                            .orElse("")
                            .isBlank())
                    .map(r -> DeadLetters.header(r.headers(), DeadLetters.SOURCE_TOPIC) + "/"
                            + DeadLetters.header(r.headers(), DeadLetters.SOURCE_PARTITION) + "/"
                            + DeadLetters.header(r.headers(), DeadLetters.SOURCE_OFFSET))
                    .collect(Collectors.toSet());
            List<String> missing = new ArrayList<>();
            written.forEach((topic, records) -> records.forEach((position, kind) -> {
                if (!found.contains(topic + "/" + position)) {
                    missing.add(kind + " on " + topic);
                }
            }));
            return missing;
        }

        private static KafkaProducer<byte[], byte[]> producer(String bootstrap) {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            p.put(ProducerConfig.CLIENT_ID_CONFIG, "fault-suite-malformed");
            return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
        }
    }

    /**
     * The Bot API fails the next sendMessage calls (emulator control API {@code POST /emulator/faults}) while people
     * write; the fault is over once every planned failure has been answered.
     */
    private record Storm(String name, Map<String, Object> fault) implements Fault {
        @Override
        public void inject(FaultSuite.Round round) {
            round.stack().emulator().addFault(fault);
            round.write(BATCH, "during the " + name);
            boolean usedUp = round.poll(
                            STORM_TIMEOUT,
                            () -> round.stack().emulator().faultsRemaining() == 0
                                    ? Optional.of(true)
                                    : Optional.empty())
                    .isPresent();
            if (!usedUp) {
                round.stack().emulator().clearFaults();
                round.note(FaultResult.FAILED + ": round " + round.number() + ": the storm was not used up within "
                        + STORM_TIMEOUT.toSeconds() + " s");
            }
        }
    }

    /**
     * Ingest switched to webhook mode (the emulator POSTs each update to it, as Telegram does), then many people
     * writing at the same moment.
     */
    private static final class WebhookBurst implements Fault {
        private boolean switched;

        @Override
        public String name() {
            return "webhook, " + WEBHOOK_CHATS + " chats at once";
        }

        @Override
        public void inject(FaultSuite.Round round) throws Exception {
            if (!switched) {
                ComposeStack stack = round.stack();
                stack.service("ingest").stop(Duration.ofSeconds(30));
                int port = ProcessGroup.freePort();
                byte[] secret = new byte[16];
                new SecureRandom().nextBytes(secret);
                Map<String, String> webhook = Map.of(
                        "INGEST_MODE",
                        "webhook",
                        "INGEST_WEBHOOK_URL",
                        "http://127.0.0.1:" + port,
                        "INGEST_WEBHOOK_PORT",
                        Integer.toString(port),
                        "INGEST_WEBHOOK_SECRET",
                        HexFormat.of().formatHex(secret));
                stack.startAnother("ingest", "ingest-webhook", webhook).awaitReady(ComposeStack.START_TIMEOUT);
                switched = true;
                String url = stack.emulator().webhookUrl();
                if (url.isEmpty()) {
                    round.note(FaultResult.FAILED + ": ingest in webhook mode is ready but set no webhook");
                } else {
                    round.note("ingest switched to webhook mode; the emulator delivers to "
                            + url.replaceFirst("/[^/]*$", "/…"));
                }
            }
            ExecutorService people = Executors.newFixedThreadPool(WEBHOOK_CHATS);
            try {
                List<Future<List<Exchange>>> sent = new ArrayList<>();
                for (int i = 0; i < WEBHOOK_CHATS; i++) {
                    sent.add(people.submit(() -> round.write(1, "through the webhook")));
                }
                for (Future<List<Exchange>> f : sent) {
                    f.get();
                }
            } finally {
                people.shutdownNow();
            }
        }
    }
}
