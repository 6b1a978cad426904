package dev.thoughtstream.common.config;

import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Variables that look like a misspelt name the code reads ({@code TOPIC_PARTITON} for {@code TOPIC_PARTITIONS}): set,
 * read by nothing, and one or two letters away from a name that is read. Anything further away is left alone, since
 * an environment holds many variables that are none of ours.
 */
public final class Typos {
    /** Two edits: a letter missing and one swapped, say. */
    private static final int MAX_DISTANCE = 2;
    /** Short names are all close to each other. */
    private static final int SHORTEST = 6;

    private Typos() {}

    /**
     * Each variable in {@code given} that nothing reads and that is close to one in {@code read}, with that name. A
     * prefix lookup in {@code read} ({@code KAFKA_CLIENT_*}) reads every name it matches.
     */
    public static Map<String, String> among(Set<String> given, Set<String> read) {
        Map<String, String> suspects = new TreeMap<>();
        for (String name : given) {
            if (name.length() < SHORTEST || isRead(name, read)) {
                continue;
            }
            for (String known : read) {
                if (!known.endsWith("*") && distance(name, known) <= MAX_DISTANCE) {
                    suspects.put(name, known);
                    break;
                }
            }
        }
        return suspects;
    }

    private static boolean isRead(String name, Set<String> read) {
        for (String r : read) {
            if (r.equals(name) || (r.endsWith("*") && name.startsWith(r.substring(0, r.length() - 1)))) {
                return true;
            }
        }
        return false;
    }

    /** Levenshtein distance, stopping early past {@link #MAX_DISTANCE}. */
    static int distance(String a, String b) {
        if (Math.abs(a.length() - b.length()) > MAX_DISTANCE) {
            return MAX_DISTANCE + 1;
        }
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int substitution = previous[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1);
                current[j] = Math.min(substitution, Math.min(previous[j], current[j - 1]) + 1);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }
}
