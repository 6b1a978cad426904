package dev.thoughtstream.launcher;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.service.ServiceFactory;
import dev.thoughtstream.common.service.ServiceRunner;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;

/** Runs one service in this process until a signal stops it (the container's command). */
@Command(mixinStandardHelpOptions = true, versionProvider = Version.class)
final class ServiceCommand implements Callable<Integer> {
    private final ServiceFactory factory;
    private final Supplier<Config> config;

    ServiceCommand(ServiceFactory factory, Supplier<Config> config) {
        this.factory = factory;
        this.config = config;
    }

    @Override
    public Integer call() {
        return ServiceRunner.run(factory, config.get());
    }
}
