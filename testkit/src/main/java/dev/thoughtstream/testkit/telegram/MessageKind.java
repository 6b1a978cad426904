package dev.thoughtstream.testkit.telegram;

import java.util.Locale;

/** What a person can send to the bot through the emulator. */
public enum MessageKind {
    TEXT,
    PHOTO,
    STICKER,
    VOICE,
    DOCUMENT;

    /** Lower-case name as used by the control API and the transcript. */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@link #wire()}; a clear {@link IllegalArgumentException} otherwise. */
    public static MessageKind fromWire(String value) {
        for (MessageKind kind : values()) {
            if (kind.wire().equalsIgnoreCase(value)) {
                return kind;
            }
        }
        throw new IllegalArgumentException(
                "kind must be one of text, photo, sticker, voice, document; was '" + value + "'");
    }
}
