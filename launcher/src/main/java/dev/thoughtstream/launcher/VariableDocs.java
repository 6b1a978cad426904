package dev.thoughtstream.launcher;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The variables each subcommand reads, as the README's configuration tables document them (the README is packed
 * into the launcher's jar). One source for the operator's reading and for {@code --help}; a test keeps the tables
 * equal to what the code reads.
 */
final class VariableDocs {
    static final String RESOURCE = "README.md";
    private static final Pattern CODE = Pattern.compile("`([^`]*)`");
    private static final Pattern LINK = Pattern.compile("\\[([^\\]]*)\\]\\([^)]*\\)");
    private static final Pattern VARIABLE = Pattern.compile("[A-Z][A-Z0-9_]*\\*?");
    /** picocli wraps help at 80 columns; wrapping shorter ourselves keeps the indentation. */
    private static final int WIDTH = 80;

    /** One row of a table: the variables it documents, their default and what they mean (plain text). */
    record Row(List<String> names, String defaultValue, String meaning) {}

    private final Map<String, List<Row>> sections;

    private VariableDocs(Map<String, List<Row>> sections) {
        this.sections = sections;
    }

    /** The README packed beside this class. */
    static VariableDocs load() {
        try (InputStream in = VariableDocs.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the launcher's jar");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The tables under {@code ## Configuration}, by section: a {@code ### heading}'s text before any " (". */
    static VariableDocs parse(String markdown) {
        Map<String, List<Row>> sections = new LinkedHashMap<>();
        boolean inConfiguration = false;
        List<Row> current = null;
        for (String line : markdown.split("\n")) {
            if (line.startsWith("## ")) {
                inConfiguration = line.strip().equals("## Configuration");
                current = null;
            } else if (inConfiguration && line.startsWith("### ")) {
                String heading = line.substring(4).strip();
                int paren = heading.indexOf(" (");
                current = sections.computeIfAbsent(
                        paren < 0 ? heading : heading.substring(0, paren), k -> new ArrayList<>());
            } else if (current != null && line.startsWith("| `")) {
                current.add(row(line));
            }
        }
        return new VariableDocs(sections);
    }

    private static Row row(String line) {
        List<String> cells = new ArrayList<>();
        StringBuilder cell = new StringBuilder();
        // Cells are separated by '|'; a '\|' inside a cell is a literal bar.
        for (int i = 1; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\\' && i + 1 < line.length() && line.charAt(i + 1) == '|') {
                cell.append('|');
                i++;
            } else if (c == '|') {
                cells.add(cell.toString().strip());
                cell.setLength(0);
            } else {
                cell.append(c);
            }
        }
        List<String> names = new ArrayList<>();
        Matcher m = CODE.matcher(cells.get(0));
        while (m.find()) {
            if (VARIABLE.matcher(m.group(1)).matches()) {
                names.add(m.group(1));
            }
        }
        return new Row(
                List.copyOf(names),
                plain(cells.size() > 1 ? cells.get(1) : ""),
                plain(cells.size() > 2 ? cells.get(2) : ""));
    }

    private static String plain(String markdown) {
        return CODE.matcher(LINK.matcher(markdown).replaceAll("$1")).replaceAll("$1");
    }

    /** Which sections a subcommand reads. */
    static List<String> sectionsOf(String command) {
        return switch (command) {
            case "ingest" -> List.of("Every service", "Redis", "Telegram", "ingest");
            case "chunker" -> List.of("Every service", "chunker");
            case "llm-processor" -> List.of("Every service", "Redis", "llm-processor");
            case "emitter" -> List.of("Every service", "Redis", "Telegram", "emitter");
            case "devstack" ->
                List.of(
                        "Every service",
                        "Redis",
                        "Telegram",
                        "ingest",
                        "chunker",
                        "llm-processor",
                        "emitter",
                        "devstack");
            case "emulator" -> List.of("emulator");
            case "ops" -> List.of("Every service", "Operator commands");
            default -> throw new IllegalArgumentException("no such command: " + command);
        };
    }

    /** The rows of {@code section}; empty when the README has no such section. */
    List<Row> rows(String section) {
        return sections.getOrDefault(section, List.of());
    }

    /** Every section's name, in the README's order. */
    List<String> sectionNames() {
        return List.copyOf(sections.keySet());
    }

    /** The help footer listing the variables of {@code sectionNames} (picocli format: '%' doubled). */
    String footer(List<String> sectionNames) {
        StringBuilder out = new StringBuilder(
                "%nEnvironment variables (or NAME=value lines in .env; the README has" + " the full tables):%n");
        for (String section : sectionNames) {
            List<Row> rows = rows(section);
            if (rows.isEmpty()) {
                continue;
            }
            out.append("%n").append(escape(section)).append(":%n");
            for (Row r : rows) {
                out.append("  ").append(escape(String.join(" / ", r.names())));
                if (!r.defaultValue().isEmpty()) {
                    out.append("  [").append(escape(r.defaultValue())).append(']');
                }
                out.append("%n");
                for (String wrapped : wrap(r.meaning(), WIDTH - 6)) {
                    out.append("      ").append(escape(wrapped)).append("%n");
                }
            }
        }
        return out.toString();
    }

    private static String escape(String text) {
        return text.replace("%", "%%");
    }

    private static List<String> wrap(String text, int width) {
        List<String> lines = new ArrayList<>();
        StringBuilder line = new StringBuilder();
        for (String word : text.split(" ")) {
            if (line.length() > 0 && line.length() + 1 + word.length() > width) {
                lines.add(line.toString());
                line.setLength(0);
            }
            if (line.length() > 0) {
                line.append(' ');
            }
            line.append(word);
        }
        if (line.length() > 0) {
            lines.add(line.toString());
        }
        return lines;
    }
}
