package dev.thoughtstream.testkit.telegram;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One Bot API call the emulator answered, for assertions. Recorded when the answer is sent, so a long poll
 * appears when it returns.
 *
 * @param method lower-cased method name, e.g. "sendmessage"
 * @param params the parameters as received (JSON body, form or query string merged into one object)
 * @param status the HTTP status answered (200, or the error code)
 * @param at     epoch millis of the emulator's clock when answered
 */
public record ApiCall(String method, JsonNode params, int status, long at) {

    /** A parameter as text (numbers as their decimal form), or null when absent. */
    public String param(String name) {
        JsonNode value = params.get(name);
        if (value == null || value.isNull()) {
            return null;
        }
        return value.isValueNode() ? value.asText() : value.toString();
    }

    public boolean succeeded() {
        return status == 200;
    }
}
