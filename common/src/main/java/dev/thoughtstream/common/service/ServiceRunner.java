package dev.thoughtstream.common.service;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigCheck;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.logging.LogSettings;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What running one service as its own process means, for the launcher's subcommands and the modules' {@code Main}s
 * alike: check the configuration, build the shared {@link Infra} and the service from its factory, serve
 * {@code /metrics} and {@code /health/live|ready} on {@code HTTP_PORT} (default 8080, 0 = off), stop cleanly on
 * SIGTERM / Ctrl-C, and wait.
 *
 * <p>Exit codes: 2 invalid configuration (the message names every bad variable), 1 the service could not start or failed
 * on its own (a supervisor restarts it), 0 stopped by a signal.
 */
public final class ServiceRunner {
    private static final Logger LOG = LoggerFactory.getLogger(ServiceRunner.class);
    public static final int EXIT_CONFIG = 2;
    public static final int EXIT_FAILED = 1;

    private ServiceRunner() {}

    /** A module's {@code main}: runs the service with the process's configuration and exits with its code. */
    public static void main(ServiceFactory factory) {
        int code = run(factory, Config.load());
        if (code != 0) {
            System.exit(code);
        }
    }

    /**
     * Every variable the service reads, checked before anything starts: the logging, the shared settings and the
     * service's own; all the bad ones are reported together.
     */
    public static ConfigCheck check(ServiceFactory factory, Config config) {
        return ConfigCheck.of(config)
                .check(LogSettings::from)
                .check(c -> Infra.Settings.from(c, factory.usesRedis()))
                .check(factory::validate);
    }

    /**
     * Runs the service until a signal stops it or it fails.
     *
     * @return the exit code (see the class comment); 0 after a signal, while the shutdown hook is still closing
     */
    public static int run(ServiceFactory factory, Config config) {
        String name = factory.name();
        ConfigCheck check = check(factory, config);
        if (!check.passed()) {
            LOG.error("{}", check.report());
            return EXIT_CONFIG;
        }
        Infra.Settings shared = Infra.Settings.from(config, factory.usesRedis());
        shared.logFormat().use();
        Infra infra = Infra.create(shared);
        Service service;
        try {
            if (shared.httpPort() > 0) {
                infra.serveHttp(shared.httpPort());
            }
            service = factory.create(config, infra);
            infra.readiness(name, service::isReady);
            try {
                service.start();
            } catch (RuntimeException e) {
                service.close();
                throw e;
            }
        } catch (ConfigException e) {
            infra.close();
            LOG.error("invalid configuration: {}", e.getMessage());
            return EXIT_CONFIG;
        } catch (RuntimeException e) {
            infra.close();
            LOG.error("{} could not start: {}", name, e.getMessage(), e);
            return EXIT_FAILED;
        }
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            service.close();
                            infra.close();
                        },
                        name + "-shutdown"));
        LOG.info("{} running", name);
        try {
            service.awaitTermination();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
        Optional<Throwable> failure = service.failure();
        if (failure.isPresent()) {
            LOG.error("{} failed; exiting so that a supervisor restarts it", name, failure.get());
            return EXIT_FAILED;
        }
        return 0;
    }
}
