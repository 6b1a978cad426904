package dev.thoughtstream.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Which part of a bench run a thread of this JVM belongs to, by its name. */
class JvmUsageTest {

    @Test
    void aStacksServicesAreNotTheBenchThoughTheirIdsStartWithBench() {
        // Given the names a stack's services give their threads (its ids all start with bench-<stack>-)
        String app = "bench-real-group-mxdk97l6-chunker-e690daba-323a-4c7e-bee0-7dc404be82d6";

        // Then each is its service's
        assertEquals("chunker", JvmUsage.pipelinePart(app + "-StreamThread-1"));
        assertEquals(
                "chunker",
                JvmUsage.pipelinePart("kafka-producer-network-thread | " + app + "-StreamThread-1-producer"));
        assertEquals(
                "emitter",
                JvmUsage.pipelinePart("kafka-coordinator-heartbeat-thread | bench-real-group-mxdk97l6-emitter"));
        assertEquals(
                "llm-processor",
                JvmUsage.pipelinePart("kafka-coordinator-heartbeat-thread | bench-real-group-mxdk97l6-llm"));
    }

    @Test
    void theLoadStacksChunkerIsNotTheLoadGenerator() {
        // Given the load stack, whose ids start with bench-load-, like the load generator's thread name
        String app = "bench-load-mxdk97l6-chunker-e690daba-323a-4c7e-bee0-7dc404be82d6";

        // Then its chunker's threads are the chunker's, and only the thread named bench-load is the bench's
        assertEquals("chunker", JvmUsage.pipelinePart(app + "-StreamThread-1"));
        assertEquals(
                "chunker",
                JvmUsage.pipelinePart("kafka-producer-network-thread | " + app + "-StreamThread-1-producer"));
        assertEquals("bench", JvmUsage.pipelinePart("bench-load"));
    }

    @Test
    void theBenchsOwnThreadsAndClientsAreTheBench() {
        for (String name : new String[] {
            "bench-load",
            "bench-usage",
            "bench-watch-bench-real-group-mxdk97l6.chat.thoughts",
            "kafka-coordinator-heartbeat-thread | bench-watch-bench-real-group-mxdk97l6.tg.updates",
            "kafka-admin-client-thread | bench-lag-sampler",
            "bench-floor-hop2",
            "bench-capacity-feed",
        }) {
            assertEquals("bench", JvmUsage.pipelinePart(name), name);
        }
    }
}
