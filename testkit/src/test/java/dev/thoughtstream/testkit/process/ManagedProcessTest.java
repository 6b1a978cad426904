package dev.thoughtstream.testkit.process;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.process.ManagedProcess.Readiness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The process harness against real processes: a POSIX shell that prints and then waits. */
class ManagedProcessTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(20);
    /** Prints its environment and a ready line, then waits for a signal; {@code exec} so the signal reaches sleep. */
    private static final List<String> SHELL =
            List.of("/bin/sh", "-c", "env; echo started $0; exec sleep 600", "service");

    @Test
    void aProcessGetsExactlyTheGivenEnvironmentAndIsKilledWithSigkillAndRestartedWithTheSame(@TempDir Path dir) {
        try (ProcessGroup group = new ProcessGroup(dir)) {
            // Given a process started with one variable of its own
            ManagedProcess p = group.start("svc", SHELL, Map.of("GREETING", "hello"), Readiness.logLine("started"));
            p.awaitReady(TIMEOUT);
            long firstPid = p.pid();

            // Then it sees that variable and none of the test JVM's (the shell adds only PWD)
            assertTrue(p.logTail(50).contains("GREETING=hello"), p.logTail(50));
            assertFalse(p.logTail(50).contains("PATH="), "the test JVM's PATH leaked in:\n" + p.logTail(50));
            assertEquals(
                    dir.resolve("svc").toAbsolutePath() + "",
                    p.lineStartingWith("PWD=").orElseThrow().substring("PWD=".length()),
                    "its working directory is its own");

            // When it is killed with SIGKILL
            p.kill9();

            // Then it is gone with the status of a process killed by signal 9
            assertFalse(p.isAlive());
            assertEquals(Optional.of(ManagedProcess.SIGKILL_EXIT), p.exitValue());

            // When it is restarted, it runs again with the same environment, and the log holds both incarnations
            p.restart().awaitReady(TIMEOUT);
            assertTrue(p.pid() != firstPid);
            assertEquals(2, p.incarnation());
            assertEquals(Map.of("GREETING", "hello"), p.environment());
            String log = p.logTail(100);
            assertEquals(
                    2, log.lines().filter(l -> l.startsWith("GREETING=hello")).count(), log);
            assertEquals(2, log.lines().filter(l -> l.startsWith("----- svc #")).count(), log);
        }
    }

    @Test
    void closingTheGroupStopsEveryProcessWithSigterm(@TempDir Path dir) {
        ManagedProcess a;
        ManagedProcess b;
        try (ProcessGroup group = new ProcessGroup(dir)) {
            // Given two running processes
            a = group.start("a", SHELL, Map.of(), Readiness.logLine("started")).awaitReady(TIMEOUT);
            b = group.start("b", SHELL, Map.of(), Readiness.logLine("started")).awaitReady(TIMEOUT);
        }
        // Then closing the group ended both with SIGTERM
        assertFalse(a.isAlive());
        assertFalse(b.isAlive());
        assertEquals(Optional.of(ManagedProcess.SIGTERM_EXIT), a.exitValue());
        assertEquals(Optional.of(ManagedProcess.SIGTERM_EXIT), b.exitValue());
    }

    @Test
    void aGroupInTheSameDirectoryEndsWhatAKilledRunLeftRunning(@TempDir Path dir) {
        // Given a run whose JVM died without closing its group (as under SIGKILL), leaving a process running
        ProcessGroup abandoned = new ProcessGroup(dir);
        ManagedProcess leftover = abandoned
                .start("leftover", SHELL, Map.of(), Readiness.logLine("started"))
                .awaitReady(TIMEOUT);
        try {
            // When the next run opens a group in the same directory
            try (ProcessGroup next = new ProcessGroup(dir)) {
                // Then the leftover is ended
                Await.until("the leftover process to be ended", TIMEOUT, () -> !leftover.isAlive());
                assertEquals(Optional.of(ManagedProcess.SIGKILL_EXIT), leftover.exitValue());
            }
        } finally {
            abandoned.close();
        }
    }

    @Test
    void aProcessThatExitsBeforeItIsReadyFailsWithItsLog(@TempDir Path dir) {
        try (ProcessGroup group = new ProcessGroup(dir)) {
            // Given a process that fails at start-up
            ManagedProcess p = group.start(
                    "broken",
                    List.of("/bin/sh", "-c", "echo invalid configuration: X; exit 2"),
                    Map.of(),
                    Readiness.logLine("started"));

            // Then waiting for it fails at once, with its exit status and its output
            AssertionError e = assertThrows(AssertionError.class, () -> p.awaitReady(TIMEOUT));
            assertTrue(e.getMessage().contains("exited with 2"), e.getMessage());
            assertTrue(e.getMessage().contains("invalid configuration: X"), e.getMessage());
            assertTrue(Files.exists(p.logFile()));
        }
    }

    @Test
    void aFailureInsideTheGroupCarriesTheTailOfEveryLog(@TempDir Path dir) {
        try (ProcessGroup group = new ProcessGroup(dir)) {
            // Given a running process that logged something
            group.start("talker", SHELL, Map.of("WORD", "pineapple"), Readiness.logLine("started"))
                    .awaitReady(TIMEOUT);

            // When a step fails
            AssertionError e = assertThrows(
                    AssertionError.class,
                    () -> group.explainingFailures(() -> {
                        throw new AssertionError("the reply never came");
                    }));

            // Then the failure says what failed and shows the process's log
            assertTrue(e.getMessage().startsWith("the reply never came"), e.getMessage());
            assertTrue(e.getMessage().contains("===== talker"), e.getMessage());
            assertTrue(e.getMessage().contains("WORD=pineapple"), e.getMessage());
        }
    }
}
