package dev.thoughtstream.ops.trace;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A chat's trace.
 *
 * @param chatId     the chat
 * @param partitions the one partition read on each topic (where the producer's partitioner puts the chat's key)
 * @param sinceMs    the start of the window (epoch ms), null for everything retained
 * @param events     every record of the chat, oldest first
 * @param thoughts   each thought of the window with its reply and the time between stages
 */
public record Timeline(
        long chatId,
        Map<String, Integer> partitions,
        Long sinceMs,
        List<TraceEvent> events,
        List<ThoughtTrace> thoughts) {
    public Timeline {
        partitions = Collections.unmodifiableMap(new LinkedHashMap<>(partitions));
        events = List.copyOf(events);
        thoughts = List.copyOf(thoughts);
    }
}
