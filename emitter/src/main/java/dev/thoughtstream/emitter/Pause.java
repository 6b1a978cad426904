package dev.thoughtstream.emitter;

import java.time.Duration;

/** Waiting, injected so that tests and replays can run without real delays. */
@FunctionalInterface
interface Pause {
    void pause(Duration duration) throws InterruptedException;

    Pause REAL = d -> {
        if (!d.isZero() && !d.isNegative()) {
            Thread.sleep(d.toMillis());
        }
    };
}
