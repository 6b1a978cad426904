package dev.thoughtstream.emitter;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/** A {@link Pause} that remembers every wait it was asked for; it waits for real only when told to. */
final class RecordingPause implements Pause {
    private final boolean reallyWait;
    private final List<Duration> pauses = new ArrayList<>();

    RecordingPause(boolean reallyWait) {
        this.reallyWait = reallyWait;
    }

    @Override
    public void pause(Duration duration) throws InterruptedException {
        synchronized (this) {
            pauses.add(duration);
        }
        if (reallyWait) {
            Pause.REAL.pause(duration);
        }
    }

    synchronized List<Duration> pauses() {
        return List.copyOf(pauses);
    }
}
