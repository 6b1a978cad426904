package dev.thoughtstream.common.service;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.metrics.HttpEndpoints;
import dev.thoughtstream.common.metrics.Metrics;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every service's {@code main} does: read the configuration, build and start the service, serve
 * {@code /metrics} and {@code /health/live|ready} on {@code HTTP_PORT} (default 8080, 0 = off), stop it on
 * SIGTERM / Ctrl-C, and wait. Exit codes: 2 invalid configuration (the message names the variable), 1 the
 * service could not start or failed on its own (a supervisor restarts it), 0 stopped by a signal.
 */
public final class ServiceLauncher {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceLauncher.class);

    /** A started service as the launcher sees it. */
    public interface Running {
        /** Blocks until the service has stopped, by {@link #stop()} or by failing. */
        void awaitTermination() throws InterruptedException;

        /** Why the service stopped on its own, if it did. */
        Optional<Throwable> failure();

        /** Stops the service and releases everything it holds; called once, from the shutdown hook. */
        void stop();

        /** Readiness for {@code /health/ready}: false while the service cannot do its work. */
        default boolean ready() {
            return true;
        }
    }

    /** Builds and starts a service; on failure it releases what it created and throws. */
    @FunctionalInterface
    public interface Starter {
        Running start(Config config, Metrics metrics);
    }

    private ServiceLauncher() {}

    public static void run(String name, Starter starter) {
        run(name, Config::load, starter);
    }

    static void run(String name, Supplier<Config> configuration, Starter starter) {
        Running running;
        HttpEndpoints endpoints = null;
        try {
            Config config = configuration.get();
            int httpPort = config.integer("HTTP_PORT", 8080, 0, 65535);
            Metrics metrics = new Metrics();
            running = starter.start(config, metrics);
            if (httpPort > 0) {
                try {
                    endpoints = HttpEndpoints.start(httpPort, metrics).check(name, running::ready);
                } catch (RuntimeException e) {
                    running.stop();
                    throw e;
                }
            }
        } catch (ConfigException e) {
            LOG.error("invalid configuration: {}", e.getMessage());
            System.exit(2);
            return;
        } catch (RuntimeException e) {
            LOG.error("{} could not start: {}", name, e.getMessage(), e);
            System.exit(1);
            return;
        }
        HttpEndpoints served = endpoints;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            running.stop();
            if (served != null) {
                served.close();
            }
        }, name + "-shutdown"));
        LOG.info("{} running", name);
        try {
            running.awaitTermination();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        Optional<Throwable> failure = running.failure();
        if (failure.isPresent()) {
            LOG.error("{} failed; exiting so that a supervisor restarts it", name, failure.get());
            System.exit(1);
        }
    }

    /** A {@link Running} from its parts; always ready while it runs. */
    public static Running running(Awaiter await, Supplier<Optional<Throwable>> failure, Runnable stop) {
        return running(await, failure, stop, () -> true);
    }

    /** A {@link Running} from its parts. */
    public static Running running(Awaiter await, Supplier<Optional<Throwable>> failure, Runnable stop,
            java.util.function.BooleanSupplier ready) {
        return new Running() {
            @Override
            public boolean ready() {
                return ready.getAsBoolean();
            }

            @Override
            public void awaitTermination() throws InterruptedException {
                await.await();
            }

            @Override
            public Optional<Throwable> failure() {
                return failure.get();
            }

            @Override
            public void stop() {
                stop.run();
            }
        };
    }

    /** {@code awaitTermination} of a service. */
    @FunctionalInterface
    public interface Awaiter {
        void await() throws InterruptedException;
    }
}
