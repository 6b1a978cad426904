package dev.thoughtstream.launcher;

import dev.thoughtstream.chunker.ChunkerFactory;
import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.logging.LogSettings;
import dev.thoughtstream.common.service.ServiceFactory;
import dev.thoughtstream.common.service.ServiceRunner;
import dev.thoughtstream.emitter.EmitterFactory;
import dev.thoughtstream.ingest.IngestFactory;
import dev.thoughtstream.llm.LlmProcessorFactory;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * The distribution's one entry point: {@code java -jar thoughtstream.jar <subcommand>}. Each service is a
 * subcommand, built by its module's factory and configured by environment variables (or {@code .env}); so is
 * devstack. {@code --help} lists the subcommands, {@code <subcommand> --help} the variables it reads.
 */
@Command(
        name = "thoughtstream",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = {
            "A Telegram chat bot backed by an LLM, as a Kafka pipeline.",
            "Every service is configured by environment variables (or a .env file); see README.md."
        },
        commandListHeading = "%nCommands:%n",
        footer = {"", "Exit codes: 0 stopped by a signal, 1 could not start or failed, 2 invalid configuration."})
public final class Thoughtstream implements Runnable {
    static {
        // First, before the factories below make Log4j read its configuration, with .env's values as the commands
        // will see them (a .env that cannot be read is reported by the command; the environment alone serves here).
        Map<String, String> variables;
        try {
            variables = Config.load().withPrefix("");
        } catch (ConfigException | UncheckedIOException e) {
            variables = System.getenv();
        }
        LogSettings.beforeLogging(variables);
    }

    /** The services, in the order the pipeline runs them. */
    static final List<ServiceFactory> SERVICES =
            List.of(new IngestFactory(), new ChunkerFactory(), new LlmProcessorFactory(), new EmitterFactory());

    /** One line per service for the command list. */
    private static final Map<String, String> SUMMARIES = Map.of(
            "ingest", "Telegram → tg.updates (long polling under a lease, or a webhook endpoint)",
            "chunker", "tg.updates → chat.thoughts: thoughts and each chat's context (Kafka Streams)",
            "llm-processor", "chat.thoughts → the model → chat.replies (scale it out: share group)",
            "emitter", "chat.replies → Telegram, typing like a person; outcomes to chat.delivered");

    @Spec
    private CommandSpec spec;

    private Thoughtstream() {}

    public static void main(String[] args) {
        int code = commandLine().execute(args);
        if (code != 0) {
            System.exit(code);
        }
    }

    /** The command line with every subcommand. */
    static CommandLine commandLine() {
        return commandLine(Config::load);
    }

    /** The command line whose commands read {@code config} (tests give theirs). */
    static CommandLine commandLine(Supplier<Config> config) {
        CommandLine cl = new CommandLine(new Thoughtstream());
        VariableDocs docs = VariableDocs.load();
        for (ServiceFactory factory : SERVICES) {
            CommandLine sub = new CommandLine(new ServiceCommand(factory, config));
            sub.getCommandSpec()
                    .usageMessage()
                    .description("Runs " + factory.name() + ": " + SUMMARIES.get(factory.name()) + ".")
                    .footer(docs.footer(VariableDocs.sectionsOf(factory.name())));
            cl.addSubcommand(factory.name(), sub);
        }
        CommandLine devstack = new CommandLine(new DevstackCommand(config));
        devstack.getCommandSpec().usageMessage().footer(docs.footer(VariableDocs.sectionsOf("devstack")));
        cl.addSubcommand("devstack", devstack);
        CommandLine emulator = new CommandLine(new EmulatorCommand(config));
        emulator.getCommandSpec().usageMessage().footer(docs.footer(VariableDocs.sectionsOf("emulator")));
        cl.addSubcommand("emulator", emulator);
        OpsCommands.register(cl, config, docs);
        // Config.load() itself refuses an unreadable .env line: that is invalid configuration too, not a crash.
        cl.setExecutionExceptionHandler((e, command, parsed) -> {
            if (e instanceof ConfigException invalid) {
                command.getErr().println("invalid configuration: " + invalid.getMessage());
                return ServiceRunner.EXIT_CONFIG;
            }
            throw e;
        });
        return cl;
    }

    /** Without a subcommand there is nothing to run: say so, with the usage. */
    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a command: which service should run?");
    }
}
