package dev.thoughtstream.devstack;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one command that runs thoughtstream on a laptop. Ctrl-C stops it cleanly. */
public final class Main {
    private static final Logger LOG = LoggerFactory.getLogger(Main.class);

    private Main() {}

    public static void main(String[] args) throws InterruptedException {
        DevStack stack;
        try {
            stack = DevStack.start(Config.load());
        } catch (ConfigException e) {
            System.err.println("invalid configuration: " + e.getMessage());
            System.exit(2);
            return;
        } catch (RuntimeException e) {
            LOG.error("devstack failed to start", e);
            System.exit(1);
            return;
        }
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            System.out.println("thoughtstream stopping...");
            stack.close();
            System.out.println("thoughtstream stopped");
        }, "devstack-shutdown"));
        System.out.println(stack.readyLine());
        stack.awaitStopped();
    }
}
