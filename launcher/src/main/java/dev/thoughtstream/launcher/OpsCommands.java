package dev.thoughtstream.launcher;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigCheck;
import dev.thoughtstream.common.logging.LogSettings;
import dev.thoughtstream.ops.OpsException;
import dev.thoughtstream.ops.OpsSettings;
import dev.thoughtstream.ops.Text;
import dev.thoughtstream.ops.dlq.DeadLetter;
import dev.thoughtstream.ops.dlq.DeadLetterQueue;
import dev.thoughtstream.ops.lag.LagInspector;
import dev.thoughtstream.ops.trace.ChatTrace;
import dev.thoughtstream.ops.trace.Timeline;
import java.io.PrintWriter;
import java.time.Clock;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.common.KafkaException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The operators' commands: {@code lag}, {@code dlq}, {@code trace} and {@code replay}. Each reads the services' variables, so it runs
 * with a service's environment against any broker; the work is done in the ops module, these classes only parse the
 * command line and print.
 */
final class OpsCommands {
    /** Exit code of a command that could not do its work (the broker refused, no such record). */
    static final int EXIT_FAILED = 1;
    /** Exit code of invalid configuration, as the services use it. */
    static final int EXIT_CONFIG = 2;

    private OpsCommands() {}

    /** Adds the commands to {@code cl}; they read their configuration from {@code config} when they run. */
    static void register(CommandLine cl, Supplier<Config> config, VariableDocs docs) {
        String footer = docs.footer(VariableDocs.sectionsOf("ops"));
        CommandLine lag = new CommandLine(new Lag(config));
        CommandLine dlq = new CommandLine(new Dlq());
        dlq.addSubcommand("list", new CommandLine(new DlqList(config)));
        dlq.addSubcommand("show", new CommandLine(new DlqShow(config)));
        dlq.addSubcommand("redrive", new CommandLine(new DlqRedrive(config)));
        CommandLine trace = new CommandLine(new Trace(config));
        CommandLine replay = new CommandLine(new ReplayCommand(config));
        for (CommandLine c : new CommandLine[] {lag, dlq, trace, replay}) {
            c.getCommandSpec().usageMessage().footer(footer);
        }
        dlq.getSubcommands()
                .values()
                .forEach(c -> c.getCommandSpec().usageMessage().footer(footer));
        cl.addSubcommand("lag", lag);
        cl.addSubcommand("dlq", dlq);
        cl.addSubcommand("trace", trace);
        // replay also builds the llm-processor's model: its variables apply, under the command line's overrides.
        replay.getCommandSpec()
                .usageMessage()
                .footer(docs.footer(List.of("Every service", "Operator commands", "llm-processor")));
        cl.addSubcommand("replay", replay);
        // reprocess also clears the chunker's local state: STREAMS_STATE_DIR, from the chunker's section.
        CommandLine reprocess = new CommandLine(new ReprocessCommand(config));
        reprocess
                .getCommandSpec()
                .usageMessage()
                .footer(docs.footer(List.of("Every service", "Operator commands", "chunker")));
        cl.addSubcommand("reprocess", reprocess);
    }

    /** What every command shares: --json, the configuration, and how a failure becomes an exit code. */
    abstract static class OpsCommand implements Callable<Integer> {
        private final Supplier<Config> config;

        @Spec
        CommandSpec spec;

        @Option(names = "--json", description = "Print JSON instead of text.")
        boolean json;

        OpsCommand(Supplier<Config> config) {
            this.config = config;
        }

        @Override
        public final Integer call() {
            Config given = config.get();
            ConfigCheck check = ConfigCheck.of(given).check(LogSettings::from).check(OpsSettings::from);
            if (!check.passed()) {
                err().println(check.report());
                return EXIT_CONFIG;
            }
            OpsSettings settings = OpsSettings.from(given);
            try {
                run(settings, out());
                out().flush();
                return 0;
            } catch (OpsException e) {
                err().println(spec.qualifiedName() + ": " + e.getMessage());
                return EXIT_FAILED;
            } catch (KafkaException e) {
                // The clients' own failures (a broker out of reach, refused credentials): the operator's to fix.
                err().println(spec.qualifiedName() + ": " + e.getClass().getSimpleName() + ": " + e.getMessage());
                return EXIT_FAILED;
            }
        }

        abstract void run(OpsSettings settings, PrintWriter out);

        /** The configuration the command runs with (for a command that also reads a stage's variables). */
        Config config() {
            return config.get();
        }

        PrintWriter out() {
            return spec.commandLine().getOut();
        }

        PrintWriter err() {
            return spec.commandLine().getErr();
        }

        void print(Object value, String text) {
            out().print(json ? Text.json(value) + "\n" : text);
        }
    }

    @Command(
            name = "lag",
            mixinStandardHelpOptions = true,
            versionProvider = Version.class,
            description = {
                "Shows each stage's backlog: per group and input topic, the records not yet processed (total and the "
                        + "largest partition) and the age of the oldest of them.",
                "Groups: the chunker's Streams application (CHUNKER_APPLICATION_ID), llm-processor's share or consumer "
                        + "group (LLM_GROUP_ID) and the emitter's group (EMITTER_GROUP_ID)."
            })
    static final class Lag extends OpsCommand {
        Lag(Supplier<Config> config) {
            super(config);
        }

        @Override
        void run(OpsSettings settings, PrintWriter out) {
            try (LagInspector inspector = new LagInspector(settings, Clock.systemUTC())) {
                var report = inspector.inspect();
                print(report, LagInspector.text(report));
            }
        }
    }

    @Command(
            name = "dlq",
            mixinStandardHelpOptions = true,
            versionProvider = Version.class,
            description = "Lists, shows and redrives the dead letters (pipeline.dead-letters).")
    static final class Dlq implements Runnable {
        @Spec
        CommandSpec spec;

        @Override
        public void run() {
            throw new ParameterException(spec.commandLine(), "Missing a command: list, show or redrive?");
        }
    }

    @Command(
            name = "list",
            mixinStandardHelpOptions = true,
            versionProvider = Version.class,
            description = "Lists every dead letter: where it lies, when, which service, its source and the reason.")
    static final class DlqList extends OpsCommand {
        DlqList(Supplier<Config> config) {
            super(config);
        }

        @Override
        void run(OpsSettings settings, PrintWriter out) {
            try (DeadLetterQueue dlq = new DeadLetterQueue(settings, Clock.systemUTC())) {
                var letters = dlq.list();
                print(letters, DeadLetterQueue.listText(letters));
            }
        }
    }

    @Command(
            name = "show",
            mixinStandardHelpOptions = true,
            versionProvider = Version.class,
            description = "Shows one dead letter in full: headers and value.")
    static final class DlqShow extends OpsCommand {
        private static final Pattern COORDINATES = Pattern.compile("(\\d+):(\\d+)");

        @Parameters(
                paramLabel = "<partition>:<offset>",
                description = "The dead letter's place on the dead-letter topic, as `dlq list` prints it.")
        String coordinates;

        DlqShow(Supplier<Config> config) {
            super(config);
        }

        @Override
        void run(OpsSettings settings, PrintWriter out) {
            Matcher m = COORDINATES.matcher(coordinates.strip());
            if (!m.matches()) {
                throw new ParameterException(
                        spec.commandLine(), "expected <partition>:<offset> such as 0:17 but was '" + coordinates + "'");
            }
            try (DeadLetterQueue dlq = new DeadLetterQueue(settings, Clock.systemUTC())) {
                DeadLetter d = dlq.show(Integer.parseInt(m.group(1)), Long.parseLong(m.group(2)));
                print(d, DeadLetterQueue.showText(d));
            }
        }
    }

    @Command(
            name = "redrive",
            mixinStandardHelpOptions = true,
            versionProvider = Version.class,
            description = {
                "Sends dead letters back to the topic they came from, each at most once however often it runs: the "
                        + "redriven record names its dead letter in the header dlq.redriven.from, and a marker on the "
                        + "compacted topic pipeline.dead-letters.redriven, written in the same transaction, keeps a "
                        + "later run from sending it again."
            })
    static final class DlqRedrive extends OpsCommand {
        @Option(
                names = "--reason",
                paramLabel = "<substring>",
                description = "Only the dead letters whose reason contains this text (default: all).")
        String reason;

        @Option(names = "--dry-run", description = "Say what would be redriven; send nothing.")
        boolean dryRun;

        DlqRedrive(Supplier<Config> config) {
            super(config);
        }

        @Override
        void run(OpsSettings settings, PrintWriter out) {
            try (DeadLetterQueue dlq = new DeadLetterQueue(settings, Clock.systemUTC())) {
                var result = dlq.redrive(Optional.ofNullable(reason), dryRun);
                print(result, DeadLetterQueue.redriveText(result));
            }
        }
    }

    @Command(
            name = "trace",
            mixinStandardHelpOptions = true,
            versionProvider = Version.class,
            description = {
                "Shows one chat's way through the pipeline: its updates, the thoughts they joined, the reply parts, "
                        + "each part's outcome, its dead letters, and the time between stages (ingested → thought "
                        + "closed → first part produced → sent).",
                "Reads only the chat's partition of each topic (the producer's partitioner on the chat id)."
            })
    static final class Trace extends OpsCommand {
        private static final Pattern SHORT_DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

        @Parameters(paramLabel = "<chatId>", description = "The chat id (the topics' key).")
        long chatId;

        @Option(
                names = "--since",
                paramLabel = "<duration>",
                description =
                        "Only records from this long ago on, e.g. 30m, 1h, 2d or PT1H30M (default: all retained).")
        String since;

        @Option(
                names = "--follow",
                description = "Keep printing the chat's new records as they arrive, until interrupted (Ctrl-C).")
        boolean follow;

        Trace(Supplier<Config> config) {
            super(config);
        }

        @Override
        void run(OpsSettings settings, PrintWriter out) {
            Optional<Duration> window = Optional.ofNullable(since).map(this::duration);
            try (ChatTrace trace = new ChatTrace(settings, Clock.systemUTC())) {
                if (!follow) {
                    Timeline t = trace.trace(chatId, window);
                    print(t, ChatTrace.text(t));
                    return;
                }
                trace.follow(
                        chatId,
                        window,
                        t -> {
                            if (json) {
                                t.events().forEach(e -> out.println(Text.jsonLine(e)));
                            } else {
                                out.print(ChatTrace.text(t));
                                out.println("\nfollowing chat " + chatId + " (Ctrl-C stops)");
                            }
                            out.flush();
                        },
                        e -> {
                            out.println(json ? Text.jsonLine(e) : ChatTrace.eventText(e));
                            out.flush();
                        },
                        () -> false);
            }
        }

        private Duration duration(String text) {
            Matcher m = SHORT_DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
            if (m.matches()) {
                long n = Long.parseLong(m.group(1));
                return switch (m.group(2)) {
                    case "ms" -> Duration.ofMillis(n);
                    case "s" -> Duration.ofSeconds(n);
                    case "m" -> Duration.ofMinutes(n);
                    case "h" -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
            try {
                return Duration.parse(text.strip().toUpperCase(Locale.ROOT));
            } catch (DateTimeParseException e) {
                throw new ParameterException(
                        spec.commandLine(),
                        "--since: expected a duration such as 30m, 1h, 2d or PT1H but was '" + text + "'");
            }
        }
    }
}
