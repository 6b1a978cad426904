package dev.thoughtstream.bench.e2e;

import java.util.Arrays;
import java.util.Collection;
import java.util.Locale;

/**
 * Percentiles of a set of durations in milliseconds (nearest rank, so every figure is a value that occurred).
 *
 * @param count how many samples; the percentiles are NaN when it is 0
 */
public record Summary(int count, double p50, double p95, double p99, double max, double mean) {

    public static Summary of(Collection<Double> samplesMs) {
        double[] values =
                samplesMs.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (values.length == 0) {
            return new Summary(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        return new Summary(
                values.length,
                rank(values, 0.50),
                rank(values, 0.95),
                rank(values, 0.99),
                values[values.length - 1],
                Arrays.stream(values).average().orElse(Double.NaN));
    }

    private static double rank(double[] sorted, double q) {
        int index = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    public boolean isEmpty() {
        return count == 0;
    }

    /** {@code p50 12.3  p95 …  p99 …  max …  (n=…)}, in ms. */
    public String format() {
        return String.format(
                Locale.ROOT, "p50 %s  p95 %s  p99 %s  max %s ms  (n=%d)", ms(p50), ms(p95), ms(p99), ms(max), count);
    }

    /** Each figure beside its ratio to the same figure of {@code floor}. */
    public String formatAgainst(Summary floor) {
        return String.format(
                Locale.ROOT,
                "p50 %s (%s)  p95 %s (%s)  p99 %s (%s)  max %s (%s) ms  (n=%d)",
                ms(p50),
                ratio(p50, floor.p50),
                ms(p95),
                ratio(p95, floor.p95),
                ms(p99),
                ratio(p99, floor.p99),
                ms(max),
                ratio(max, floor.max),
                count);
    }

    static String ms(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        return Math.abs(v) < 10 ? String.format(Locale.ROOT, "%.2f", v) : String.format(Locale.ROOT, "%.1f", v);
    }

    /** {@code 12.3x floor}; "n/a" when either side is missing or the floor is not positive. */
    static String ratio(double value, double floor) {
        if (Double.isNaN(value) || Double.isNaN(floor) || floor <= 0) {
            return "n/a";
        }
        return String.format(Locale.ROOT, "%.1fx floor", value / floor);
    }
}
