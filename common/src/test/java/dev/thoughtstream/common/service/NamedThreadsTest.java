package dev.thoughtstream.common.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.ThreadFactory;
import org.junit.jupiter.api.Test;

class NamedThreadsTest {

    @Test
    void threadsAreNumberedUnderTheirPrefixAndDaemonAsAsked() {
        ThreadFactory daemons = NamedThreads.daemon("emitter-send");
        ThreadFactory users = NamedThreads.factory("poll", false);

        Thread first = daemons.newThread(() -> {});
        Thread second = daemons.newThread(() -> {});
        Thread user = users.newThread(() -> {});

        assertEquals("emitter-send-1", first.getName());
        assertEquals("emitter-send-2", second.getName());
        assertTrue(first.isDaemon());
        assertEquals("poll-1", user.getName());
        assertFalse(user.isDaemon());
    }
}
