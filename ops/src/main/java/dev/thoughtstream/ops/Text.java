package dev.thoughtstream.ops;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.thoughtstream.common.serde.Json;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Output helpers: aligned tables, durations and times for people; JSON for scripts. */
public final class Text {
    private Text() {}

    /** {@code value} as indented JSON (the project's Jackson configuration: nulls left out). */
    public static String json(Object value) {
        try {
            return Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /** {@code value} as one line of JSON (for --follow, a record per line). */
    public static String jsonLine(Object value) {
        try {
            return Json.mapper().writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write " + value.getClass().getSimpleName() + " as JSON", e);
        }
    }

    /** A short human duration: {@code 850ms}, {@code 12s}, {@code 3m 12s}, {@code 2h 5m}, {@code 3d 4h}. */
    public static String duration(long millis) {
        if (millis < 0) {
            return "-" + duration(-millis);
        }
        Duration d = Duration.ofMillis(millis);
        if (millis < 1000) {
            return millis + "ms";
        } else if (d.toMinutes() < 1) {
            return String.format(Locale.ROOT, "%.1fs", millis / 1000.0);
        } else if (d.toHours() < 1) {
            return d.toMinutes() + "m " + d.toSecondsPart() + "s";
        } else if (d.toDays() < 1) {
            return d.toHours() + "h " + d.toMinutesPart() + "m";
        }
        return d.toDays() + "d " + d.toHoursPart() + "h";
    }

    public static String time(long epochMillis) {
        return Instant.ofEpochMilli(epochMillis).toString();
    }

    /** Rows (the first is the header) as columns padded to their widest cell. */
    public static String table(List<List<String>> rows) {
        List<Integer> widths = new ArrayList<>();
        for (List<String> row : rows) {
            for (int i = 0; i < row.size(); i++) {
                int w = row.get(i) == null ? 0 : row.get(i).length();
                if (i >= widths.size()) {
                    widths.add(w);
                } else {
                    widths.set(i, Math.max(widths.get(i), w));
                }
            }
        }
        StringBuilder out = new StringBuilder();
        for (List<String> row : rows) {
            StringBuilder line = new StringBuilder();
            for (int i = 0; i < row.size(); i++) {
                String cell = row.get(i) == null ? "" : row.get(i);
                line.append(cell);
                if (i < row.size() - 1) {
                    line.append(" ".repeat(widths.get(i) - cell.length() + 2));
                }
            }
            out.append(line.toString().stripTrailing()).append('\n');
        }
        return out.toString();
    }
}
