package dev.thoughtstream.launcher;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.ops.OpsException;
import dev.thoughtstream.ops.OpsSettings;
import dev.thoughtstream.ops.reprocess.Emit;
import dev.thoughtstream.ops.reprocess.ReprocessPlan;
import dev.thoughtstream.ops.reprocess.ReprocessSettings;
import dev.thoughtstream.ops.reprocess.Reprocessor;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/** {@code reprocess}: the chunker's state rebuilt from its input topics; the work is the ops module's. */
@Command(
        name = "reprocess",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = {
            "Rebuilds the chunker's state (contexts, open thoughts) from its input topics, after a bug fix or a lost "
                    + "state directory: sets the chunker group's offsets on tg.updates and chat.delivered to --from, "
                    + "deletes its changelog and repartition topics, clears its local state directory "
                    + "(STREAMS_STATE_DIR/CHUNKER_APPLICATION_ID) and writes a reprocess fence; the chunker rebuilds "
                    + "everything when it starts again.",
            "Refuses while any chunker instance is in the group: stop them all first. --dry-run prints the plan "
                    + "and changes nothing."
        })
final class ReprocessCommand extends OpsCommands.OpsCommand {
    private static final Pattern SHORT_DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    @Option(
            names = "--from",
            required = true,
            paramLabel = "<time|duration|earliest>",
            description = "Reprocess the input from this time (2026-03-02T09:00:00Z), from this long ago (30m, 6h, "
                    + "2d, PT1H) or from the earliest retained record. Context older than CONTEXT_WINDOW_MS is "
                    + "pruned anyway, so that long ago is enough.")
    String from;

    @Option(
            names = "--emit",
            paramLabel = "none|thoughts",
            defaultValue = "none",
            description = "none (default): the input processed before the reset only rebuilds the state; nothing "
                    + "is sent again. thoughts: its thoughts and direct replies are sent again, and people may be "
                    + "answered twice.")
    String emit;

    @Option(names = "--dry-run", description = "Print the plan; change nothing.")
    boolean dryRun;

    private final Clock clock;

    ReprocessCommand(Supplier<Config> config) {
        this(config, Clock.systemUTC());
    }

    ReprocessCommand(Supplier<Config> config, Clock clock) {
        super(config);
        this.clock = clock;
    }

    @Override
    void run(OpsSettings settings, PrintWriter out) {
        Optional<Instant> start = start();
        Emit mode = emit();
        Path stateDir;
        try {
            stateDir = ReprocessSettings.stateDir(config());
        } catch (ConfigException e) {
            throw new OpsException("invalid configuration: " + e.getMessage(), e);
        }
        try (Reprocessor reprocessor = new Reprocessor(settings, stateDir, clock)) {
            if (dryRun) {
                ReprocessPlan plan = reprocessor.plan(start, mode);
                String note = plan.members() > 0
                        ? "\ndry run: nothing changed. A real run would refuse now: the group has " + plan.members()
                                + (plan.members() == 1 ? " member.\n" : " members.\n")
                        : "\ndry run: nothing changed.\n";
                print(plan, plan.text() + note);
                return;
            }
            ReprocessPlan plan = reprocessor.run(start, mode, step -> {
                if (!json) {
                    out.println("done: " + step);
                    out.flush();
                }
            });
            print(plan, plan.text() + "\nStart the chunker: it rebuilds its state from the input.\n");
        }
    }

    private Emit emit() {
        return switch (emit.strip().toLowerCase(Locale.ROOT)) {
            case "none" -> Emit.NONE;
            case "thoughts" -> Emit.THOUGHTS;
            default ->
                throw new ParameterException(
                        spec.commandLine(), "--emit: expected none or thoughts but was '" + emit + "'");
        };
    }

    private Optional<Instant> start() {
        String text = from.strip();
        if (text.equalsIgnoreCase("earliest")) {
            return Optional.empty();
        }
        Matcher m = SHORT_DURATION.matcher(text.toLowerCase(Locale.ROOT));
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            Duration ago = switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
            return Optional.of(clock.instant().minus(ago));
        }
        try {
            return Optional.of(Duration.parse(text.toUpperCase(Locale.ROOT)))
                    .map(ago -> clock.instant().minus(ago));
        } catch (DateTimeParseException notADuration) {
            try {
                return Optional.of(OffsetDateTime.parse(text).toInstant());
            } catch (DateTimeParseException e) {
                throw new ParameterException(
                        spec.commandLine(),
                        "--from: expected a time such as 2026-03-02T09:00:00Z, a duration such as 6h, or earliest,"
                                + " but was '" + from + "'");
            }
        }
    }
}
