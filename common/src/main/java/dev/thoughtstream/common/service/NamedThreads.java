package dev.thoughtstream.common.service;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Thread factories that name their threads, so a thread dump says which service owns each one. */
public final class NamedThreads {
    private NamedThreads() {}

    /** Threads {@code prefix-1}, {@code prefix-2}, …; daemon threads do not keep the JVM alive. */
    public static ThreadFactory factory(String prefix, boolean daemon) {
        AtomicInteger counter = new AtomicInteger();
        return runnable -> {
            Thread t = new Thread(runnable, prefix + "-" + counter.incrementAndGet());
            t.setDaemon(daemon);
            return t;
        };
    }

    /** Daemon threads {@code prefix-N}. */
    public static ThreadFactory daemon(String prefix) {
        return factory(prefix, true);
    }
}
