package dev.thoughtstream.emitter.pace;

import dev.thoughtstream.emitter.EmitterConfig;
import java.time.Duration;
import java.util.Random;

/** How long "typing..." shows before a part: clamp(chars / cps, min, max), with seedable jitter. */
public final class TypingDelay {
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

    public static TypingDelay from(EmitterConfig.Typing config) {
        Random random = config.seed().isPresent() ? new Random(config.seed().getAsLong()) : new Random();
        return new TypingDelay(config.charsPerSecond(), config.min(), config.max(), config.jitter(), random);
    }

    public Duration forText(String text) {
        double ms = text.codePointCount(0, text.length()) * 1000.0 / charsPerSecond;
        if (jitter > 0) {
            synchronized (random) {
                ms *= 1 + jitter * (2 * random.nextDouble() - 1);
            }
        }
        return Duration.ofMillis(Math.max(minMs, Math.min(maxMs, Math.round(ms))));
    }
}
