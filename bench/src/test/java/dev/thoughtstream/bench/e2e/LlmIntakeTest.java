package dev.thoughtstream.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.thoughtstream.common.metrics.Metrics;
import org.junit.jupiter.api.Test;

class LlmIntakeTest {

    @Test
    void theInFlightGaugeIsReadFromTheRegistryAsTheScrapeShowsIt() {
        try (Metrics metrics = new Metrics()) {
            metrics.gauge("llm_in_flight", "thoughts in flight", () -> 7);

            assertEquals(7, LlmIntake.inFlight(metrics));
            assertEquals(LlmIntake.inFlight(metrics.scrape()), LlmIntake.inFlight(metrics));
        }
    }

    @Test
    void beforeTheProcessorRegisteredItsGaugeNothingIsInFlight() {
        try (Metrics metrics = new Metrics()) {
            assertEquals(0, LlmIntake.inFlight(metrics));
        }
    }
}
