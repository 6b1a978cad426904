package dev.thoughtstream.ingest.write;

import com.fasterxml.jackson.databind.JsonNode;
import dev.thoughtstream.common.redis.ChatActivity;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the staleness signal: tells {@link ChatActivity} each chat's newest user message once Kafka has it, so the
 * llm-processor and emitter can skip replies a newer message made stale. Never before the acknowledgement (a message
 * that could still be lost must not make a reply stale) and never for an update that was not written (group chatter
 * or a flood must not cancel the bot's reply). See docs/ingest.md.
 */
public final class ActivityRecorder {
    private static final Logger LOG = LoggerFactory.getLogger(ActivityRecorder.class);

    /** Null only for {@link #none()}. */
    private final ChatActivity activity;

    private final AtomicLong recorded = new AtomicLong();
    private final AtomicLong unavailable = new AtomicLong();

    private ActivityRecorder(ChatActivity activity) {
        this.activity = activity;
    }

    /** Records into {@code activity}. */
    public static ActivityRecorder of(ChatActivity activity) {
        return new ActivityRecorder(Objects.requireNonNull(activity, "activity"));
    }

    /** Records nothing: downstream then never sees a chat move on. */
    public static ActivityRecorder none() {
        return new ActivityRecorder(null);
    }

    /**
     * Records the newest {@code message} of each chat among {@code written}, all chats in one call (one round trip on
     * Redis). Edits keep their message's id and supersede nothing, so only {@code message} counts. Redis down:
     * counted and skipped (fail open); downstream then answers what it would have skipped.
     */
    void record(List<JsonNode> written) {
        if (activity == null) {
            return;
        }
        Map<Long, Long> newest = new LinkedHashMap<>();
        int messages = 0;
        for (JsonNode update : written) {
            JsonNode message = update.path("message");
            JsonNode messageId = message.path("message_id");
            JsonNode chatId = message.path("chat").path("id");
            if (!messageId.canConvertToLong() || !chatId.canConvertToLong()) {
                continue;
            }
            newest.merge(chatId.asLong(), messageId.asLong(), Math::max);
            messages++;
        }
        if (newest.isEmpty()) {
            return;
        }
        try {
            activity.recordIngested(newest);
            recorded.addAndGet(messages);
        } catch (RuntimeException e) {
            unavailable.addAndGet(messages);
            LOG.warn(
                    "{} message(s) of {} chat(s) are in Kafka but the staleness signal could not record them ({}); "
                            + "older replies of those chats will not be cancelled for them (chats {})",
                    messages,
                    newest.size(),
                    e.toString(),
                    newest.keySet());
        }
    }

    /** User messages recorded in the staleness signal. */
    public long recorded() {
        return recorded.get();
    }

    /** User messages the staleness signal could not record (Redis errors; each was still written to Kafka). */
    public long unavailable() {
        return unavailable.get();
    }
}
