package dev.thoughtstream.testkit.kafka;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * {@link EmbeddedKafka} as a process of its own, for tests that run the services as separate processes the way a
 * container deployment runs them beside a broker:
 * {@code java -cp "<dist>/lib/*" dev.thoughtstream.testkit.kafka.KafkaBrokerMain <dataDir> <port>}.
 *
 * <p>Prints {@value #READY_PREFIX}{@code <bootstrap servers>} on standard output once clients can connect, and runs
 * until SIGTERM (or Ctrl-C), which shuts the broker down cleanly. Exit codes: 0 stopped by a signal, 1 could not
 * start, 2 wrong arguments.
 */
public final class KafkaBrokerMain {
    /** The start of the line printed once the broker accepts clients; the bootstrap servers follow it. */
    public static final String READY_PREFIX = "kafka broker ready on ";

    private KafkaBrokerMain() {}

    public static void main(String[] args) {
        if (args.length != 2) {
            System.err.println("usage: KafkaBrokerMain <dataDir> <port (0: any free port)>");
            System.exit(2);
        }
        int port;
        try {
            port = Integer.parseInt(args[1]);
        } catch (NumberFormatException e) {
            System.err.println("port must be a number but was '" + args[1] + "'");
            System.exit(2);
            return;
        }
        EmbeddedKafka kafka;
        try {
            kafka = EmbeddedKafka.start(Path.of(args[0]), port);
        } catch (RuntimeException e) {
            System.err.println("Kafka could not start: " + e.getMessage());
            e.printStackTrace(System.err);
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            try {
                                kafka.close();
                            } finally {
                                stopped.countDown();
                            }
                        },
                        "kafka-broker-shutdown"));
        System.out.println(READY_PREFIX + kafka.bootstrapServers());
        System.out.flush();
        try {
            // The main thread has nothing more to do; the broker's own threads serve until the shutdown hook runs.
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
