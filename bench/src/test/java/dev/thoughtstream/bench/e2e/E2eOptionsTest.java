package dev.thoughtstream.bench.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class E2eOptionsTest {

    @Test
    void withoutArgumentsTheDocumentedRunIsMade() {
        E2eOptions o = E2eOptions.parse(new String[0]);
        assertEquals(1000, o.chats());
        assertEquals(Duration.ofSeconds(60), o.duration());
        // 1000 chats × 3 messages at 1000 messages/s: every chat writes every 3 s
        assertEquals(Duration.ofSeconds(3), o.turnPeriod());
    }

    @Test
    void durationsTakeSecondsMinutesAndMillisAndOverridesAreCollected() {
        E2eOptions o = E2eOptions.parse(new String[] {
            "--duration",
            "2m",
            "--warmup",
            "500ms",
            "--lag-interval",
            "1.5s",
            "--set",
            "LLM_CONCURRENCY=16",
            "--set",
            "STREAMS_COMMIT_INTERVAL_MS=20"
        });
        assertEquals(Duration.ofMinutes(2), o.duration());
        assertEquals(Duration.ofMillis(500), o.warmup());
        assertEquals(Duration.ofMillis(1500), o.lagInterval());
        assertEquals(Map.of("LLM_CONCURRENCY", "16", "STREAMS_COMMIT_INTERVAL_MS", "20"), o.overrides());
    }

    @Test
    void scenariosAndTheIngestOnlyRunArePickedByName() {
        E2eOptions d = E2eOptions.parse(new String[0]);
        assertTrue(d.runs("load") && d.runs("floor") && d.runs("restore"), "the documented run by default");
        assertFalse(d.runs("ingest"), "the ingest-only run only when asked");

        E2eOptions o = E2eOptions.parse(new String[] {
            "--scenarios",
            "stale, Ingest",
            "--ingest-updates",
            "500",
            "--ingest-chats",
            "7",
            "--ingest-modes",
            "webhook"
        });
        assertTrue(o.runs("stale") && o.runs("ingest"));
        assertFalse(o.runs("load") || o.runs("floor"));
        assertEquals(500, o.ingestUpdates());
        assertEquals(7, o.ingestChats());
        assertEquals(List.of("webhook"), o.ingestModes());

        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class,
                () -> E2eOptions.parse(new String[] {"--scenarios", "load,everything"}));
        assertTrue(e.getMessage().contains("--scenarios"), e.getMessage());
        e = assertThrows(
                IllegalArgumentException.class,
                () -> E2eOptions.parse(new String[] {"--ingest-modes", "carrier-pigeon"}));
        assertTrue(e.getMessage().contains("--ingest-modes"), e.getMessage());
    }

    @Test
    void aBadValueIsRefusedNamingTheOption() {
        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> E2eOptions.parse(new String[] {"--chats", "many"}));
        assertTrue(e.getMessage().contains("--chats"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> E2eOptions.parse(new String[] {"--duration", "soon"}));
        assertTrue(e.getMessage().contains("--duration"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> E2eOptions.parse(new String[] {"--chats", "0"}));
        assertTrue(e.getMessage().contains("--chats"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> E2eOptions.parse(new String[] {"--set", "NOVALUE"}));
        assertTrue(e.getMessage().contains("--set"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> E2eOptions.parse(new String[] {"--colour", "red"}));
        assertTrue(e.getMessage().contains("--colour"), e.getMessage());
    }

    @Test
    void theRealisticLoadRunsInThisJvmUnlessItsServicesAreAskedToRunAsProcesses() {
        // Given no deployment option, the services of item 7 run in the bench's JVM
        E2eOptions d = E2eOptions.parse(new String[0]);
        assertEquals("jvm", d.real().deploy());
        assertEquals(List.of(), d.real().javaOpts());
        assertEquals(java.time.Duration.ZERO, d.real().modelTick(), "each token written when due");

        // When processes are asked for, with JVM options and a distribution
        E2eOptions o = E2eOptions.parse(new String[] {
            "--real-deploy",
            "Processes",
            "--real-java-opts",
            " -Xmx1g  -XX:+UseSerialGC ",
            "--real-dist",
            "dist/here",
            "--real-model-tick",
            "25ms"
        });

        // Then each option is taken, the JVM options one by one
        assertEquals("processes", o.real().deploy());
        assertEquals(List.of("-Xmx1g", "-XX:+UseSerialGC"), o.real().javaOpts());
        assertEquals(java.nio.file.Path.of("dist/here"), o.real().dist());
        assertEquals(java.time.Duration.ofMillis(25), o.real().modelTick());
        // and another deployment is refused, naming the option
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> E2eOptions.parse(new String[] {"--real-deploy", "k8s"}));
        assertTrue(e.getMessage().contains("--real-deploy"), e.getMessage());
    }

    @Test
    void theCapacityModelWritesItsDueTokensEveryTickUnlessTheTickIsZero() {
        // by default the capacity run's model coalesces the tokens due per tick
        assertEquals(
                Duration.ofMillis(25),
                E2eOptions.parse(new String[0]).capacity().modelTick());
        // a tick of zero writes each token alone, as the other scenarios' models do
        assertEquals(
                Duration.ZERO,
                E2eOptions.parse(new String[] {"--capacity-model-tick", "0"})
                        .capacity()
                        .modelTick());
        assertEquals(
                Duration.ofMillis(50),
                E2eOptions.parse(new String[] {"--capacity-model-tick", "50ms"})
                        .capacity()
                        .modelTick());
        IllegalArgumentException e = assertThrows(
                IllegalArgumentException.class, () -> E2eOptions.parse(new String[] {"--capacity-model-tick", "-1s"}));
        assertTrue(e.getMessage().contains("--capacity-model-tick"), e.getMessage());
    }
}
