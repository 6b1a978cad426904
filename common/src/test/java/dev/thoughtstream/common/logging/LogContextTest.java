package dev.thoughtstream.common.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

class LogContextTest {
    private static final Logger LOG = LoggerFactory.getLogger(LogContextTest.class);

    private CapturedEvents captured;

    @BeforeEach
    void setUp() {
        MDC.clear();
        captured = CapturedEvents.attach("log-context-test");
    }

    @AfterEach
    void tearDown() {
        captured.close();
        MDC.clear();
    }

    @Test
    void aLineLoggedInsideAContextCarriesItsIdsAndALineAfterItNone() {
        // given a piece of work for a reply of a thought of chat 42
        try (LogContext ignored = LogContext.of(42L, "42:7", "r-42-7")) {
            // when it logs
            LOG.info("inside");
        }
        LOG.info("after");

        // then its line carries the three ids, and the line after it none
        assertEquals(
                Map.of("chat_id", "42", "thought_id", "42:7", "reply_id", "r-42-7"),
                captured.the("inside").context());
        assertEquals(Map.of(), captured.the("after").context());
    }

    @Test
    void absentIdsAreLeftOut() {
        try (LogContext ignored = LogContext.ofChat(42)) {
            LOG.info("chat only");
        }
        try (LogContext ignored = LogContext.of(null, "", null)) {
            LOG.info("nothing known");
        }

        assertEquals(Map.of("chat_id", "42"), captured.the("chat only").context());
        assertEquals(Map.of(), captured.the("nothing known").context());
    }

    @Test
    void anInnerContextGivesWayToTheOuterOneWhenItCloses() {
        // given a thought's context, and inside it one of its replies
        try (LogContext thought = LogContext.ofThought(42, "42:7")) {
            try (LogContext reply = LogContext.of(42L, "42:7", "r-42-7")) {
                LOG.info("reply");
            }
            // when the reply's context closes, the thought's is back, without the reply id
            LOG.info("thought again");
        }

        assertEquals("r-42-7", captured.the("reply").context().get("reply_id"));
        assertEquals(
                Map.of("chat_id", "42", "thought_id", "42:7"),
                captured.the("thought again").context());
    }

    @Test
    void aPooledThreadCarriesNothingFromOneTaskToTheNext() throws Exception {
        // given one pooled thread that ran a task for chat 42, which already had a context of its own
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            pool.submit(() -> MDC.put("request", "outer")).get(5, TimeUnit.SECONDS);
            pool.submit(() -> {
                        try (LogContext ignored = LogContext.of(42L, "42:7", "r-42-7")) {
                            LOG.info("task for chat 42");
                        }
                    })
                    .get(5, TimeUnit.SECONDS);

            // when the same thread runs the next task
            pool.submit(() -> LOG.info("next task")).get(5, TimeUnit.SECONDS);
        } finally {
            pool.shutdownNow();
        }

        // then the first task's ids were on its line only, and the thread's own context is as it was
        assertEquals("42", captured.the("task for chat 42").context().get("chat_id"));
        assertEquals("outer", captured.the("task for chat 42").context().get("request"));
        assertEquals(Map.of("request", "outer"), captured.the("next task").context());
    }

    @Test
    void closingOnAnotherThreadIsRefusedAndTheOwnerStillRestoresItsContext() throws Exception {
        // given a context opened on this thread
        LogContext context = LogContext.ofChat(42);

        // when another thread tries to close it, it is refused
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Throwable thrown = pool.submit(() -> assertThrows(IllegalStateException.class, context::close))
                    .get(5, TimeUnit.SECONDS);
            assertTrue(thrown.getMessage().contains("thread that opened it"));
        } finally {
            pool.shutdownNow();
        }

        // then this thread still has it until it closes it here
        assertEquals("42", MDC.get(LogContext.CHAT_ID));
        context.close();
        assertNull(MDC.get(LogContext.CHAT_ID));
    }
}
