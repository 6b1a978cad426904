package dev.thoughtstream.testkit.telegram;

import java.util.Locale;

/** The chat types the emulator can create, named as on the wire. */
public enum ChatType {
    PRIVATE,
    GROUP,
    SUPERGROUP;

    /** The Bot API spelling ("private", "group", "supergroup"). */
    public String wire() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses the Bot API spelling; a clear {@link IllegalArgumentException} otherwise. */
    public static ChatType fromWire(String value) {
        for (ChatType type : values()) {
            if (type.wire().equalsIgnoreCase(value)) {
                return type;
            }
        }
        throw new IllegalArgumentException("chatType must be one of private, group, supergroup; was '" + value + "'");
    }
}
