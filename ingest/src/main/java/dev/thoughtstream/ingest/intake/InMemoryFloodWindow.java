package dev.thoughtstream.ingest.intake;

import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * LAPTOP FALLBACK ONLY: {@link FloodWindow} in this process's memory, for devstack without Redis. It is not shared
 * between instances and forgets everything on restart; a deployment uses {@link RedisFloodWindow}. Windows older than
 * the newest one seen are dropped, so memory stays bounded by the people active in the current window.
 */
public final class InMemoryFloodWindow implements FloodWindow {
    private final Map<Long, TreeSet<Long>> current = new HashMap<>();
    private long currentWindow = Long.MIN_VALUE;

    @Override
    public synchronized long position(long userId, long window, long updateId) {
        if (window > currentWindow) {
            current.clear();
            currentWindow = window;
        } else if (window < currentWindow) {
            // A late update of a finished window: judged on its own, which errs on letting it through.
            return 0;
        }
        TreeSet<Long> ids = current.computeIfAbsent(userId, u -> new TreeSet<>());
        ids.add(updateId);
        return ids.headSet(updateId).size();
    }
}
