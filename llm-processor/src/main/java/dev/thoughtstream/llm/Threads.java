package dev.thoughtstream.llm;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Named threads, so a thread dump says who owns each one. */
final class Threads {
    private Threads() {}

    static ThreadFactory named(String prefix, boolean daemon) {
        AtomicInteger counter = new AtomicInteger();
        return runnable -> {
            Thread t = new Thread(runnable, prefix + "-" + counter.incrementAndGet());
            t.setDaemon(daemon);
            return t;
        };
    }
}
