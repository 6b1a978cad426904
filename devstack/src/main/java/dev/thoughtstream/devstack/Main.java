package dev.thoughtstream.devstack;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigCheck;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.service.ServiceRunner;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one command that runs thoughtstream on a laptop ({@code thoughtstream devstack}). Ctrl-C stops it cleanly. */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) {
        int code = run(Config.load());
        if (code != 0) {
            System.exit(code);
        }
    }

    /**
     * Checks every variable of devstack and its services, then starts devstack, prints the ready line and waits until
     * a signal stops it. A bad variable stops it before anything starts, with every bad one named.
     *
     * @return the exit code: 2 invalid configuration, 1 could not start, 0 stopped by a signal
     */
    public static int run(Config config) {
        DevStackCheck.Outcome outcome = DevStackCheck.checkAll(config);
        outcome.typos()
                .forEach((name, known) -> System.err.println(
                        "warning: " + name + " is set but nothing reads it; did you mean " + known + "?"));
        ConfigCheck check = outcome.check();
        if (!check.passed()) {
            System.err.println(check.report());
            return ServiceRunner.EXIT_CONFIG;
        }
        DevStack stack;
        try {
            stack = DevStack.start(config);
        } catch (ConfigException e) {
            System.err.println("invalid configuration: " + e.getMessage());
            return ServiceRunner.EXIT_CONFIG;
        } catch (RuntimeException e) {
            LOG.error("devstack failed to start", e);
            return ServiceRunner.EXIT_FAILED;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(stack), "devstack-shutdown"));
        System.out.println(stack.readyLine());
        try {
            stack.awaitStopped();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /**
     * Ctrl-C's whole output: {@value #STOPPED_LINE} and how long it took, one line once everything has stopped
     * (services first, then the emulator, Redis and the broker); anything else printed meanwhile is a warning.
     */
    static void stop(DevStack stack) {
        long started = System.nanoTime();
        QuietStop.hideLifecycleLines();
        stack.close();
        System.out.println(STOPPED_LINE + " in " + (System.nanoTime() - started) / 1_000_000 + " ms");
    }

    /** How the one line a stop prints begins. */
    public static final String STOPPED_LINE = "thoughtstream stopped";
}
