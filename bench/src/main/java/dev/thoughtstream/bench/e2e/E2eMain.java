package dev.thoughtstream.bench.e2e;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@code java -jar thoughtstream-bench.jar e2e [options]}: one run, the report on standard output. */
public final class E2eMain {
    private static final Logger LOG = LoggerFactory.getLogger(E2eMain.class);

    private E2eMain() {}

    public static void main(String[] args) {
        E2eOptions options;
        try {
            if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
                System.out.println(E2eOptions.usage());
                return;
            }
            options = E2eOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("invalid option: " + e.getMessage());
            System.err.println(E2eOptions.usage());
            System.exit(2);
            return;
        }
        try {
            E2eBench.run(options, System.out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            System.err.println("interrupted");
            System.exit(1);
        } catch (RuntimeException e) {
            LOG.error("the benchmark failed", e);
            System.exit(1);
        }
        // Kafka's and the services' non-daemon threads are closed by now; exit explicitly all the same, so a
        // straggler cannot keep a finished benchmark alive.
        System.exit(0);
    }
}
