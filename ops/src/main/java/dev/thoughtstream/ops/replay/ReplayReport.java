package dev.thoughtstream.ops.replay;

import dev.thoughtstream.common.event.ReplyPart;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a replay found and answered: each recorded thought with its original reply and the new one, and the totals.
 *
 * @param setup what answered and over which window
 * @param rows  one per thought, in the order the thoughts were closed (then chat id, then thought id)
 */
public record ReplayReport(Setup setup, List<Row> rows) {
    public ReplayReport {
        Objects.requireNonNull(setup, "setup");
        rows = List.copyOf(rows);
    }

    /**
     * @param provider    the replay's provider ({@code scripted}, {@code ollama}, {@code openai})
     * @param model       the replay's model name
     * @param prompt      the system prompt the replay used
     * @param promptLabel where it came from (a file name, the environment, the default)
     * @param window      the window, as {@link ReplayWindow#describe()} puts it
     * @param generatedAt when the report was made, by the replay's clock
     * @param toTopic     the topic the new replies were written to; empty when they were not
     */
    public record Setup(
            String provider,
            String model,
            String prompt,
            String promptLabel,
            String window,
            Instant generatedAt,
            Optional<String> toTopic) {
        public Setup {
            Objects.requireNonNull(provider, "provider");
            Objects.requireNonNull(model, "model");
            Objects.requireNonNull(prompt, "prompt");
            Objects.requireNonNull(promptLabel, "promptLabel");
            Objects.requireNonNull(window, "window");
            Objects.requireNonNull(generatedAt, "generatedAt");
            Objects.requireNonNull(toTopic, "toTopic");
        }
    }

    /** A thought, its original reply and its new one. */
    public record Row(RecordedThought recorded, NewReply replay) {
        public Row {
            Objects.requireNonNull(recorded, "recorded");
            Objects.requireNonNull(replay, "replay");
        }

        /** From the thought's close to the original reply's first part; empty without parts. */
        public Optional<Long> originalFirstPartMs() {
            return recorded.original().stream().mapToLong(ReplyPart::createdAtMs).min().stream()
                    .boxed()
                    .findFirst()
                    .map(first -> first - recorded.thought().closedAtMs());
        }

        /** From the thought's close to the original reply's last part; empty without parts. */
        public Optional<Long> originalLatencyMs() {
            return recorded.original().stream().mapToLong(ReplyPart::createdAtMs).max().stream()
                    .boxed()
                    .findFirst()
                    .map(last -> last - recorded.thought().closedAtMs());
        }
    }

    /**
     * The totals of one side of the report.
     *
     * @param thoughts      thoughts in the window
     * @param answered      thoughts with a reply (original: any part recorded; replay: not failed)
     * @param failures      replay: generations that failed; original: empty (the recording does not say)
     * @param meanLatencyMs mean latency of the answered thoughts; empty when none
     * @param p95LatencyMs  95th percentile (nearest rank) of the same; empty when none
     * @param tokens        tokens reported in total (prompt and answer); empty when none was reported
     */
    public record Summary(
            int thoughts,
            int answered,
            Optional<Integer> failures,
            Optional<Long> meanLatencyMs,
            Optional<Long> p95LatencyMs,
            Optional<Long> tokens) {}

    public Summary original() {
        List<Long> latencies = new ArrayList<>();
        int answered = 0;
        for (Row r : rows) {
            if (!r.recorded().original().isEmpty()) {
                answered++;
            }
            r.originalLatencyMs().ifPresent(latencies::add);
        }
        return new Summary(rows.size(), answered, Optional.empty(), mean(latencies), p95(latencies), Optional.empty());
    }

    public Summary replay() {
        List<Long> latencies = new ArrayList<>();
        int answered = 0;
        int failures = 0;
        Long tokens = null;
        for (Row r : rows) {
            if (r.replay().failed()) {
                failures++;
            } else {
                answered++;
                latencies.add(r.replay().latencyMs());
            }
            Optional<Long> t = r.replay().totalTokens();
            if (t.isPresent()) {
                tokens = (tokens == null ? 0 : tokens) + t.get();
            }
        }
        return new Summary(
                rows.size(),
                answered,
                Optional.of(failures),
                mean(latencies),
                p95(latencies),
                Optional.ofNullable(tokens));
    }

    static Optional<Long> mean(List<Long> values) {
        if (values.isEmpty()) {
            return Optional.empty();
        }
        long sum = 0;
        for (long v : values) {
            sum += v;
        }
        return Optional.of(Math.round((double) sum / values.size()));
    }

    /** The nearest-rank 95th percentile: the smallest value at or above 95 % of them. */
    static Optional<Long> p95(List<Long> values) {
        if (values.isEmpty()) {
            return Optional.empty();
        }
        List<Long> sorted = values.stream().sorted().toList();
        int rank = (int) Math.ceil(0.95 * sorted.size());
        return Optional.of(sorted.get(Math.max(0, rank - 1)));
    }
}
