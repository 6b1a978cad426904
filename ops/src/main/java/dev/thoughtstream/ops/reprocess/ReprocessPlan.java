package dev.thoughtstream.ops.reprocess;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What {@code thoughtstream reprocess} does, decided before it does anything (and all that {@code --dry-run} does).
 *
 * @param group          the chunker's Streams application id, which is its group id
 * @param protocol       {@code classic} or {@code streams}: which Admin calls describe the group and set its offsets
 * @param groupState     the group's state as the broker reports it ({@code absent} when it has none)
 * @param members        the group's members now; a run refuses unless this is 0
 * @param from           what {@code --from} resolved to, as given
 * @param resets         every input partition: where the group is, and where it will start
 * @param internalTopics the changelog and repartition topics deleted, so the rebuilt stores start empty
 * @param stateDir       the local directory cleared ({@code <STREAMS_STATE_DIR>/<application id>})
 * @param stateDirExists whether it exists on this machine
 * @param emit           what the rebuilt chunker sends for the input it processes again
 * @param fenceTopic     where the fence is written
 * @param fence          topic → partition → first offset answered again ({@code --emit none}); empty clears an older
 *                       fence ({@code --emit thoughts})
 */
public record ReprocessPlan(
        String group,
        String protocol,
        String groupState,
        int members,
        String from,
        List<PartitionReset> resets,
        List<String> internalTopics,
        Path stateDir,
        boolean stateDirExists,
        Emit emit,
        String fenceTopic,
        Map<String, Map<Integer, Long>> fence) {

    /**
     * @param committed the group's committed offset, null if it has none
     * @param target    where the group starts after the reset
     * @param reason    why there: the first record at or after --from, or the end when there is none
     */
    public record PartitionReset(String topic, int partition, Long committed, long target, String reason) {}

    public String text() {
        StringBuilder out = new StringBuilder();
        out.append("reprocess the chunker's state from ")
                .append(from)
                .append('\n')
                .append("group ")
                .append(group)
                .append(" (")
                .append(protocol)
                .append(" protocol, ")
                .append(groupState)
                .append(", ")
                .append(members)
                .append(members == 1 ? " member" : " members")
                .append(")\n\n");
        out.append("input offsets (committed -> new):\n");
        for (PartitionReset r : resets) {
            out.append("  ")
                    .append(r.topic())
                    .append('-')
                    .append(r.partition())
                    .append(": ")
                    .append(r.committed() == null ? "none" : r.committed().toString())
                    .append(" -> ")
                    .append(r.target())
                    .append("  (")
                    .append(r.reason())
                    .append(")\n");
        }
        out.append("\ninternal topics deleted (the chunker recreates them and refills them from the input):\n");
        if (internalTopics.isEmpty()) {
            out.append("  (none exist)\n");
        }
        internalTopics.forEach(t -> out.append("  ").append(t).append('\n'));
        out.append("\nlocal state directory cleared: ")
                .append(stateDir)
                .append(stateDirExists ? "" : " (not on this machine)")
                .append('\n');
        out.append("\nreprocess fence on ").append(fenceTopic).append(": ");
        if (emit == Emit.NONE) {
            out.append("--emit none, no thought or direct reply is sent for input below\n");
            new TreeMap<>(fence)
                    .forEach((topic, partitions) -> new TreeMap<>(partitions)
                            .forEach((p, o) -> out.append("  ")
                                    .append(topic)
                                    .append('-')
                                    .append(p)
                                    .append(" < ")
                                    .append(o)
                                    .append('\n')));
        } else {
            out.append("--emit thoughts, cleared: every thought and direct reply is sent again (people whose "
                    + "answers are no longer claimed downstream are answered twice)\n");
        }
        return out.toString();
    }
}
