package dev.thoughtstream.common.redis;

import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * LAPTOP FALLBACK ONLY: the staleness signal inside one JVM. It works for devstack, where every service runs in
 * the same JVM, and for nothing else: separate processes do not see each other's messages. Production and
 * tests use {@link RedisChatActivity}.
 */
public final class InMemoryChatActivity implements ChatActivity {
    private static final Logger LOG = LoggerFactory.getLogger(InMemoryChatActivity.class);

    private final ConcurrentHashMap<Long, Long> newest = new ConcurrentHashMap<>();
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();

    public InMemoryChatActivity() {
        LOG.warn("USING AN IN-MEMORY STALENESS SIGNAL: only services in this JVM see it. Laptop use only.");
    }

    @Override
    public boolean recordIngested(long chatId, long messageId) {
        boolean[] newer = {false};
        newest.compute(chatId, (id, old) -> {
            if (old == null || messageId > old) {
                newer[0] = true;
                return messageId;
            }
            return old;
        });
        if (newer[0]) {
            for (Listener l : listeners) {
                l.newerMessage(chatId, messageId);
            }
        }
        return newer[0];
    }

    @Override
    public OptionalLong newest(long chatId) {
        Long id = newest.get(chatId);
        return id == null ? OptionalLong.empty() : OptionalLong.of(id);
    }

    @Override
    public void subscribe(Listener listener) {
        listeners.add(listener);
    }

    @Override
    public void close() {
        listeners.clear();
    }
}
