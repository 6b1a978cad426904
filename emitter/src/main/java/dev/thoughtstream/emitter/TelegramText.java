package dev.thoughtstream.emitter;

import java.util.ArrayList;
import java.util.List;

/**
 * PLACEHOLDER, written on the emitter-lanes branch only so that the lanes compile and their 4096 split test runs.
 * The emitter-send branch owns the real {@code TelegramText} (splitting at paragraph or sentence boundaries); when
 * the branches are merged, that one is kept and this file is dropped. Only {@link #split(String, int)} is used here.
 */
final class TelegramText {
    private TelegramText() {}

    /**
     * Splits {@code text} into pieces of at most {@code maxChars} UTF-16 units (Telegram's count), preferring a
     * paragraph break, then a line break, then a sentence end, then a space; never inside a surrogate pair. A text
     * that fits is returned as it is.
     */
    static List<String> split(String text, int maxChars) {
        if (maxChars < 2) {
            throw new IllegalArgumentException("maxChars must be at least 2");
        }
        List<String> pieces = new ArrayList<>();
        String rest = text;
        while (rest.length() > maxChars) {
            int cut = cutPoint(rest, maxChars);
            String piece = rest.substring(0, cut).stripTrailing();
            if (!piece.isEmpty()) {
                pieces.add(piece);
            }
            rest = rest.substring(cut).stripLeading();
        }
        if (!rest.isEmpty() || pieces.isEmpty()) {
            pieces.add(rest);
        }
        return pieces;
    }

    private static int cutPoint(String text, int maxChars) {
        String window = text.substring(0, maxChars);
        int half = maxChars / 2;
        for (String boundary : new String[] {"\n\n", "\n", ". ", "! ", "? ", " "}) {
            int at = window.lastIndexOf(boundary);
            if (at >= half) {
                return at + boundary.length();
            }
        }
        return Character.isHighSurrogate(text.charAt(maxChars - 1)) ? maxChars - 1 : maxChars;
    }
}
