package dev.thoughtstream.emitter.pace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Random;
import org.junit.jupiter.api.Test;

class TypingDelayTest {

    @Test
    void delayIsCharactersOverSpeedWithinTheBounds() {
        TypingDelay delay = new TypingDelay(10, Duration.ofMillis(300), Duration.ofMillis(2000), 0, new Random(1));

        assertEquals(Duration.ofMillis(500), delay.forText("12345"));
        assertEquals(Duration.ofMillis(300), delay.forText("a"), "never below the minimum");
        assertEquals(Duration.ofMillis(2000), delay.forText("x".repeat(500)), "never above the maximum");
    }

    @Test
    void emojiCountAsOneCharacterEach() {
        TypingDelay delay = new TypingDelay(1, Duration.ZERO, Duration.ofSeconds(10), 0, new Random(1));

        assertEquals(Duration.ofSeconds(2), delay.forText("\uD83D\uDE00\uD83D\uDE00"));
    }

    @Test
    void jitterStaysWithinItsFractionAndIsReproducibleWithASeed() {
        TypingDelay a = new TypingDelay(10, Duration.ZERO, Duration.ofSeconds(100), 0.2, new Random(42));
        TypingDelay b = new TypingDelay(10, Duration.ZERO, Duration.ofSeconds(100), 0.2, new Random(42));

        for (int i = 0; i < 100; i++) {
            Duration d = a.forText("x".repeat(100));
            assertTrue(d.toMillis() >= 8000 && d.toMillis() <= 12000, d.toString());
            assertEquals(d, b.forText("x".repeat(100)));
        }
    }

    @Test
    void allDelaysCanBeSetToZero() {
        TypingDelay delay = new TypingDelay(10, Duration.ZERO, Duration.ZERO, 0.5, new Random());

        assertEquals(Duration.ZERO, delay.forText("a long message that would take a while to type"));
    }
}
