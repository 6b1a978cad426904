package dev.thoughtstream.launcher;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.service.ServiceRunner;
import dev.thoughtstream.devstack.DevStack;
import dev.thoughtstream.testkit.telegram.TelegramEmulator;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;

/**
 * The Telegram Bot API emulator with its web chat as a process of its own: the offline stand-in for Telegram
 * when the services run as separate processes or containers ({@code TG_API_URL} names it). Runs until a signal.
 */
@Command(
        name = "emulator",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = {
            "Runs the Telegram Bot API emulator and its web chat (offline Telegram for the services).",
            "Point the services' TG_API_URL at it and give them the same TG_BOT_TOKEN. The web chat is at /, "
                    + "the control API under /emulator/. Ctrl-C stops it."
        })
final class EmulatorCommand implements Callable<Integer> {
    private static final Logger LOG = LoggerFactory.getLogger(EmulatorCommand.class);

    /** The start of the line printed once the emulator serves; its base URL follows. */
    static final String READY_PREFIX = "thoughtstream emulator ready on ";

    static final String PORT = "EMULATOR_PORT";
    static final String BIND_ADDRESS = "EMULATOR_BIND_ADDRESS";
    /** Where the chats are kept across restarts; unset keeps them in memory only. */
    static final String STATE_DIR = "EMULATOR_STATE_DIR";
    /**
     * Every interface by default, like the services' HTTP endpoints: in a container the other services and the
     * published port reach it through the container's network interface, not its loopback.
     */
    static final String DEFAULT_BIND_ADDRESS = "0.0.0.0";

    /** What the emulator reads: its port and address, the one token it accepts and where it keeps its chats. */
    record Settings(int port, InetAddress bindAddress, Secret token, Optional<Path> stateDir) {
        static Settings from(Config config) {
            int port = config.integer(PORT, TelegramEmulator.DEFAULT_DEVSTACK_PORT, 0, 65535);
            String address = config.string(BIND_ADDRESS, DEFAULT_BIND_ADDRESS);
            InetAddress bind;
            try {
                // A literal address is parsed without a lookup; a name is resolved once, here.
                bind = InetAddress.getByName(address);
            } catch (UnknownHostException e) {
                throw new ConfigException(
                        BIND_ADDRESS, "expected an IP address or a resolvable name but was '" + address + "'");
            }
            Secret token = config.optionalSecret(TelegramSettings.TOKEN).orElse(new Secret(DevStack.OFFLINE_TOKEN));
            if (token.reveal().contains("/")) {
                // The token is a path segment of every Bot API URL (/bot<token>/method).
                throw new ConfigException(TelegramSettings.TOKEN, "must not contain '/'");
            }
            Optional<Path> stateDir = config.optional(STATE_DIR)
                    .filter(s -> !s.isBlank())
                    .map(s -> {
                        try {
                            return Path.of(s);
                        } catch (InvalidPathException e) {
                            throw new ConfigException(STATE_DIR, "is not a path: " + e.getMessage());
                        }
                    });
            return new Settings(port, bind, token, stateDir);
        }
    }

    @Override
    public Integer call() {
        return run(Config.load());
    }

    static int run(Config config) {
        Settings settings;
        try {
            settings = Settings.from(config);
        } catch (ConfigException e) {
            LOG.error("invalid configuration: {}", e.getMessage());
            return ServiceRunner.EXIT_CONFIG;
        }
        TelegramEmulator emulator;
        try {
            // A pipeline keeps its state, so ids must not repeat after a restart, kept chats or not.
            emulator = TelegramEmulator.builder()
                    .port(settings.port())
                    .bindAddress(settings.bindAddress())
                    .botToken(settings.token().reveal())
                    .stateDirectory(settings.stateDir().orElse(null))
                    .idsAbovePreviousRuns(Clock.systemUTC())
                    .build()
                    .start();
        } catch (UncheckedIOException | IllegalStateException e) {
            LOG.error("the emulator could not start: {}", e.getMessage(), e);
            return ServiceRunner.EXIT_FAILED;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime()
                .addShutdownHook(new Thread(
                        () -> {
                            try {
                                emulator.close();
                            } finally {
                                stopped.countDown();
                            }
                        },
                        "emulator-shutdown"));
        System.out.println(READY_PREFIX + "http://" + settings.bindAddress().getHostAddress() + ":" + emulator.port()
                + " (web chat at /, Bot API under /bot<token>/, control API under /emulator/)");
        System.out.flush();
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }
}
