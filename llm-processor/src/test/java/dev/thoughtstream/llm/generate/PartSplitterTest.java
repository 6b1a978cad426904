package dev.thoughtstream.llm.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class PartSplitterTest {

    @Test
    void blankLinesSeparateParts() {
        PartSplitter splitter = new PartSplitter(4096);

        List<String> parts = splitter.split("Hi there!\n\nHow are you?\n \t\n\n\nBye for now.");

        assertEquals(List.of("Hi there!", "How are you?", "Bye for now."), parts);
    }

    @Test
    void windowsLineEndingsAlsoMakeBlankLines() {
        PartSplitter splitter = new PartSplitter(4096);

        List<String> parts = splitter.split("First line.\r\n\r\nSecond line.\r\n");

        assertEquals(List.of("First line.", "Second line."), parts);
    }

    @Test
    void aSingleLineBreakStaysInsideThePart() {
        PartSplitter splitter = new PartSplitter(4096);

        List<String> parts = splitter.split("  Roses are red,\nviolets are blue.  \n\nThe end.");

        assertEquals(List.of("Roses are red,\nviolets are blue.", "The end."), parts);
    }

    @Test
    void aLongParagraphIsSplitAtTheLastSentenceEndThatFits() {
        // given sentences of 23, 27 and 19 characters, and a limit of 50: the first two together are 51 long
        String paragraph = "The sun came up slowly. Birds began to sing loudly! Was it morning yet?";
        PartSplitter splitter = new PartSplitter(50);

        List<String> parts = splitter.split(paragraph);

        assertEquals(List.of("The sun came up slowly.", "Birds began to sing loudly! Was it morning yet?"), parts);
    }

    @Test
    void aSentenceEndingInAQuoteCountsAsASentenceEnd() {
        PartSplitter splitter = new PartSplitter(30);

        List<String> parts = splitter.split("She said \"hello there.\" Then she left the room quietly.");

        assertEquals("She said \"hello there.\"", parts.get(0), "parts: " + parts);
    }

    @Test
    void aLongSentenceWithoutEndsIsSplitAtWhitespace() {
        PartSplitter splitter = new PartSplitter(20);

        List<String> parts = splitter.split("one two three four five six seven eight nine ten");

        assertEquals(List.of("one two three four", "five six seven eight", "nine ten"), parts);
    }

    @Test
    void aTenThousandCharacterWordIsSplitHardAtTheLimit() {
        String word = "x".repeat(10_000);
        PartSplitter splitter = new PartSplitter(4096);

        List<String> parts = splitter.split(word);

        assertEquals(3, parts.size());
        assertEquals(4096, parts.get(0).length());
        assertEquals(4096, parts.get(1).length());
        assertEquals(10_000 - 2 * 4096, parts.get(2).length());
        assertEquals(word, String.join("", parts));
    }

    @Test
    void aHardSplitKeepsAnEmojiTogether() {
        // given a word of 4 letters and emoji (surrogate pairs) whose limit falls between the halves of one
        String word = "ab\uD83D\uDE00cd";
        PartSplitter splitter = new PartSplitter(3);

        List<String> parts = splitter.split(word);

        assertEquals(List.of("ab", "\uD83D\uDE00c", "d"), parts);
    }

    @Test
    void emptyOrBlankInputGivesNoParts() {
        PartSplitter splitter = new PartSplitter(4096);

        assertEquals(List.of(), splitter.split(""));
        assertEquals(List.of(), splitter.split(null));
        assertEquals(List.of(), splitter.split(" \n\n \t \r\n "));
    }

    @Test
    void noPartIsEverLongerThanTheLimitNorEmptyNorUntrimmed() {
        Random random = new Random(42);
        for (int round = 0; round < 500; round++) {
            String text = RandomText.generate(random, 1 + random.nextInt(800));
            int max = 1 + random.nextInt(120);

            List<String> parts = new PartSplitter(max).split(text);

            for (String part : parts) {
                assertTrue(part.length() <= max, "part of " + part.length() + " > " + max + " in round " + round);
                assertFalse(part.isEmpty(), "empty part in round " + round);
                assertEquals(part.strip(), part, "untrimmed part in round " + round);
            }
            assertEquals(
                    RandomText.nonWhitespace(text),
                    RandomText.nonWhitespace(String.join("", parts)),
                    "no visible character is lost or added in round " + round);
        }
    }
}
