package dev.thoughtstream.chunker.thought;

import java.util.Locale;
import java.util.Set;

/**
 * Whether a message looks unfinished, so that the person is probably still typing the rest of the thought: the
 * seed's "conditions". Such a message extends its thought's wait by {@code CHUNK_CONTINUATION_MS}.
 *
 * <p>A message looks unfinished when, ignoring trailing whitespace and emoji, it ends with
 * <ul>
 *   <li>a comma, colon or semicolon ({@code , : ;});</li>
 *   <li>a dash: hyphen-minus, en dash or em dash ({@code - – —});</li>
 *   <li>an ellipsis ({@code ...} or {@code …});</li>
 *   <li>or a dangling connective: one of {@link #DANGLING_WORDS}, case-insensitive, as the last word.</li>
 * </ul>
 * Emoji are ignored because they decorate rather than end a sentence ("and 😅" is as unfinished as "and"), and a
 * word followed by punctuation is not dangling ("and." ends there). A false positive costs only the extra wait;
 * a false negative splits a thought in two, so the word list leans towards words that rarely end a sentence.
 */
public final class Continuation {
    /**
     * English words that rarely end a finished sentence: articles, conjunctions, prepositions that need an
     * object, possessives. The only place the list lives.
     */
    public static final Set<String> DANGLING_WORDS = Set.of(
            "a",
            "an",
            "the",
            "and",
            "or",
            "but",
            "so",
            "nor",
            "plus",
            "also",
            "then",
            "because",
            "cause",
            "cuz",
            "coz",
            "bc",
            "like",
            "if",
            "when",
            "whether",
            "while",
            "unless",
            "although",
            "whereas",
            "than",
            "with",
            "without",
            "to",
            "of",
            "for",
            "from",
            "about",
            "into",
            "onto",
            "my",
            "your",
            "our",
            "their",
            "which",
            "whose");

    private Continuation() {}

    public static boolean looksUnfinished(String text) {
        int end = endIgnoringWhitespaceAndEmoji(text);
        if (end == 0) {
            return false;
        }
        int last = text.codePointBefore(end);
        switch (last) {
            case ',', ':', ';', '-', '\u2013', '\u2014', '\u2026':
                return true;
            case '.':
                return end >= 3 && text.startsWith("...", end - 3);
            default:
                break;
        }
        if (!Character.isLetter(last)) {
            return false;
        }
        int start = end;
        while (start > 0) {
            int cp = text.codePointBefore(start);
            if (!Character.isLetter(cp) && cp != '\'' && cp != '\u2019') {
                break;
            }
            start -= Character.charCount(cp);
        }
        return DANGLING_WORDS.contains(text.substring(start, end).toLowerCase(Locale.ROOT));
    }

    /** The end of {@code text} once trailing whitespace and emoji (with their joiners and modifiers) are cut. */
    private static int endIgnoringWhitespaceAndEmoji(String text) {
        int end = text.length();
        while (end > 0) {
            int cp = text.codePointBefore(end);
            if (!Character.isWhitespace(cp) && !Character.isSpaceChar(cp) && !isEmojiPart(cp)) {
                break;
            }
            end -= Character.charCount(cp);
        }
        return end;
    }

    private static boolean isEmojiPart(int cp) {
        return switch (Character.getType(cp)) {
            // pictographs and flags (So), skin tones (Sk), variation selectors and keycaps (Mn, Me), joiners (Cf)
            case Character.OTHER_SYMBOL,
                    Character.MODIFIER_SYMBOL,
                    Character.NON_SPACING_MARK,
                    Character.ENCLOSING_MARK,
                    Character.FORMAT -> true;
            default -> false;
        };
    }
}
