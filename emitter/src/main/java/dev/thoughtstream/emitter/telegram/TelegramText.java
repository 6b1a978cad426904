package dev.thoughtstream.emitter.telegram;

import dev.thoughtstream.common.telegram.TelegramLimits;
import java.util.ArrayList;
import java.util.List;

/**
 * How a reply part over Telegram's limit ({@link TelegramLimits#MAX_MESSAGE_CHARS}) becomes several messages.
 *
 * <p>Length is counted in UTF-16 code units ({@link String#length()}; an emoji outside the Basic Multilingual
 * Plane counts 2): Telegram documents entity offsets and lengths in code units, and the testkit's emulator checks
 * the 4096 limit that way. Code units are never fewer than code points, so a piece that fits here fits whichever
 * of the two Telegram's limit counts. With a parse mode Telegram counts the text after entity parsing, which is
 * shorter than the markup counted here: splitting by the raw length is conservative.
 */
public final class TelegramText {
    private static final int ZERO_WIDTH_JOINER = 0x200D;

    private TelegramText() {}

    /**
     * Splits {@code text} into messages of at most {@code maxChars} UTF-16 code units. A text that fits is
     * returned whole (trimmed), even when it has several paragraphs: splitting is for the limit, not for style.
     * A longer one is cut, in this order of preference, at the last blank line (paragraph break) that fits, at
     * the last sentence end or line break, at the last whitespace, or hard. A hard cut never falls inside a
     * surrogate pair and, where the piece can still be non-empty, not before a combining mark, a variation
     * selector, an emoji modifier, around a zero-width joiner, nor between the two halves of a flag.
     *
     * <p>Pieces are trimmed, never empty, never longer than {@code maxChars}, and in order; joined with the
     * whitespace found at the cuts they give back the trimmed text.
     *
     * @param text     may be null or blank (no pieces)
     * @param maxChars at least 2, so that a surrogate pair always fits
     */
    public static List<String> split(String text, int maxChars) {
        if (maxChars < 2) {
            throw new IllegalArgumentException("maxChars must be >= 2 (a surrogate pair must fit) but was " + maxChars);
        }
        List<String> pieces = new ArrayList<>();
        if (text == null) {
            return pieces;
        }
        String rest = text.strip();
        while (rest.length() > maxChars) {
            int cut = cutPoint(rest, maxChars);
            pieces.add(rest.substring(0, cut).stripTrailing());
            rest = rest.substring(cut).stripLeading();
        }
        if (!rest.isEmpty()) {
            pieces.add(rest);
        }
        return pieces;
    }

    /**
     * Where the first piece of {@code s} ends: {@code s} starts with non-whitespace and is longer than
     * {@code max}; the result {@code c} is in {@code [1, max]}, so {@code s[0, c)} is non-empty once trimmed.
     */
    static int cutPoint(String s, int max) {
        int paragraph = -1;
        int sentence = -1;
        int space = -1;
        // s.charAt(max) exists (s is longer than max): a boundary right at the limit still counts.
        for (int c = max; c >= 1 && paragraph < 0; c--) {
            char at = s.charAt(c);
            if (at == '\n' && startsBlankLine(s, c)) {
                paragraph = c;
            } else if (sentence < 0
                    && (at == '\n'
                            || (Character.isWhitespace(at) && endsSentence(s, c))
                            || endsSentenceWithoutSpace(s.charAt(c - 1)))) {
                sentence = c;
            } else if (space < 0 && Character.isWhitespace(at)) {
                space = c;
            }
        }
        if (paragraph > 0) {
            return paragraph;
        }
        if (sentence > 0) {
            return sentence;
        }
        if (space > 0) {
            return space;
        }
        return hardCut(s, max);
    }

    /** True when the newline at {@code i} is followed, after blanks only, by another line break. */
    private static boolean startsBlankLine(String s, int i) {
        for (int j = i + 1; j < s.length(); j++) {
            char c = s.charAt(j);
            if (c == '\n') {
                return true;
            }
            if (!Character.isWhitespace(c)) {
                return false;
            }
        }
        return false;
    }

    /** True when the text before the whitespace at {@code i} ends a sentence, allowing a closing quote/bracket. */
    private static boolean endsSentence(String s, int i) {
        char before = s.charAt(i - 1);
        if (isSentenceEnd(before)) {
            return true;
        }
        return i >= 2 && isClosing(before) && isSentenceEnd(s.charAt(i - 2));
    }

    private static boolean isSentenceEnd(char c) {
        return c == '.' || c == '!' || c == '?' || c == '\u2026' || endsSentenceWithoutSpace(c);
    }

    /** Chinese and Japanese full stops: the next sentence follows without a space. */
    private static boolean endsSentenceWithoutSpace(char c) {
        return c == '\u3002' || c == '\uFF01' || c == '\uFF1F';
    }

    private static boolean isClosing(char c) {
        return c == '"' || c == '\'' || c == ')' || c == ']' || c == '\u00BB' || c == '\u201D' || c == '\u2019';
    }

    /** A cut inside one long "word": at the limit, moved back so that no character is broken apart. */
    private static int hardCut(String s, int max) {
        int cut = max;
        if (Character.isLowSurrogate(s.charAt(cut)) && Character.isHighSurrogate(s.charAt(cut - 1))) {
            cut--;
        }
        int safe = cut;
        while (cut > 0 && joinsPrevious(s, cut)) {
            cut = s.offsetByCodePoints(cut, -1);
        }
        // A "character" longer than the whole limit cannot be kept together; the surrogate-safe cut must do.
        return cut > 0 ? cut : safe;
    }

    /** True when the code point at {@code i} and the one before it belong to one visible character. */
    private static boolean joinsPrevious(String s, int i) {
        int at = s.codePointAt(i);
        int before = s.codePointBefore(i);
        if (at == ZERO_WIDTH_JOINER || before == ZERO_WIDTH_JOINER) {
            return true;
        }
        int type = Character.getType(at);
        if (type == Character.NON_SPACING_MARK
                || type == Character.ENCLOSING_MARK
                || type == Character.COMBINING_SPACING_MARK) {
            return true;
        }
        if ((at >= 0xFE00 && at <= 0xFE0F)
                || (at >= 0xE0100 && at <= 0xE01EF) // variation selectors
                || (at >= 0x1F3FB && at <= 0x1F3FF) // emoji skin tone modifiers
                || (at >= 0xE0020 && at <= 0xE007F)) { // emoji tag sequences (subdivision flags)
            return true;
        }
        return isRegionalIndicator(at) && isRegionalIndicator(before) && oddRegionalIndicatorsBefore(s, i);
    }

    private static boolean isRegionalIndicator(int codePoint) {
        return codePoint >= 0x1F1E6 && codePoint <= 0x1F1FF;
    }

    /** A flag is a pair of regional indicators: cutting after an odd count of them splits one. */
    private static boolean oddRegionalIndicatorsBefore(String s, int i) {
        int count = 0;
        int j = i;
        while (j > 0 && isRegionalIndicator(s.codePointBefore(j))) {
            count++;
            j = s.offsetByCodePoints(j, -1);
        }
        return count % 2 == 1;
    }
}
