package dev.thoughtstream.bench.e2e;

import dev.thoughtstream.common.metrics.Metrics;
import java.lang.management.ManagementFactory;
import javax.management.MBeanServer;
import javax.management.ObjectName;

/**
 * How an llm-processor in this JVM takes its thoughts: its in-flight gauge ({@code llm_in_flight}), and, in share
 * mode, what its share consumers fetched (the Kafka client's own metrics, read over JMX: every share consumer of
 * this JVM, summed).
 */
final class LlmIntake {
    private static final String IN_FLIGHT_GAUGE = Metrics.PREFIX + "llm_in_flight ";
    private static final String SHARE_FETCH = "kafka.consumer:type=consumer-share-fetch-manager-metrics,client-id=*";

    /** Share fetches and the records they brought, over every share consumer of this JVM so far. */
    record ShareFetches(double fetches, double records) {
        ShareFetches minus(ShareFetches before) {
            return new ShareFetches(fetches - before.fetches, records - before.records);
        }

        double recordsPerFetch() {
            return fetches <= 0 ? Double.NaN : records / fetches;
        }
    }

    private LlmIntake() {}

    /**
     * The processor's thoughts in flight, read from the registry of this JVM (0 before it registered the gauge).
     * Not from a scrape: rendering every series of a stack (Kafka clients' included) ten times a second cost about
     * a sixth of a core, taken from the pipeline being measured.
     */
    static long inFlight(Metrics metrics) {
        io.micrometer.core.instrument.Gauge gauge =
                metrics.registry().find(IN_FLIGHT_GAUGE.strip()).gauge();
        return gauge == null ? 0 : Math.round(gauge.value());
    }

    /** The processor's thoughts in flight in a Prometheus scrape (0 before it registered the gauge). */
    static long inFlight(String scrape) {
        for (String line : scrape.split("\n")) {
            if (line.startsWith(IN_FLIGHT_GAUGE)) {
                return Math.round(Double.parseDouble(
                        line.substring(IN_FLIGHT_GAUGE.length()).strip()));
            }
        }
        return 0;
    }

    static ShareFetches shareFetches() {
        MBeanServer server = ManagementFactory.getPlatformMBeanServer();
        double fetches = 0;
        double records = 0;
        try {
            for (ObjectName name : server.queryNames(new ObjectName(SHARE_FETCH), null)) {
                fetches += number(server.getAttribute(name, "fetch-total"));
                records += number(server.getAttribute(name, "records-consumed-total"));
            }
        } catch (javax.management.JMException e) {
            return new ShareFetches(Double.NaN, Double.NaN);
        }
        return new ShareFetches(fetches, records);
    }

    private static double number(Object value) {
        return value instanceof Number n ? n.doubleValue() : 0;
    }
}
