package dev.thoughtstream.emitter;

import dev.thoughtstream.common.service.NamedThreads;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/** The emitter's timer thread. */
public final class EmitterThreads {
    private EmitterThreads() {}

    /**
     * The scheduler the emitter's lanes wait on (typing delays, retries, rate limits). Its tasks are short state
     * changes, so one thread serves every chat; cancelled timers are removed at once (a stale drop cancels many).
     * The caller owns it and shuts it down after the emitter.
     */
    public static ScheduledThreadPoolExecutor scheduler() {
        ScheduledThreadPoolExecutor scheduler =
                new ScheduledThreadPoolExecutor(1, NamedThreads.daemon("emitter-scheduler"));
        scheduler.setRemoveOnCancelPolicy(true);
        return scheduler;
    }
}
