package dev.thoughtstream.launcher;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigCheck;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.Secret;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.logging.LogSettings;
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
import java.util.function.Supplier;
import java.util.regex.Pattern;
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
    record Settings(int port, String bindAddress, Secret token, Optional<Path> stateDir) {
        /** A host name (RFC 1123) or an IPv4 address; an IPv6 address has colons and is parsed as one. */
        private static final Pattern HOST_NAME = Pattern.compile(
                "[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");

        /** Checks the form of every value, looking nothing up: a name is resolved when the emulator starts. */
        static Settings from(Config config) {
            int port = config.integer(PORT, TelegramEmulator.DEFAULT_DEVSTACK_PORT, 0, 65535);
            String address = config.string(BIND_ADDRESS, DEFAULT_BIND_ADDRESS);
            if (!(address.contains(":")
                    ? isIpv6Literal(address)
                    : HOST_NAME.matcher(address).matches())) {
                throw new ConfigException(
                        BIND_ADDRESS, "expected an IP address or a host name but was '" + address + "'");
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
            return new Settings(port, address, token, stateDir);
        }

        /** The address to bind, a name resolved once, here. */
        InetAddress resolvedBindAddress() {
            try {
                return InetAddress.getByName(bindAddress);
            } catch (UnknownHostException e) {
                throw new ConfigException(BIND_ADDRESS, "cannot resolve '" + bindAddress + "': " + e.getMessage());
            }
        }

        private static boolean isIpv6Literal(String address) {
            try {
                // With a colon the JDK parses an IPv6 literal and never asks a name server.
                InetAddress.getByName(address);
                return true;
            } catch (UnknownHostException e) {
                return false;
            }
        }
    }

    private final Supplier<Config> config;

    EmulatorCommand(Supplier<Config> config) {
        this.config = config;
    }

    @Override
    public Integer call() {
        return run(config.get());
    }

    static int run(Config config) {
        ConfigCheck check = ConfigCheck.of(config).check(LogSettings::from).check(Settings::from);
        if (!check.passed()) {
            LOG.error("{}", check.report());
            return ServiceRunner.EXIT_CONFIG;
        }
        Settings settings = Settings.from(config);
        InetAddress bindAddress;
        try {
            bindAddress = settings.resolvedBindAddress();
        } catch (ConfigException e) {
            LOG.error("invalid configuration: {}", e.getMessage());
            return ServiceRunner.EXIT_CONFIG;
        }
        TelegramEmulator emulator;
        try {
            // A pipeline keeps its state, so ids must not repeat after a restart, kept chats or not.
            emulator = TelegramEmulator.builder()
                    .port(settings.port())
                    .bindAddress(bindAddress)
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
        System.out.println(READY_PREFIX + "http://" + bindAddress.getHostAddress() + ":" + emulator.port()
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
