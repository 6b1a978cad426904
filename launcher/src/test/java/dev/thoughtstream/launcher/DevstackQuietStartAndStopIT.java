package dev.thoughtstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.devstack.Main;
import dev.thoughtstream.testkit.Await;
import dev.thoughtstream.testkit.process.ManagedProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A newcomer's first run, as they would do it: {@code java -jar thoughtstream.jar devstack} on a fresh data
 * directory, the ready line, one message through the web chat's emulator, then Ctrl-C. A clean start prints
 * nothing at WARN or above and no stack trace; a clean stop prints one line, {@value Main#STOPPED_LINE} and how long
 * it took; and a restart on the same data directory is as quiet.
 *
 * <p>Ctrl-C is SIGINT ({@code kill -INT}), not {@link Process#destroy()}'s SIGTERM. A terminal sends it to the whole
 * foreground process group: the JVM is started as a group leader ({@code setsid}) so that the second test can
 * signal its group as a terminal would without signalling this test's JVM, and with SIGINT's default action
 * ({@code env --default-signal=INT}), since a JVM that inherits SIGINT ignored (a background job of a
 * non-interactive shell) never sees it.
 */
class DevstackQuietStartAndStopIT {
    /** Generous: a cold devstack took 15 to 55 s here on two cores shared with other builds. */
    private static final Duration START_TIMEOUT = Duration.ofSeconds(180);

    private static final Duration REPLY_TIMEOUT = Duration.ofSeconds(120);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(90);
    private static final String READY_PREFIX = "thoughtstream ready";
    /** The text layout of log4j2.xml: time, level, thread. */
    private static final Pattern WARN_OR_WORSE = Pattern.compile("^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} (WARN|ERROR|FATAL) ");

    private static final Pattern STACK_TRACE_LINE =
            Pattern.compile("^(\\s+at \\S|\\s*Caused by: |\\s+\\.\\.\\. \\d+ more|[\\w.$]+(Exception|Error)(: |$))");
    private static final Pattern WEB_CHAT = Pattern.compile("web chat http://localhost:(\\d+)/");

    private final List<Devstack> started = new ArrayList<>();

    @AfterEach
    void killWhatIsStillRunning() {
        // redis-server runs in a session of its own: killing the JVM alone would leave it behind.
        for (Devstack devstack : started) {
            devstack.killEverything();
        }
    }

    @Test
    void aFreshStartAndARestartAreQuietAndEachCtrlCPrintsOneLine() throws Exception {
        // given a fresh data directory
        Path data = freshDirectory("quiet-restart");

        for (String run : List.of("first start", "restart on the same data directory")) {
            // when devstack starts, a person writes and the bot answers, and Ctrl-C stops it
            Devstack devstack = start(data, run);
            devstack.awaitReady();
            devstack.converse("Hello, is anyone there? (" + run + ")");
            devstack.sigint(false);
            devstack.awaitExit();

            // then starting and running printed nothing at WARN or above, and no stack trace
            devstack.assertQuietUntilStopped();
            // and the stop printed one line
            devstack.assertOneStopLine();
        }
    }

    @Test
    void ctrlCToTheWholeProcessGroupStopsTheServicesBeforeRedis() throws Exception {
        // given devstack leading its own process group, as a shell's foreground job
        Devstack devstack = start(freshDirectory("quiet-group"), "group");
        devstack.awaitReady();
        ProcessHandle redis = devstack.redisServer();
        // and its redis-server outside that group, where a terminal's Ctrl-C does not reach
        assertEquals(devstack.pid(), processGroup(devstack.pid()), "devstack leads its group");
        assertNotEquals(processGroup(devstack.pid()), processGroup(redis.pid()), "redis-server has a group of its own");

        // when SIGINT goes to the whole group, as a terminal's Ctrl-C does
        devstack.sigint(true);
        devstack.awaitExit();

        // then the services stopped while Redis was still there: no connection reset, no lost lease or subscription,
        // nothing but the one stop line
        devstack.assertQuietUntilStopped();
        devstack.assertOneStopLine();
        // and redis-server was stopped after them, not left behind
        Await.until("redis-server pid " + redis.pid() + " to be gone", Duration.ofSeconds(10), () -> !redis.isAlive());
    }

    private Devstack start(Path data, String run) throws IOException {
        Path jar = Path.of(System.getProperty("thoughtstream.dist.dir", "target/thoughtstream"), "thoughtstream.jar")
                .toAbsolutePath();
        assertTrue(Files.isRegularFile(jar), jar + " is built (mvn package)");
        Devstack devstack = Devstack.start(jar, data, run.replace(' ', '-'));
        started.add(devstack);
        return devstack;
    }

    private static Path freshDirectory(String name) throws IOException {
        // Not under the system's temporary directory, as a clone would not be.
        Path dir = Path.of(System.getProperty("thoughtstream.process.dir", "target/process-it"), name)
                .toAbsolutePath();
        if (Files.exists(dir)) {
            try (Stream<Path> walk = Files.walk(dir)) {
                for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                    Files.delete(p);
                }
            }
        }
        Files.createDirectories(dir);
        return dir;
    }

    /** The fifth field of /proc/<pid>/stat (after the parenthesised command, which may hold spaces). */
    private static long processGroup(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return Long.parseLong(fields[2]);
    }

    /** One {@code thoughtstream.jar devstack} process, its standard output and error each in a file. */
    private static final class Devstack {
        private final Process process;
        private final Path out;
        private final Path err;
        private final String name;
        private final List<ProcessHandle> descendants = new ArrayList<>();
        private int outLinesBeforeStop = -1;
        private int errLinesBeforeStop = -1;

        private Devstack(Process process, Path out, Path err, String name) {
            this.process = process;
            this.out = out;
            this.err = err;
            this.name = name;
        }

        static Devstack start(Path jar, Path data, String name) throws IOException {
            Path out = data.resolve(name + ".out");
            Path err = data.resolve(name + ".err");
            ProcessBuilder builder = new ProcessBuilder(
                            "env",
                            "--default-signal=INT",
                            "setsid",
                            ManagedProcess.javaExecutable(),
                            "-jar",
                            jar.toString(),
                            "devstack")
                    .directory(data.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .redirectOutput(out.toFile())
                    .redirectError(err.toFile());
            // A newcomer's shell: none of this machine's THOUGHTSTREAM settings, any free ports, the data directory.
            builder.environment().clear();
            builder.environment().put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
            builder.environment().put("HOME", System.getProperty("user.home"));
            builder.environment()
                    .put("DEVSTACK_DATA_DIR", data.resolve("devstack-data").toString());
            builder.environment().put("DEVSTACK_KAFKA_PORT", "0");
            builder.environment().put("EMULATOR_PORT", "0");
            // Two may run at once here; the endpoint's default port would be taken by the first.
            builder.environment().put("HTTP_PORT", "0");
            return new Devstack(builder.start(), out, err, name);
        }

        long pid() {
            return process.pid();
        }

        void awaitReady() {
            Await.until(name + ": a line starting with '" + READY_PREFIX + "' (" + out + ")", START_TIMEOUT, () -> {
                if (!process.isAlive()) {
                    throw new AssertionError(name + " exited with " + process.exitValue() + " before it was ready:\n"
                            + String.join("\n", lines(out)) + "\n" + String.join("\n", lines(err)));
                }
                return readyLine().isPresent();
            });
            process.descendants().forEach(descendants::add);
        }

        private Optional<String> readyLine() {
            return lines(out).stream().filter(l -> l.startsWith(READY_PREFIX)).findFirst();
        }

        /** A person writes through the emulator's control API and the bot answers with all its bubbles. */
        void converse(String text) {
            Matcher webChat = WEB_CHAT.matcher(readyLine().orElseThrow());
            assertTrue(
                    webChat.find(),
                    "the ready line names the web chat: " + readyLine().orElseThrow());
            EmulatorControl emulator = new EmulatorControl(
                    HttpClient.newBuilder()
                            .connectTimeout(Duration.ofSeconds(2))
                            .build(),
                    URI.create("http://127.0.0.1:" + webChat.group(1)));
            long chat = 4243;
            int messageId = emulator.send(chat, text);
            int bubbles = EmulatorControl.scriptedBubbles(text).size();
            Await.until(
                    name + ": the bot's " + bubbles + " bubble(s) answering '" + text + "'",
                    REPLY_TIMEOUT,
                    () -> emulator.botMessagesAfter(chat, messageId).size() >= bubbles);
        }

        /** The redis-server devstack started: a child of its JVM. */
        ProcessHandle redisServer() {
            return process.children()
                    // Debian's redis-server is a link to redis-check-rdb, the name /proc/<pid>/exe gives.
                    .filter(p -> p.info().command().orElse("").contains("redis"))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError(name + " has no redis-server child"));
        }

        /** Ctrl-C: SIGINT to the JVM or, as a terminal does, to its whole process group. */
        void sigint(boolean wholeGroup) throws IOException, InterruptedException {
            outLinesBeforeStop = lines(out).size();
            errLinesBeforeStop = lines(err).size();
            String target = wholeGroup ? "-" + process.pid() : Long.toString(process.pid());
            Process kill = new ProcessBuilder("kill", "-INT", "--", target)
                    .redirectErrorStream(true)
                    .start();
            assertTrue(kill.waitFor(10, TimeUnit.SECONDS), "kill returned");
            assertEquals(0, kill.exitValue(), "kill -INT -- " + target);
        }

        void awaitExit() throws InterruptedException {
            assertTrue(
                    process.waitFor(STOP_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS),
                    name + " stopped within " + STOP_TIMEOUT + ":\n" + String.join("\n", lines(out)));
            // The status a shell reports for a process that Ctrl-C ended (128 + SIGINT's 2), as the JVM exits
            // after running its shutdown hooks for the signal.
            assertEquals(130, process.exitValue(), name + "'s exit status");
        }

        void assertQuietUntilStopped() {
            List<String> before = new ArrayList<>(lines(out).subList(0, outLinesBeforeStop));
            assertTrue(before.stream().anyMatch(l -> l.startsWith(READY_PREFIX)), name + " printed the ready line");
            List<String> loud = before.stream()
                    .filter(l -> WARN_OR_WORSE.matcher(l).find()
                            || STACK_TRACE_LINE.matcher(l).find())
                    .toList();
            assertEquals(List.of(), loud, name + ": lines at WARN or above, or of a stack trace, before the stop");
            assertEquals(
                    List.of(), lines(err).subList(0, errLinesBeforeStop), name + ": standard error before the stop");
        }

        void assertOneStopLine() {
            List<String> outAfter =
                    lines(out).subList(outLinesBeforeStop, lines(out).size());
            List<String> errAfter =
                    lines(err).subList(errLinesBeforeStop, lines(err).size());
            assertEquals(List.of(), errAfter, name + ": standard error after Ctrl-C");
            assertEquals(1, outAfter.size(), name + ": what Ctrl-C printed: " + String.join("\n", outAfter));
            assertTrue(
                    outAfter.get(0).matches(Pattern.quote(Main.STOPPED_LINE) + " in \\d+ ms"),
                    name + ": the stop line: " + outAfter.get(0));
        }

        void killEverything() {
            if (process.isAlive()) {
                process.descendants().forEach(descendants::add);
                process.destroyForcibly();
            }
            descendants.forEach(ProcessHandle::destroyForcibly);
        }

        private static List<String> lines(Path file) {
            try {
                return Files.readAllLines(file, StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }
}
