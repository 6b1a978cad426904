package dev.thoughtstream.common.config;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Checks every setting a command will use before it starts anything, and reports all the bad ones at once.
 *
 * <p>The settings classes stop at the first bad variable ({@link ConfigException}). To find the others, a check runs a
 * reader again after each failure with the bad variable set aside: unset first, so that its default applies; and when
 * it is required, given a stand-in of a common form (any text, a bot token, an http(s) URL) instead. It stops when the
 * reader passes or makes no more progress. Every variable set aside stays set aside for the readers checked after it,
 * so one bad variable read by several services is reported once.
 *
 * <p>A reader is parsing only: it must not touch the network, the broker or Redis, or start a thread, since it runs
 * once per bad variable. The settings classes' {@code from(Config)} and the factories' {@code validate} are such
 * readers.
 */
public final class ConfigCheck {
    /** A reader has far fewer variables than this; the bound only keeps a misbehaving reader from looping. */
    private static final int MAX_ROUNDS = 500;
    /** What a required variable usually asks for: any text, a bot token ({@code <digits>:<text>}), an http(s) URL. */
    private static final List<String> STAND_INS = List.of("stand-in", "1:stand-in", "https://stand-in.invalid");
    /** Variables whose values a report never repeats, whichever message quotes them. */
    private static final Pattern SECRET_NAME =
            Pattern.compile(".*(TOKEN|SECRET|PASSWORD|PASSWD|API_KEY|JAAS|CREDENTIAL).*|.*_KEY");
    /** Shorter secret values are not searched for in the messages: they would blank out ordinary words. */
    private static final int SHORTEST_REDACTED = 4;

    private final Config config;
    /** The first problem of each variable, by name. */
    private final Map<String, ConfigException> problems = new TreeMap<>();
    /** The value each bad variable is checked with from now on: blank (unset) or a stand-in. */
    private final Map<String, String> setAside = new HashMap<>();
    /** How often each variable failed: 1 = it was unset, 2 on = the stand-ins in turn. */
    private final Map<String, Integer> failures = new HashMap<>();

    private ConfigCheck(Config config) {
        this.config = Objects.requireNonNull(config, "config");
    }

    /** A check of {@code config}, with nothing checked yet. */
    public static ConfigCheck of(Config config) {
        return new ConfigCheck(config);
    }

    /** Runs {@code reader} over the configuration and keeps every problem it finds. */
    public ConfigCheck check(Consumer<Config> reader) {
        for (int round = 0; round < MAX_ROUNDS; round++) {
            try {
                reader.accept(config.with(setAside));
                return this;
            } catch (ConfigException e) {
                if (!setAside(e)) {
                    return this;
                }
            }
        }
        return this;
    }

    /** Records the problem and sets its variable aside for the next round; false when there is nothing left to try. */
    private boolean setAside(ConfigException e) {
        String name = e.variable();
        problems.putIfAbsent(name, e);
        int failed = failures.merge(name, 1, Integer::sum);
        if (failed == 1) {
            setAside.put(name, "");
            return true;
        }
        if (failed - 2 < STAND_INS.size()) {
            setAside.put(name, STAND_INS.get(failed - 2));
            return true;
        }
        return false;
    }

    /** True when no reader found a problem. */
    public boolean passed() {
        return problems.isEmpty();
    }

    /** The bad variables, in alphabetical order. */
    public Set<String> variables() {
        return Collections.unmodifiableSet(problems.keySet());
    }

    /** One line per bad variable, in alphabetical order: its name, what was wrong and what is expected. */
    public List<String> lines() {
        List<String> out = new ArrayList<>();
        problems.forEach((name, e) -> out.add(redacted(withValue(name, e.getMessage()))));
        return out;
    }

    /**
     * What to tell the operator: {@code invalid configuration: NAME: problem} for one bad variable, a line per
     * variable under a heading for several; empty when the check passed.
     */
    public String report() {
        List<String> lines = lines();
        if (lines.isEmpty()) {
            return "";
        }
        if (lines.size() == 1) {
            return "invalid configuration: " + lines.get(0);
        }
        return "invalid configuration, " + lines.size() + " variables to fix:\n  " + String.join("\n  ", lines);
    }

    /** The message, with the value that was given when the message does not quote it already. */
    private String withValue(String name, String message) {
        Optional<String> given = config.given(name).map(String::strip).filter(v -> !v.isEmpty());
        if (given.isEmpty() || message.contains(given.get())) {
            return message;
        }
        // A URL's user part may hold a password (redis://user:password@host): such a value is not repeated either.
        boolean hidden = isSecret(name) || given.get().contains("@");
        return message + (hidden ? " (the value is not shown)" : " (was '" + given.get() + "')");
    }

    /** Every secret's value replaced, wherever a message might quote it. */
    private String redacted(String message) {
        String out = message;
        for (String name : config.names()) {
            if (isSecret(name)) {
                Optional<String> value = config.given(name).map(String::strip);
                if (value.isPresent() && value.get().length() >= SHORTEST_REDACTED) {
                    out = new Secret(value.get()).redact(out);
                }
            }
        }
        return out;
    }

    private static boolean isSecret(String name) {
        return SECRET_NAME.matcher(name).matches();
    }
}
