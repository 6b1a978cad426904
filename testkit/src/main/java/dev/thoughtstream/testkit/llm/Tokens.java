package dev.thoughtstream.testkit.llm;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The fake servers' tokeniser: word-ish tokens that carry their leading whitespace, the way real model tokens
 * carry a leading space. Concatenating the tokens gives back the text exactly, so line breaks and blank lines
 * (paragraphs) survive streaming.
 */
public final class Tokens {
    // Leading whitespace plus one word or one other symbol; a whitespace-only tail is a token of its own.
    private static final Pattern TOKEN = Pattern.compile("(?U)\\s*(?:\\w+|[^\\w\\s])|\\s+");

    private Tokens() {}

    /** Splits {@code text} into tokens whose concatenation equals {@code text}; empty text gives no tokens. */
    public static List<String> split(String text) {
        List<String> tokens = new ArrayList<>();
        Matcher m = TOKEN.matcher(text);
        int end = 0;
        while (m.find()) {
            if (m.start() != end) {
                // The pattern covers every code point; a gap would mean a broken pattern, not bad input.
                throw new IllegalStateException("tokeniser skipped text at index " + end);
            }
            tokens.add(m.group());
            end = m.end();
        }
        if (end != text.length()) {
            throw new IllegalStateException("tokeniser stopped at index " + end + " of " + text.length());
        }
        return tokens;
    }

    /** The number of tokens {@link #split} would produce; what the servers report as token usage. */
    public static int count(String text) {
        return split(text).size();
    }
}
