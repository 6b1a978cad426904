package dev.thoughtstream.testkit.redis;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;

class RedisServerTest {

    @TempDir
    Path workDir;

    @Test
    void theRedisServerBinaryIsFoundOnThisMachine() {
        // Without it every Redis test here fails with the install hint instead of being skipped.
        Path executable = RedisServer.findExecutable().orElseThrow(() -> new AssertionError(RedisServer.INSTALL_HINT));
        assertTrue(Files.isExecutable(executable), executable.toString());
    }

    @Test
    void aStartedServerAnswersOnItsUrlWithoutPersistenceAndIsGoneAfterClose() throws Exception {
        // given a server on a free port
        RedisServer server = RedisServer.start(0);
        Path dir = server.workDir();
        try (RedisClient client =
                RedisClient.create(server.url().getHost(), server.url().getPort())) {
            // then it answers PING on 127.0.0.1 at the port it reports
            assertEquals("redis://127.0.0.1:" + server.port(), server.url().toString());
            assertEquals("PONG", client.ping());
            client.set("k", "v");
            assertEquals("v", client.get("k"));
            // and keeps nothing on disk
            assertEquals(Map.of("save", ""), client.configGet("save"));
            assertEquals(Map.of("appendonly", "no"), client.configGet("appendonly"));
        } finally {
            // when closed
            server.close();
        }

        // then nothing listens on the port any more and its temporary work directory is gone
        assertThrows(ConnectException.class, () -> connect(server.port()));
        assertFalse(Files.exists(dir), dir + " deleted");
        server.close(); // idempotent
    }

    @Test
    void theServerRunsInAProcessGroupOfItsOwnSoATerminalsCtrlCReachesOnlyTheJvm() throws Exception {
        // This machine kind (Linux) has setsid; without it the server would share the JVM's group.
        assertTrue(RedisServer.findSetsid().isPresent(), "setsid (util-linux) is installed");
        long jvmGroup = processGroup(ProcessHandle.current().pid());

        try (RedisServer server = RedisServer.start(workDir, 0)) {
            // then the server answering on the port is the process started (setsid exec'd it in place)
            assertEquals(server.pid(), RedisServer.serverPid(server.port()));
            // and it leads a group of its own, which a signal to the JVM's group does not reach
            assertEquals(server.pid(), processGroup(server.pid()));
            assertTrue(processGroup(server.pid()) != jvmGroup, "not in the JVM's group " + jvmGroup);
        }
    }

    @Test
    void aServerLeftRunningInTheWorkDirByAnEarlierRunIsStoppedByTheNextStart() throws Exception {
        // given a server that outlived its JVM (here: one never closed), its pid file in the work directory
        RedisServer leftover = RedisServer.start(workDir, 0);
        ProcessHandle leftoverProcess = ProcessHandle.of(leftover.pid()).orElseThrow();
        assertEquals(
                Long.toString(leftover.pid()),
                Files.readString(workDir.resolve(RedisServer.PID_FILE)).strip());

        // when the next run starts a server in the same work directory
        try (RedisServer next = RedisServer.start(workDir, 0)) {
            // then the leftover is gone and the new one answers
            assertFalse(leftoverProcess.isAlive(), "the leftover redis-server pid " + leftover.pid() + " was stopped");
            assertTrue(RedisServer.ping(next.port()));
        } finally {
            leftover.close();
        }
    }

    /** The fifth field of /proc/<pid>/stat (after the parenthesised command, which may hold spaces). */
    private static long processGroup(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[2]);
    }

    @Test
    void aServerStartsOnAGivenPortAndWorkDirWhichCloseKeeps() throws Exception {
        int port = freePort();

        try (RedisServer server = RedisServer.start(workDir, port)) {
            assertEquals(port, server.port());
            assertTrue(RedisServer.ping(port));
        }

        assertTrue(Files.isRegularFile(workDir.resolve(RedisServer.LOG_FILE)), "the log stays in the work dir");
    }

    @Test
    void aTakenPortFailsTheStartWithAClearMessage() throws Exception {
        try (ServerSocket squatter = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            IllegalStateException failure = assertThrows(
                    IllegalStateException.class, () -> RedisServer.start(workDir, squatter.getLocalPort()));

            assertTrue(failure.getMessage().contains("127.0.0.1:" + squatter.getLocalPort()), failure.getMessage());
            assertTrue(failure.getMessage().contains("in use"), failure.getMessage());
        }
    }

    @Test
    void theInstallHintSaysHowToGetRedis() {
        assertTrue(RedisServer.INSTALL_HINT.contains("apt-get install redis-server"));
        assertTrue(RedisServer.INSTALL_HINT.contains("REDIS_URL"));
    }

    private static void connect(int port) throws IOException {
        try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
            socket.getOutputStream().write('x');
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
