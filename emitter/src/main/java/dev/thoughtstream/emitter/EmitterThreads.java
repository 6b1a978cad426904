package dev.thoughtstream.emitter;

import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/** Named threads, so a thread dump says who owns each one. */
public final class EmitterThreads {
    private EmitterThreads() {}

    static ThreadFactory named(String prefix, boolean daemon) {
        AtomicInteger counter = new AtomicInteger();
        return runnable -> {
            Thread t = new Thread(runnable, prefix + "-" + counter.incrementAndGet());
            t.setDaemon(daemon);
            return t;
        };
    }

    /**
     * The scheduler the emitter's lanes wait on (typing delays, retries, rate limits). Its tasks are short state
     * changes, so one thread serves every chat; cancelled timers are removed at once (a stale drop cancels many).
     * The caller owns it and shuts it down after the emitter.
     */
    public static ScheduledThreadPoolExecutor scheduler() {
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1, named("emitter-scheduler", true));
        scheduler.setRemoveOnCancelPolicy(true);
        return scheduler;
    }
}
