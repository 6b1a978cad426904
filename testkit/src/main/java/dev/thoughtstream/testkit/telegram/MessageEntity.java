package dev.thoughtstream.testkit.telegram;

import java.util.Objects;

/**
 * A Telegram MessageEntity: formatting or a special span of a message's text, offsets in UTF-16 code units
 * (which is exactly Java's {@code String} indexing).
 *
 * @param type     e.g. {@code bot_command}, {@code bold}, {@code text_link}
 * @param offset   start in UTF-16 code units
 * @param length   length in UTF-16 code units
 * @param url      for {@code text_link} only, otherwise null
 * @param language for {@code pre} with a language only, otherwise null
 */
public record MessageEntity(String type, int offset, int length, String url, String language) {
    public MessageEntity {
        Objects.requireNonNull(type, "type");
        if (offset < 0 || length < 0) {
            throw new IllegalArgumentException("entity offset and length must not be negative");
        }
    }

    public static MessageEntity of(String type, int offset, int length) {
        return new MessageEntity(type, offset, length, null, null);
    }
}
