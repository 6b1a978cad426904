package dev.thoughtstream.bench.faults;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;

/**
 * What one fault did over its rounds.
 *
 * @param scenario     the fault's name
 * @param rounds       how many times it was injected
 * @param messages     the persons' messages written around it (during the fault, just before, and the probes)
 * @param lostMessages messages of which not one bubble of the reply ever arrived
 * @param lostBubbles  bubbles of the expected replies that never arrived
 * @param inDoubt      of the lost bubbles, those the emitter reported as claimed but unconfirmed: its process died
 *                     during the send itself, so it cannot know whether Telegram got the message, and by design
 *                     does not send it again (a missing bubble rather than a doubled one; docs/emitter.md)
 * @param duplicates   bubbles that arrived more than once (each extra copy counts)
 * @param otherBubbles bot messages that belong to no expected reply (an apology, say): reported, not a loss
 * @param recoveriesMs per round: how much longer the first reply after the fault took than the one just before it
 * @param notes        anything else the fault checks (for malformed records: how many reached the dead letters)
 */
public record FaultResult(
        String scenario,
        int rounds,
        int messages,
        int lostMessages,
        int lostBubbles,
        int inDoubt,
        int duplicates,
        int otherBubbles,
        List<Long> recoveriesMs,
        List<String> notes) {

    /**
     * No message lost, no bubble lost other than in doubt, none twice, and every check in the notes passed. A bubble
     * in doubt is the emitter's documented choice for a send that its death interrupted; it is shown apart.
     */
    public boolean clean() {
        return lostMessages == 0
                && lostBubbles == inDoubt
                && duplicates == 0
                && problems().isEmpty();
    }

    /** The notes that report a failed check (they start with "FAILED"). */
    public List<String> problems() {
        return notes.stream().filter(n -> n.startsWith(FAILED)).toList();
    }

    static final String FAILED = "FAILED";

    public long recoveryP50Ms() {
        List<Long> sorted = sorted();
        return sorted.isEmpty() ? 0 : sorted.get((sorted.size() - 1) / 2);
    }

    public long recoveryMaxMs() {
        List<Long> sorted = sorted();
        return sorted.isEmpty() ? 0 : sorted.get(sorted.size() - 1);
    }

    private List<Long> sorted() {
        List<Long> sorted = new ArrayList<>(recoveriesMs);
        Collections.sort(sorted);
        return sorted;
    }

    /** The results as a plain-text table, one row per fault, then the notes. */
    public static String table(List<FaultResult> results) {
        StringBuilder out = new StringBuilder();
        String format = "%-26s %6s %8s %13s %12s %8s %10s %7s %13s %13s%n";
        out.append(String.format(
                Locale.ROOT,
                format,
                "scenario",
                "rounds",
                "messages",
                "lost messages",
                "lost bubbles",
                "in doubt",
                "duplicates",
                "other",
                "recovery p50",
                "recovery max"));
        for (FaultResult r : results) {
            out.append(String.format(
                    Locale.ROOT,
                    format,
                    r.scenario(),
                    r.rounds(),
                    r.messages(),
                    r.lostMessages(),
                    r.lostBubbles(),
                    r.inDoubt(),
                    r.duplicates(),
                    r.otherBubbles(),
                    seconds(r.recoveryP50Ms()),
                    seconds(r.recoveryMaxMs())));
        }
        for (FaultResult r : results) {
            for (String note : r.notes()) {
                out.append(r.scenario()).append(": ").append(note).append('\n');
            }
        }
        return out.toString();
    }

    private static String seconds(long ms) {
        return String.format(Locale.ROOT, "%.2f s", ms / 1000.0);
    }
}
