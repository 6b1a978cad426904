package dev.thoughtstream.testkit.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class BehaviorTest {

    @Test
    void shortcutsBuildTheDescribedBehaviour() {
        Behavior limited = Behavior.rateLimited(3);

        assertEquals(OptionalInt.of(429), limited.status());
        assertEquals(OptionalInt.of(3), limited.retryAfterSeconds());
        assertTrue(Behavior.hanging().hangs());
        assertEquals(OptionalInt.of(2), Behavior.stallingAfter(2).stallAfterTokens());
        assertEquals(OptionalInt.of(5), Behavior.cuttingOffAfter(5).cutOffAfterTokens());
        assertEquals("hi", Behavior.replying("hi").reply().orElseThrow());
        assertTrue(Behavior.normal().status().isEmpty());
    }

    @Test
    void conflictingOptionsAreRejectedWithAReason() {
        IllegalArgumentException stallAndCut = assertThrows(
                IllegalArgumentException.class,
                () -> Behavior.builder()
                        .stallAfterTokens(1)
                        .cutOffAfterTokens(2)
                        .build());
        IllegalArgumentException statusAndReply = assertThrows(
                IllegalArgumentException.class,
                () -> Behavior.builder().status(500).reply("x").build());
        IllegalArgumentException hangAndStatus = assertThrows(
                IllegalArgumentException.class,
                () -> Behavior.builder().hang().status(500).build());
        IllegalArgumentException retryWithoutStatus = assertThrows(
                IllegalArgumentException.class,
                () -> Behavior.builder().retryAfterSeconds(1).build());

        assertTrue(stallAndCut.getMessage().contains("stallAfterTokens"));
        assertTrue(statusAndReply.getMessage().contains("status"));
        assertTrue(hangAndStatus.getMessage().contains("hang"));
        assertTrue(retryWithoutStatus.getMessage().contains("status"));
    }

    @Test
    void outOfRangeValuesAreRejected() {
        assertThrows(IllegalArgumentException.class, () -> Behavior.builder().status(200));
        assertThrows(IllegalArgumentException.class, () -> Behavior.builder().tokensPerSecond(-1));
        assertThrows(IllegalArgumentException.class, () -> Behavior.builder().tokensPerSecond(Double.NaN));
        assertThrows(IllegalArgumentException.class, () -> Behavior.builder().latency(Duration.ofMillis(-1)));
        assertThrows(IllegalArgumentException.class, () -> Behavior.builder().stallAfterTokens(-1));
    }
}
