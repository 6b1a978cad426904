package dev.thoughtstream.emitter.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.telegram.TelegramLimits;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** How an over-long reply part becomes several Telegram messages. */
class TelegramTextTest {
    private static final String GRINNING = "\uD83D\uDE00";
    /** man, ZWJ, woman, ZWJ, girl: one visible emoji of 8 code units. */
    private static final String FAMILY = "\uD83D\uDC68\u200D\uD83D\uDC69\u200D\uD83D\uDC67";
    /** Two regional indicators: the flag of Germany. */
    private static final String FLAG = "\uD83C\uDDE9\uD83C\uDDEA";

    @Test
    void aTextThatFitsIsOnePieceTrimmedEvenWithSeveralParagraphs() {
        List<String> pieces = TelegramText.split("  Hello.\n\nHow are you?  \n", 4096);

        assertEquals(List.of("Hello.\n\nHow are you?"), pieces);
    }

    @Test
    void nothingOrOnlyWhitespaceGivesNoPieces() {
        assertEquals(List.of(), TelegramText.split(null, 4096));
        assertEquals(List.of(), TelegramText.split("", 4096));
        assertEquals(List.of(), TelegramText.split(" \n\n\t \r\n", 4096));
    }

    @Test
    void aLongTextIsCutAtTheLastParagraphBreakThatFits() {
        // given three paragraphs of 20, 20 and 20 characters and room for 45
        String a = "First paragraph one.";
        String b = "Second one is here.";
        String c = "Third one, the end.";

        List<String> pieces = TelegramText.split(a + "\n\n" + b + "\n \n" + c, 45);

        assertEquals(List.of(a + "\n\n" + b, c), pieces);
    }

    @Test
    void aParagraphBreakWinsOverALaterSentenceEnd() {
        // given a short paragraph, then sentences that would let a sentence cut fill more of the limit
        String text = "Intro.\n\nOne two. Three four. Five six seven eight nine.";

        List<String> pieces = TelegramText.split(text, 30);

        assertEquals("Intro.", pieces.get(0), pieces.toString());
    }

    @Test
    void withoutAParagraphBreakTheCutIsAtTheLastSentenceEndThatFits() {
        String text = "The sun came up slowly. Birds began to sing loudly! Was it morning yet?";

        List<String> pieces = TelegramText.split(text, 50);

        assertEquals(List.of("The sun came up slowly.", "Birds began to sing loudly! Was it morning yet?"), pieces);
    }

    @Test
    void aSentenceEndingInAClosingQuoteIsASentenceEnd() {
        List<String> pieces = TelegramText.split("She said \"hello there.\" Then she left the room quietly.", 30);

        assertEquals("She said \"hello there.\"", pieces.get(0), pieces.toString());
    }

    @Test
    void chineseFullStopsEndSentencesWithoutASpace() {
        String text = "\u4eca\u5929\u5929\u6c14\u5f88\u597d\u3002\u6211\u4eec\u53bb\u516c\u56ed\u5427\u3002";

        List<String> pieces = TelegramText.split(text, 10);

        assertEquals(
                List.of("\u4eca\u5929\u5929\u6c14\u5f88\u597d\u3002", "\u6211\u4eec\u53bb\u516c\u56ed\u5427\u3002"),
                pieces);
    }

    @Test
    void withoutSentenceEndsTheCutIsAtTheLastWhitespace() {
        List<String> pieces = TelegramText.split("one two three four five six seven eight nine ten", 20);

        assertEquals(List.of("one two three four", "five six seven eight", "nine ten"), pieces);
    }

    @Test
    void aWordLongerThanTheLimitIsCutHardAtTheLimit() {
        String word = "x".repeat(10_000);

        List<String> pieces = TelegramText.split(word, TelegramLimits.MAX_MESSAGE_CHARS);

        assertEquals(
                List.of(4096, 4096, 10_000 - 2 * 4096),
                pieces.stream().map(String::length).toList());
        assertEquals(word, String.join("", pieces));
    }

    @Test
    void aHardCutNeverSplitsASurrogatePair() {
        // given a limit that falls between the two halves of an emoji
        List<String> pieces = TelegramText.split("ab" + GRINNING + "cd", 3);

        assertEquals(List.of("ab", GRINNING + "c", "d"), pieces);
    }

    @Test
    void aHardCutKeepsAZeroWidthJoinerSequenceTogetherWhenItCanFit() {
        // given a limit that falls inside the family emoji
        List<String> pieces = TelegramText.split("abc" + FAMILY + "def", 8);

        assertEquals(List.of("abc", FAMILY, "def"), pieces);
    }

    @Test
    void aHardCutKeepsAFlagAndACombiningAccentTogether() {
        assertEquals(List.of("ab", FLAG + "c"), TelegramText.split("ab" + FLAG + "c", 5));
        // "e" + combining acute accent
        assertEquals(List.of("abc", "e\u0301f"), TelegramText.split("abce\u0301f", 4));
    }

    @Test
    void lengthIsCountedInUtf16CodeUnitsAsTelegramDoes() {
        // given 3000 emoji: 3000 code points but 6000 UTF-16 code units
        String emoji = GRINNING.repeat(3000);

        List<String> pieces = TelegramText.split(emoji, TelegramLimits.MAX_MESSAGE_CHARS);

        assertEquals(
                List.of(4096, 6000 - 4096), pieces.stream().map(String::length).toList());
        assertEquals(emoji, String.join("", pieces));
    }

    @Test
    void aLimitTooSmallForASurrogatePairIsRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> TelegramText.split("ab", 1));

        assertTrue(e.getMessage().contains("maxChars"), e.getMessage());
    }

    @Test
    void randomTextsAlwaysGiveTrimmedNonEmptyPiecesWithinTheLimitThatRejoinToTheOriginal() {
        Random random = new Random(20_240_611L);
        for (int round = 0; round < 2_000; round++) {
            // given a random text of words, punctuation, line breaks, blank lines, emoji and combining marks
            String text = randomText(random, random.nextInt(1_200));
            int max = 2 + random.nextInt(random.nextBoolean() ? 40 : 300);

            // when it is split
            List<String> pieces = TelegramText.split(text, max);

            // then every piece fits, is trimmed and non-empty, and breaks no surrogate pair
            String where = " (round " + round + ", max " + max + ")";
            for (String piece : pieces) {
                assertTrue(piece.length() <= max, "piece of " + piece.length() + where);
                assertFalse(piece.isEmpty(), "empty piece" + where);
                assertEquals(piece.strip(), piece, "untrimmed piece" + where);
                assertFalse(Character.isLowSurrogate(piece.charAt(0)), "piece starts inside a pair" + where);
                assertFalse(
                        Character.isHighSurrogate(piece.charAt(piece.length() - 1)),
                        "piece ends inside a pair" + where);
            }
            // and the pieces are the original text, in order, separated only by whitespace
            assertRejoins(text, pieces, where);
        }
    }

    /** {@code text} is {@code pieces} in order with nothing but whitespace before, between and after them. */
    private static void assertRejoins(String text, List<String> pieces, String where) {
        int at = 0;
        for (String piece : pieces) {
            while (at < text.length() && Character.isWhitespace(text.charAt(at))) {
                at++;
            }
            assertTrue(text.startsWith(piece, at), "piece not found at " + at + where + ": " + piece);
            at += piece.length();
        }
        assertTrue(text.substring(at).isBlank(), "text left over after the last piece" + where);
    }

    private static final String[] TOKENS = {
        "a",
        "word",
        "longerword",
        "x".repeat(60),
        "Hello",
        ".",
        "!",
        "?",
        ",",
        "\"",
        ")",
        "\u2026",
        " ",
        " ",
        " ",
        "  ",
        "\n",
        "\n\n",
        "\n \n",
        "\r\n",
        "\t",
        GRINNING,
        FAMILY,
        FLAG,
        "e\u0301",
        "\u00e9",
        "\u3002",
        "\u4eca"
    };

    private static String randomText(Random random, int tokens) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < tokens; i++) {
            sb.append(TOKENS[random.nextInt(TOKENS.length)]);
        }
        return sb.toString();
    }
}
