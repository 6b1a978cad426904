package dev.thoughtstream.emitter;

import java.time.Duration;
import java.util.Random;

/** How long "typing..." shows before a part: clamp(chars / cps, min, max), with seedable jitter. */
final class TypingDelay {
    private final double charsPerSecond;
    private final long minMs;
    private final long maxMs;
    private final double jitter;
    private final Random random;

    TypingDelay(double charsPerSecond, Duration min, Duration max, double jitter, Random random) {
        this.charsPerSecond = charsPerSecond;
        this.minMs = min.toMillis();
        this.maxMs = max.toMillis();
        this.jitter = jitter;
        this.random = random;
    }

    static TypingDelay from(EmitterConfig config) {
        Random random = config.typingSeed().isPresent() ? new Random(config.typingSeed().getAsLong()) : new Random();
        return new TypingDelay(config.typingCps(), config.typingMin(), config.typingMax(), config.typingJitter(), random);
    }

    Duration forText(String text) {
        double ms = text.codePointCount(0, text.length()) * 1000.0 / charsPerSecond;
        if (jitter > 0) {
            synchronized (random) {
                ms *= 1 + jitter * (2 * random.nextDouble() - 1);
            }
        }
        return Duration.ofMillis(Math.max(minMs, Math.min(maxMs, Math.round(ms))));
    }
}
