package dev.thoughtstream.common.tracing;

import io.opentelemetry.api.common.AttributeKey;

/**
 * The attributes thoughtstream puts on its spans: its own ids (the same the logs carry as {@code chat_id},
 * {@code thought_id}, {@code reply_id}) and the OpenTelemetry semantic conventions' messaging and GenAI names. Never
 * a secret, never a person's text.
 */
public final class TraceAttributes {
    public static final AttributeKey<Long> CHAT_ID = AttributeKey.longKey("thoughtstream.chat_id");
    public static final AttributeKey<String> THOUGHT_ID = AttributeKey.stringKey("thoughtstream.thought_id");
    public static final AttributeKey<String> REPLY_ID = AttributeKey.stringKey("thoughtstream.reply_id");
    public static final AttributeKey<Long> UPDATE_ID = AttributeKey.longKey("thoughtstream.update_id");
    public static final AttributeKey<Long> MESSAGE_ID = AttributeKey.longKey("thoughtstream.message_id");
    public static final AttributeKey<Long> PART_SEQ = AttributeKey.longKey("thoughtstream.part.seq");
    public static final AttributeKey<String> OUTCOME = AttributeKey.stringKey("thoughtstream.outcome");

    public static final AttributeKey<String> MESSAGING_SYSTEM = AttributeKey.stringKey("messaging.system");
    public static final AttributeKey<String> MESSAGING_DESTINATION =
            AttributeKey.stringKey("messaging.destination.name");
    public static final AttributeKey<String> MESSAGING_OPERATION = AttributeKey.stringKey("messaging.operation.type");

    private TraceAttributes() {}
}
