package dev.thoughtstream.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.SafeConstructor;

/**
 * What a compose file gives each service: its {@code environment} (with the {@code env_file}s it names) and its
 * {@code command}, interpolated from a project environment ({@code .env}) the way {@code docker compose} does it.
 * Only what the process tests and the fault suite need; the file itself is the one the project ships.
 *
 * <p>Interpolation follows the Compose Specification ("Interpolation" in compose-spec's spec.md):
 * {@code $VAR} and {@code ${VAR}}; {@code ${VAR:-default}} (unset or empty) and {@code ${VAR-default}} (unset);
 * {@code ${VAR:?error}} and {@code ${VAR?error}}, which fail; {@code ${VAR:+replacement}} and
 * {@code ${VAR+replacement}}; {@code $$} for a literal {@code $}; defaults may themselves hold interpolations.
 * YAML anchors, aliases and merge keys ({@code <<: *common}) are resolved by SnakeYAML.
 */
public final class ComposeFile {
    private final Map<String, Object> services;
    private final Path directory;

    private ComposeFile(Map<String, Object> services, Path directory) {
        this.services = services;
        this.directory = directory;
    }

    static ComposeFile read(Path file) {
        try {
            return parse(
                    Files.readString(file, StandardCharsets.UTF_8),
                    file.toAbsolutePath().getParent());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** {@code directory}: where relative {@code env_file} paths are resolved. */
    @SuppressWarnings("unchecked")
    static ComposeFile parse(String yaml, Path directory) {
        Object root = new Yaml(new SafeConstructor(new LoaderOptions())).load(yaml);
        if (!(root instanceof Map<?, ?> top) || !(top.get("services") instanceof Map<?, ?> s)) {
            throw new IllegalArgumentException("not a compose file: no 'services' mapping");
        }
        return new ComposeFile((Map<String, Object>) s, directory);
    }

    Set<String> services() {
        return services.keySet();
    }

    /**
     * The container environment of {@code service}: its {@code env_file}s in order, then {@code environment}
     * (which wins), every value interpolated from {@code project}. An {@code env_file} named {@code .env} is
     * {@code project} itself (the test supplies the project's {@code .env}).
     *
     * @throws IllegalArgumentException for a {@code ${VAR:?message}} whose variable is missing, naming it
     */
    Map<String, String> environment(String service, Map<String, String> project) {
        Map<String, Object> definition = service(service);
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvFile f : envFiles(definition.get("env_file"))) {
            if (f.path().equals(".env") || f.path().equals("./.env")) {
                env.putAll(project);
                continue;
            }
            Path path = directory.resolve(f.path());
            if (!Files.exists(path)) {
                if (f.required()) {
                    throw new IllegalArgumentException(service + ": env_file " + path + " does not exist");
                }
                continue;
            }
            env.putAll(dotenv(path));
        }
        Object environment = definition.get("environment");
        if (environment instanceof Map<?, ?> map) {
            for (Map.Entry<?, ?> e : map.entrySet()) {
                put(
                        env,
                        String.valueOf(e.getKey()),
                        e.getValue() == null ? null : scalar(e.getValue()),
                        project,
                        service);
            }
        } else if (environment instanceof List<?> list) {
            for (Object item : list) {
                String entry = String.valueOf(item);
                int eq = entry.indexOf('=');
                put(
                        env,
                        eq < 0 ? entry : entry.substring(0, eq),
                        eq < 0 ? null : entry.substring(eq + 1),
                        project,
                        service);
            }
        } else if (environment != null) {
            throw new IllegalArgumentException(service + ": environment is neither a mapping nor a list");
        }
        return env;
    }

    /** The service's {@code command} as arguments, interpolated; empty when it has none. */
    List<String> command(String service, Map<String, String> project) {
        Object command = service(service).get("command");
        if (command == null) {
            return List.of();
        }
        if (command instanceof List<?> list) {
            return list.stream()
                    .map(a -> interpolate(scalar(a), project, service))
                    .toList();
        }
        // The shell form is split on whitespace by compose too (no shell runs it).
        return List.of(interpolate(scalar(command), project, service).strip().split("\\s+"));
    }

    /** The service's {@code profiles}; a service with none always runs. */
    List<String> profiles(String service) {
        Object profiles = service(service).get("profiles");
        return profiles instanceof List<?> list
                ? list.stream().map(String::valueOf).toList()
                : List.of();
    }

    /**
     * The service's {@code volumes} in the short syntax ({@code source:target[:mode]}), uninterpolated; the long
     * syntax is written back in it.
     */
    List<String> volumes(String service) {
        Object volumes = service(service).get("volumes");
        if (!(volumes instanceof List<?> list)) {
            return List.of();
        }
        return list.stream()
                .map(v -> v instanceof Map<?, ?> m
                        ? m.get("source") + ":" + m.get("target")
                                + (Boolean.TRUE.equals(m.get("read_only")) ? ":ro" : "")
                        : String.valueOf(v))
                .toList();
    }

    private static void put(
            Map<String, String> env, String name, String value, Map<String, String> project, String service) {
        if (value == null) {
            // "KEY" without a value passes the project environment's value through, or leaves the variable unset.
            if (project.containsKey(name)) {
                env.put(name, project.get(name));
            } else {
                env.remove(name);
            }
            return;
        }
        env.put(name, interpolate(value, project, service + "." + name));
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> service(String service) {
        Object definition = services.get(service);
        if (!(definition instanceof Map<?, ?>)) {
            throw new IllegalArgumentException(
                    "the compose file has no service '" + service + "' (it has " + services.keySet() + ")");
        }
        return (Map<String, Object>) definition;
    }

    private record EnvFile(String path, boolean required) {}

    private static List<EnvFile> envFiles(Object spec) {
        List<EnvFile> files = new ArrayList<>();
        if (spec instanceof String s) {
            files.add(new EnvFile(s, true));
        } else if (spec instanceof List<?> list) {
            for (Object item : list) {
                if (item instanceof Map<?, ?> m) {
                    files.add(new EnvFile(String.valueOf(m.get("path")), !Boolean.FALSE.equals(m.get("required"))));
                } else {
                    files.add(new EnvFile(String.valueOf(item), true));
                }
            }
        }
        return files;
    }

    /** A YAML scalar as compose reads it: numbers and booleans as written. */
    private static String scalar(Object value) {
        return String.valueOf(value);
    }

    /** {@code NAME=value} lines; {@code #} comments and blank lines skipped, one level of quotes removed. */
    static Map<String, String> dotenv(Path file) {
        Map<String, String> values = new LinkedHashMap<>();
        try {
            for (String raw : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                String line = raw.strip();
                if (line.isEmpty() || line.startsWith("#")) {
                    continue;
                }
                if (line.startsWith("export ")) {
                    line = line.substring("export ".length()).strip();
                }
                int eq = line.indexOf('=');
                if (eq <= 0) {
                    continue;
                }
                String value = line.substring(eq + 1).strip();
                if (value.length() >= 2
                        && (value.startsWith("\"") && value.endsWith("\"")
                                || value.startsWith("'") && value.endsWith("'"))) {
                    value = value.substring(1, value.length() - 1);
                }
                values.put(line.substring(0, eq).strip(), value);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
        return values;
    }

    /**
     * {@code text} with every interpolation resolved from {@code project}.
     *
     * @param where names the value in an error ("emitter.TG_BOT_TOKEN")
     */
    static String interpolate(String text, Map<String, String> project, String where) {
        StringBuilder out = new StringBuilder();
        int i = 0;
        while (i < text.length()) {
            char c = text.charAt(i);
            if (c != '$' || i + 1 >= text.length()) {
                out.append(c);
                i++;
                continue;
            }
            char next = text.charAt(i + 1);
            if (next == '$') {
                out.append('$');
                i += 2;
            } else if (next == '{') {
                int end = closingBrace(text, i + 2, where);
                out.append(expression(text.substring(i + 2, end), project, where));
                i = end + 1;
            } else if (Character.isLetter(next) || next == '_') {
                int end = i + 1;
                while (end < text.length()
                        && (Character.isLetterOrDigit(text.charAt(end)) || text.charAt(end) == '_')) {
                    end++;
                }
                out.append(project.getOrDefault(text.substring(i + 1, end), ""));
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    private static int closingBrace(String text, int from, String where) {
        int depth = 1;
        for (int j = from; j < text.length(); j++) {
            char c = text.charAt(j);
            if (c == '{') {
                depth++;
            } else if (c == '}' && --depth == 0) {
                return j;
            }
        }
        throw new IllegalArgumentException(where + ": unterminated ${ in '" + text + "'");
    }

    private static String expression(String expr, Map<String, String> project, String where) {
        int op = 0;
        while (op < expr.length() && (Character.isLetterOrDigit(expr.charAt(op)) || expr.charAt(op) == '_')) {
            op++;
        }
        String name = expr.substring(0, op);
        if (name.isEmpty()) {
            throw new IllegalArgumentException(where + ": invalid interpolation ${" + expr + "}");
        }
        String value = project.get(name);
        boolean set = value != null;
        boolean nonEmpty = set && !value.isEmpty();
        if (op == expr.length()) {
            return set ? value : "";
        }
        boolean colon = expr.charAt(op) == ':';
        int kindAt = colon ? op + 1 : op;
        if (kindAt >= expr.length()) {
            throw new IllegalArgumentException(where + ": invalid interpolation ${" + expr + "}");
        }
        char kind = expr.charAt(kindAt);
        String argument = expr.substring(kindAt + 1);
        boolean present = colon ? nonEmpty : set;
        return switch (kind) {
            case '-' -> present ? value : interpolate(argument, project, where);
            case '+' -> present ? interpolate(argument, project, where) : "";
            case '?' -> {
                if (!present) {
                    throw new IllegalArgumentException(
                            where + " needs " + name + ": " + interpolate(argument, project, where));
                }
                yield value;
            }
            default -> throw new IllegalArgumentException(where + ": invalid interpolation ${" + expr + "}");
        };
    }
}
