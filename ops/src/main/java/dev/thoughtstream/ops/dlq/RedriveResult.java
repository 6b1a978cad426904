package dev.thoughtstream.ops.dlq;

import java.util.List;

/**
 * What a redrive did (or, with {@code dryRun}, would do).
 *
 * @param dryRun   nothing was written
 * @param redriven the dead letters sent back to their source topic
 * @param skipped  the chosen dead letters left alone, each with why
 */
public record RedriveResult(boolean dryRun, List<Redriven> redriven, List<Skipped> skipped) {
    public RedriveResult {
        redriven = List.copyOf(redriven);
        skipped = List.copyOf(skipped);
    }

    /** A dead letter sent back ({@code deadLetter} is {@code partition:offset} on the dead-letter topic). */
    public record Redriven(String deadLetter, String topic, String reason) {}

    public record Skipped(String deadLetter, String why) {}
}
