package dev.thoughtstream.launcher;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The README and docs/*.md against the repository they describe: what a reader follows (a link to another page or
 * one of its headings) exists, and a setting they name is one the code reads. {@link ConfigurationDocsTest} holds
 * the README's tables to the code; this holds the prose of every page.
 */
class DocsAgainstTheRepositoryTest {
    private static final Path ROOT = repositoryRoot();
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Pattern CODE = Pattern.compile("`([^`]+)`");
    private static final Pattern UPPER_SNAKE =
            Pattern.compile("(?<![\\w.$-])([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?![\\w(])");
    /** Names in capitals that are not settings of ours: Kafka's error codes, an HTTP/2 setting. */
    private static final Set<String> NOT_OURS =
            Set.of("FENCED_INSTANCE_ID", "OUT_OF_ORDER_SEQUENCE_NUMBER", "SETTINGS_MAX_CONCURRENT_STREAMS");

    @Test
    void everyLinkBetweenThePagesLeadsToAFileAndHeadingThatExist() {
        List<String> broken = new ArrayList<>();
        for (Path page : pages()) {
            List<String> lines = lines(page);
            for (int i = 0; i < lines.size(); i++) {
                Matcher m = LINK.matcher(lines.get(i));
                while (m.find()) {
                    String target = m.group(1);
                    if (target.matches("^[a-z]+:.*")) {
                        continue; // http(s), mailto: outside the repository
                    }
                    int hash = target.indexOf('#');
                    String file = hash < 0 ? target : target.substring(0, hash);
                    Path linked = file.isEmpty()
                            ? page
                            : page.getParent().resolve(file).normalize();
                    String where = ROOT.relativize(page) + ":" + (i + 1) + " → " + target;
                    if (!Files.exists(linked)) {
                        broken.add(where + " (no such file)");
                    } else if (hash >= 0 && linked.toString().endsWith(".md")) {
                        String anchor = target.substring(hash + 1);
                        if (!anchors(linked).contains(anchor)) {
                            broken.add(where + " (no such heading)");
                        }
                    }
                }
            }
        }
        assertTrue(broken.isEmpty(), "links that lead nowhere:\n" + String.join("\n", broken));
    }

    @Test
    void everySettingThePagesNameIsReadByTheCode() {
        // Given every name in capitals in the main code and the deployment files, and the README's tables
        Set<String> inCode = namesInCapitals(repositoryText());
        Set<String> documented = new HashSet<>();
        VariableDocs readme = VariableDocs.parse(read(ROOT.resolve("README.md")));
        for (String section : List.of(
                "Every service",
                "Redis",
                "Telegram",
                "ingest",
                "chunker",
                "llm-processor",
                "emitter",
                "devstack",
                "emulator",
                "Operator commands")) {
            readme.rows(section).forEach(r -> documented.addAll(r.names()));
        }

        // Then a name the pages write in capitals (a variable, a constant) is one of them
        Set<String> unknown = new TreeSet<>();
        for (Path page : pages()) {
            List<String> lines = lines(page);
            for (int i = 0; i < lines.size(); i++) {
                Matcher code = CODE.matcher(lines.get(i));
                while (code.find()) {
                    Matcher name = UPPER_SNAKE.matcher(code.group(1));
                    while (name.find()) {
                        String n = name.group(1);
                        boolean known = NOT_OURS.contains(n)
                                || inCode.contains(n)
                                || documented.contains(n)
                                || documented.stream()
                                        .anyMatch(d -> d.endsWith("*") && n.startsWith(d.substring(0, d.length() - 1)));
                        if (!known) {
                            unknown.add(n + " (" + ROOT.relativize(page) + ":" + (i + 1) + ")");
                        }
                    }
                }
            }
        }
        assertTrue(unknown.isEmpty(), "names the pages give that nothing in the code has: " + unknown);
    }

    private static Set<String> namesInCapitals(String text) {
        Set<String> names = new HashSet<>();
        Matcher m = Pattern.compile("[A-Z][A-Z0-9_]+").matcher(text);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }

    @Test
    void nothingNamesABuildMachinesPathOrATrackersIssue() throws IOException {
        // The repository speaks for itself: a clone has no shared notes beside it, no build machine's directories,
        // and no access to the tracker. (The pattern is assembled so that this file does not match it.)
        Pattern outside = Pattern.compile("\\.\\./" + "shared|/" + "work/|issue ?#?[0-9]+");
        List<String> found = new ArrayList<>();
        Files.walkFileTree(ROOT, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                String name = dir.getFileName() == null ? "" : dir.getFileName().toString();
                boolean skip =
                        !dir.equals(ROOT) && (name.equals(".git") || name.equals(".devstack") || name.equals("target"));
                return skip ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                String name = file.getFileName().toString();
                if (name.matches(".*\\.(java|md|yml|yaml|xml|sh|properties|json|html|js|css|example)")
                        || name.equals("Dockerfile")
                        || name.equals("run")) {
                    List<String> lines = lines(file);
                    for (int i = 0; i < lines.size(); i++) {
                        if (outside.matcher(lines.get(i)).find()) {
                            found.add(ROOT.relativize(file) + ":" + (i + 1) + ": "
                                    + lines.get(i).strip());
                        }
                    }
                }
                return FileVisitResult.CONTINUE;
            }
        });
        assertTrue(found.isEmpty(), "lines that point outside the repository:\n" + String.join("\n", found));
    }

    // ---- reading the repository -----------------------------------------------------------------------------------

    private static List<Path> pages() {
        List<Path> pages = new ArrayList<>();
        pages.add(ROOT.resolve("README.md"));
        try (Stream<Path> docs = Files.list(ROOT.resolve("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return pages;
    }

    /** GitHub's anchors for a page's headings: lower case, punctuation dropped, spaces as '-', repeats numbered. */
    private static Set<String> anchors(Path page) {
        Set<String> anchors = new HashSet<>();
        Map<String, Integer> seen = new HashMap<>();
        boolean inCode = false;
        for (String line : lines(page)) {
            if (line.startsWith("```")) {
                inCode = !inCode;
            } else if (!inCode && line.startsWith("#")) {
                String slug = line.replaceFirst("^#+\\s*", "")
                        .strip()
                        .toLowerCase(Locale.ROOT)
                        .replaceAll("[^\\p{L}\\p{N}_\\- ]", "")
                        .replace(' ', '-');
                int n = seen.merge(slug, 1, Integer::sum);
                anchors.add(n == 1 ? slug : slug + "-" + (n - 1));
            }
        }
        return anchors;
    }

    /**
     * The main sources and the deployment files, where a setting's name is written when the code reads it (tests
     * left out: a test may name what the code does not read).
     */
    private static String repositoryText() {
        Set<String> kinds = Set.of(".yml", ".yaml", ".xml", ".sh", ".properties", ".example");
        StringBuilder text = new StringBuilder();
        try {
            Files.walkFileTree(ROOT, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    String name =
                            dir.getFileName() == null ? "" : dir.getFileName().toString();
                    boolean skip = !dir.equals(ROOT)
                            && (name.startsWith(".") && !name.equals(".ci")
                                    || name.equals("target")
                                    || name.equals("test"));
                    return skip ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    String name = file.getFileName().toString();
                    if (name.endsWith(".java")
                            || name.equals("Dockerfile")
                            || kinds.stream().anyMatch(name::endsWith)) {
                        text.append(read(file)).append('\n');
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }

    private static List<String> lines(Path file) {
        return List.of(read(file).split("\n", -1));
    }

    private static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    private static Path repositoryRoot() {
        Path dir = Path.of("").toAbsolutePath();
        while (dir != null && !Files.isRegularFile(dir.resolve("docker-compose.yml"))) {
            dir = dir.getParent();
        }
        if (dir == null) {
            throw new IllegalStateException(
                    "no docker-compose.yml above " + Path.of("").toAbsolutePath());
        }
        return dir;
    }
}
