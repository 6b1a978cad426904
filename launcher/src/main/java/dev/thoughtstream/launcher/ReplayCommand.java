package dev.thoughtstream.launcher;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.llm.LlmConfig;
import dev.thoughtstream.ops.OpsException;
import dev.thoughtstream.ops.OpsSettings;
import dev.thoughtstream.ops.Text;
import dev.thoughtstream.ops.replay.Replay;
import dev.thoughtstream.ops.replay.ReplayHtml;
import dev.thoughtstream.ops.replay.ReplayReport;
import dev.thoughtstream.ops.replay.ReplayWindow;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;

/**
 * {@code replay}: recorded thoughts answered again by another model or prompt, in process, beside their original
 * replies, in an HTML report. The work is the ops module's {@link Replay}; the answers come from the llm-processor's
 * own generation ({@link LlmReplayAnswerer}), which only this module, composing the stages, may reach.
 */
@Command(
        name = "replay",
        mixinStandardHelpOptions = true,
        versionProvider = Version.class,
        description = {
            "Answers recorded thoughts (chat.thoughts, with the context each was answered with) again with another "
                    + "provider, model or system prompt, through the llm-processor's own reply generation, and writes "
                    + "an HTML report: each thought with its original reply (chat.replies) beside the new one, their "
                    + "latency and tokens, and a summary.",
            "Reads without a consumer group and commits nothing; sends nothing to Telegram and writes no production "
                    + "topic. With --to-topic the new reply parts also go to replay.<name>.replies.",
            "The llm-processor's variables (LLM_*, SYSTEM_PROMPT, ...) apply; the options below override them."
        })
final class ReplayCommand extends OpsCommands.OpsCommand {
    private static final Pattern SHORT_DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

    @Option(
            names = "--since",
            paramLabel = "<duration|time>",
            description = "Thoughts recorded from this long ago (30m, 2h, 1d, PT1H30M) or from this time "
                    + "(2026-01-31T09:00:00Z) on. Required unless --chats is given (then: all retained).")
    String since;

    @Option(
            names = "--until",
            paramLabel = "<duration|time>",
            description = "Thoughts recorded before this long ago or this time (default: up to now).")
    String until;

    @Option(
            names = "--chats",
            split = ",",
            paramLabel = "<chatId>",
            description = "Only these chats (comma-separated); only their partitions are read.")
    List<Long> chats = List.of();

    @Option(
            names = "--provider",
            paramLabel = "scripted|ollama|openai",
            description = "The provider that answers (default: LLM_PROVIDER).")
    String provider;

    @Option(
            names = "--model",
            paramLabel = "<name>",
            description = "The model (default: LLM_MODEL, or the provider's default when --provider changes it).")
    String model;

    @Option(
            names = "--api-url",
            paramLabel = "<url>",
            description = "The provider's base URL (default: LLM_API_URL, or the provider's default when --provider "
                    + "changes it).")
    String apiUrl;

    @Option(
            names = "--prompt-file",
            paramLabel = "<file>",
            description = "The system prompt, from this UTF-8 file (default: SYSTEM_PROMPT / SYSTEM_PROMPT_FILE).")
    Path promptFile;

    @Option(names = "--out", required = true, paramLabel = "<report.html>", description = "Where the report goes.")
    Path out;

    @Option(
            names = "--to-topic",
            paramLabel = "<name>",
            description = "Also write the new reply parts to replay.<name>.replies (created when missing).")
    String toTopic;

    private final Clock clock;

    ReplayCommand(Supplier<Config> config) {
        this(config, Clock.systemUTC());
    }

    /** @param clock the report's time, the window's "ago" and the latencies are taken from it */
    ReplayCommand(Supplier<Config> config, Clock clock) {
        super(config);
        this.clock = clock;
    }

    @Override
    void run(OpsSettings settings, PrintWriter printer) {
        ReplayWindow window = window();
        Config llmConfig = overridden(config());
        LlmConfig llm;
        try {
            llm = LlmConfig.from(llmConfig);
        } catch (ConfigException e) {
            throw new OpsException("invalid model configuration: " + e.getMessage(), e);
        }
        ReplayReport.Setup setup = new ReplayReport.Setup(
                llm.model().providerLabel(),
                llm.model().name(),
                llm.replies().systemPrompt(),
                promptLabel(llmConfig),
                window.describe(),
                clock.instant(),
                Optional.empty());
        ReplayReport report;
        try (LlmReplayAnswerer answerer = new LlmReplayAnswerer(llm, clock);
                Replay replay = new Replay(settings, clock)) {
            report = replay.run(window, answerer, setup, Optional.ofNullable(toTopic), row -> {
                if (!json) {
                    printer.println(row.recorded().thought().thoughtId() + "  "
                            + row.replay().outcome() + "  "
                            + row.replay().parts().size() + " part(s)  "
                            + Text.duration(row.replay().latencyMs()));
                    printer.flush();
                }
            });
        }
        try {
            Path parent = out.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            Files.writeString(out, ReplayHtml.render(report), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new OpsException("cannot write the report to " + out + ": " + e.getMessage(), e);
        }
        ReplayReport.Summary s = report.replay();
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("report", out.toString());
        summary.put("thoughts", s.thoughts());
        summary.put("answered", s.answered());
        summary.put("failures", s.failures().orElse(0));
        summary.put("meanLatencyMs", s.meanLatencyMs().orElse(null));
        summary.put("p95LatencyMs", s.p95LatencyMs().orElse(null));
        summary.put("tokens", s.tokens().orElse(null));
        summary.put("toTopic", report.setup().toTopic().orElse(null));
        print(
                summary,
                "replayed " + s.thoughts() + " thought(s) with " + setup.provider() + " (" + setup.model() + "): "
                        + s.answered() + " answered, " + s.failures().orElse(0) + " failed"
                        + s.meanLatencyMs()
                                .map(m -> ", mean " + Text.duration(m))
                                .orElse("")
                        + s.p95LatencyMs().map(m -> ", p95 " + Text.duration(m)).orElse("")
                        + s.tokens().map(t -> ", " + t + " tokens").orElse("")
                        + report.setup()
                                .toTopic()
                                .map(t -> "; replies written to " + t)
                                .orElse("")
                        + "\nreport: " + out + "\n");
    }

    private ReplayWindow window() {
        Optional<Instant> from = Optional.ofNullable(since).map(t -> time("--since", t));
        Optional<Instant> to = Optional.ofNullable(until).map(t -> time("--until", t));
        if (from.isEmpty() && chats.isEmpty()) {
            throw new ParameterException(spec.commandLine(), "Missing --since or --chats: which thoughts to replay?");
        }
        try {
            return new ReplayWindow(from, to, chats);
        } catch (IllegalArgumentException e) {
            throw new ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** The environment with the command line's choices on top; a changed provider drops the old one's URL and model. */
    private Config overridden(Config config) {
        Map<String, String> overrides = new HashMap<>();
        if (provider != null) {
            String p = provider.strip().toLowerCase(Locale.ROOT);
            if (!List.of("scripted", "ollama", "openai").contains(p)) {
                throw new ParameterException(
                        spec.commandLine(),
                        "--provider: expected scripted, ollama or openai but was '" + provider + "'");
            }
            boolean changed = !config.string(LlmConfig.PROVIDER, "scripted").equalsIgnoreCase(p);
            overrides.put(LlmConfig.PROVIDER, p);
            if (changed) {
                // The environment's URL and model belong to its provider; blank means the new provider's default.
                overrides.put(LlmConfig.API_URL, "");
                overrides.put(LlmConfig.MODEL, "");
            }
        }
        if (model != null) {
            overrides.put(LlmConfig.MODEL, model);
        }
        if (apiUrl != null) {
            overrides.put(LlmConfig.API_URL, apiUrl);
        }
        if (promptFile != null) {
            overrides.put(LlmConfig.SYSTEM_PROMPT, "");
            overrides.put(LlmConfig.SYSTEM_PROMPT_FILE, promptFile.toString());
        }
        return config.with(overrides);
    }

    /** Where the prompt came from, without the directories of a file (they say nothing about the prompt). */
    private String promptLabel(Config config) {
        if (promptFile != null) {
            return "file " + promptFile.getFileName();
        }
        if (config.isSet(LlmConfig.SYSTEM_PROMPT_FILE)) {
            return "file "
                    + Path.of(config.string(LlmConfig.SYSTEM_PROMPT_FILE, "")).getFileName() + " ("
                    + LlmConfig.SYSTEM_PROMPT_FILE + ")";
        }
        if (config.isSet(LlmConfig.SYSTEM_PROMPT)) {
            return LlmConfig.SYSTEM_PROMPT;
        }
        return "the default prompt";
    }

    private Instant time(String option, String text) {
        String t = text.strip();
        Matcher m = SHORT_DURATION.matcher(t.toLowerCase(Locale.ROOT));
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            Duration d = switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
            return clock.instant().minus(d);
        }
        try {
            return clock.instant().minus(Duration.parse(t.toUpperCase(Locale.ROOT)));
        } catch (DateTimeParseException notADuration) {
            try {
                return OffsetDateTime.parse(t).toInstant();
            } catch (DateTimeParseException notATime) {
                throw new ParameterException(
                        spec.commandLine(),
                        option + ": expected a duration such as 30m, 2h, PT1H or a time such as "
                                + "2026-01-31T09:00:00Z but was '" + text + "'");
            }
        }
    }
}
