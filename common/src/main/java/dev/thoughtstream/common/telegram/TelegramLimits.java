package dev.thoughtstream.common.telegram;

/** Telegram's limits that more than one stage must respect, stated once. */
public final class TelegramLimits {
    /**
     * The longest text of one message: sendMessage's {@code text} is "1-4096 characters after entities parsing"
     * (Bot API, sendMessage). We count UTF-16 code units ({@link String#length()}), the unit the Bot API uses for
     * entity offsets; they are never fewer than code points, so a text that fits by our count fits by either.
     * Incoming texts obey the same limit.
     */
    public static final int MAX_MESSAGE_CHARS = 4096;

    private TelegramLimits() {}
}
