package dev.thoughtstream.launcher;

import dev.thoughtstream.common.config.Config;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;

/** devstack: the whole pipeline in this JVM, with a broker, Redis and the Telegram emulator when none is given. */
@Command(
        name = "devstack",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = {
            "Runs the whole pipeline in one JVM for a laptop.",
            "An embedded Kafka broker, redis-server, the Telegram emulator with its web chat and the four "
                    + "services. Whatever the variables name (a broker, Redis, a bot token, a model) is used "
                    + "instead of the local stand-in. Ctrl-C stops it."
        })
final class DevstackCommand implements Callable<Integer> {
    private final Supplier<Config> config;

    DevstackCommand(Supplier<Config> config) {
        this.config = config;
    }

    @Override
    public Integer call() {
        return dev.thoughtstream.devstack.Main.run(config.get());
    }
}
