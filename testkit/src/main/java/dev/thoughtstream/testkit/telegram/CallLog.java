package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Locale;

/**
 * The Bot API calls answered, for assertions. Bounded, because the laptop stack runs for hours and a long poll
 * every 50 s adds up; the oldest calls go first.
 */
final class CallLog {
    static final int CAPACITY = 10_000;

    private final Clock clock;
    private final Deque<ApiCall> calls = new ArrayDeque<>();

    CallLog(Clock clock) {
        this.clock = clock;
    }

    synchronized void record(String method, JsonNode params, int status) {
        if (calls.size() == CAPACITY) {
            calls.removeFirst();
        }
        calls.addLast(new ApiCall(method, params, status, clock.millis()));
    }

    /** Calls of one method (case-insensitive), or all calls when {@code method} is null or blank. */
    synchronized List<ApiCall> calls(String method) {
        if (method == null || method.isBlank()) {
            return List.copyOf(calls);
        }
        String wanted = method.toLowerCase(Locale.ROOT);
        return calls.stream().filter(call -> call.method().equals(wanted)).toList();
    }

    synchronized void clear() {
        calls.clear();
    }
}
