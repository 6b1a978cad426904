package dev.thoughtstream.llm.generate;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits an answer into reply parts, one chat bubble each: first at blank lines (the system prompt asks the model
 * to separate its messages that way), then, for a paragraph longer than {@link #maxPartChars()}, at the last
 * sentence end or line break that fits, else at the last whitespace, else hard. Parts are trimmed, empty parts are
 * dropped, and no part is ever longer than the limit.
 *
 * <p>{@link StreamingPartSplitter} produces exactly the same parts from token deltas; both share the static
 * helpers below, which is what keeps them equal.
 */
public final class PartSplitter {
    /** {@link #blankLineEnd} found no blank line at that newline. */
    static final int NONE = -1;
    /** {@link #blankLineEnd} ran out of text before it could decide. */
    static final int UNDECIDED = -2;

    private final int maxPartChars;

    public PartSplitter(int maxPartChars) {
        if (maxPartChars < 1) {
            throw new IllegalArgumentException("maxPartChars must be >= 1 but was " + maxPartChars);
        }
        this.maxPartChars = maxPartChars;
    }

    public int maxPartChars() {
        return maxPartChars;
    }

    public List<String> split(String text) {
        List<String> out = new ArrayList<>();
        if (text == null) {
            return out;
        }
        int paragraphStart = 0;
        int i = 0;
        while (i < text.length()) {
            if (text.charAt(i) == '\n') {
                int end = blankLineEnd(text, i);
                if (end >= 0) {
                    splitParagraph(text.substring(paragraphStart, i), maxPartChars, out);
                    paragraphStart = end;
                    i = end;
                    continue;
                }
            }
            i++;
        }
        splitParagraph(text.substring(paragraphStart), maxPartChars, out);
        return out;
    }

    /**
     * If the newline at {@code newline} starts a blank line (a newline, optional non-newline whitespace, another
     * newline), the index just after it; else {@link #NONE}, or {@link #UNDECIDED} when the text ends first.
     */
    static int blankLineEnd(CharSequence s, int newline) {
        for (int j = newline + 1; j < s.length(); j++) {
            char c = s.charAt(j);
            if (c == '\n') {
                return j + 1;
            }
            if (!Character.isWhitespace(c)) {
                return NONE;
            }
        }
        return UNDECIDED;
    }

    /** Adds the parts of one paragraph (text without blank lines) to {@code out}. */
    static void splitParagraph(String paragraph, int max, List<String> out) {
        String rest = paragraph.strip();
        while (rest.length() > max) {
            int cut = cutPoint(rest, max);
            out.add(rest.substring(0, cut).stripTrailing());
            rest = rest.substring(cut).stripLeading();
        }
        if (!rest.isEmpty()) {
            out.add(rest);
        }
    }

    /**
     * Where to end the first part of {@code s}, which starts with a non-whitespace character and is longer than
     * {@code max}: the result {@code c} is in {@code [1, max]}, and {@code s[0, c)} stripped is never empty.
     * Only {@code s[0, max]} is read, which is what lets the streaming splitter cut before the paragraph ends.
     */
    static int cutPoint(CharSequence s, int max) {
        int lastWhitespace = -1;
        for (int i = max; i >= 1; i--) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                if (c == '\n' || endsSentence(s, i)) {
                    return i;
                }
                if (lastWhitespace < 0) {
                    lastWhitespace = i;
                }
            }
        }
        if (lastWhitespace > 0) {
            return lastWhitespace;
        }
        // One very long word: cut hard, but keep a surrogate pair (an emoji, say) together when it can fit.
        if (max > 1 && Character.isHighSurrogate(s.charAt(max - 1)) && Character.isLowSurrogate(s.charAt(max))) {
            return max - 1;
        }
        return max;
    }

    /** True when the text before the whitespace at {@code i} ends a sentence, allowing a closing quote or bracket. */
    private static boolean endsSentence(CharSequence s, int i) {
        char before = s.charAt(i - 1);
        if (isSentenceEnd(before)) {
            return true;
        }
        return i >= 2 && isClosing(before) && isSentenceEnd(s.charAt(i - 2));
    }

    private static boolean isSentenceEnd(char c) {
        return c == '.' || c == '!' || c == '?' || c == '\u2026';
    }

    private static boolean isClosing(char c) {
        return c == '"' || c == '\'' || c == ')' || c == ']' || c == '\u00BB' || c == '\u201D' || c == '\u2019';
    }
}
