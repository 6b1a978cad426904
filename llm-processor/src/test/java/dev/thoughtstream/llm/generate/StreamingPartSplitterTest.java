package dev.thoughtstream.llm.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.thoughtstream.llm.model.ScriptedAnswers;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StreamingPartSplitterTest {

    @Test
    void aPartIsEmittedAsSoonAsABlankLineFollowsIt() {
        StreamingPartSplitter splitter = new StreamingPartSplitter(4096);

        assertEquals(List.of(), splitter.feed("Hello there"));
        assertEquals(List.of(), splitter.feed("!\n"));
        assertEquals(List.of("Hello there!"), splitter.feed("\nHow"));
        assertEquals(List.of(), splitter.feed(" are you?"));
        assertEquals(List.of("How are you?"), splitter.finish());
    }

    @Test
    void aPartWaitsForTextAfterItsBlankLineSoTheFinalPartIsNeverEmittedEarly() {
        StreamingPartSplitter splitter = new StreamingPartSplitter(4096);

        assertEquals(List.of(), splitter.feed("Hello!\n\n"), "nothing says yet that more follows");
        assertEquals(List.of(), splitter.feed(" \n"));
        assertEquals(List.of("Hello!"), splitter.feed("How"));
        assertEquals(List.of(), splitter.feed(" are you?\n\n"));
        assertEquals(List.of("How are you?"), splitter.finish());
    }

    @Test
    void anOverlongParagraphBeforeATrailingBlankLineKeepsItsLastPieceForFinish() {
        StreamingPartSplitter splitter = new StreamingPartSplitter(10);

        assertEquals(List.of("It rained."), splitter.feed("It rained. A lot.\n\n"));
        assertEquals(List.of("A lot."), splitter.finish());
    }

    @Test
    void aBlankLineSplitAcrossDeltasIsRecognised() {
        StreamingPartSplitter splitter = new StreamingPartSplitter(4096);

        assertEquals(List.of(), splitter.feed("One.\n"));
        assertEquals(List.of(), splitter.feed(" \t"));
        assertEquals(List.of(), splitter.feed("\r"));
        assertEquals(List.of("One."), splitter.feed("\nTwo."));
    }

    @Test
    void anOverlongParagraphIsCutBeforeItEnds() {
        StreamingPartSplitter splitter = new StreamingPartSplitter(20);

        assertEquals(List.of(), splitter.feed("It rained. The wind"));
        assertEquals(List.of("It rained."), splitter.feed(" blew hard"));
        assertEquals(List.of("The wind blew hard"), splitter.finish());
    }

    @Test
    void whitespaceOnlyInputEmitsNothing() {
        StreamingPartSplitter splitter = new StreamingPartSplitter(10);

        assertEquals(List.of(), splitter.feed(" \n\n "));
        assertEquals(List.of(), splitter.feed(""));
        assertEquals(List.of(), splitter.finish());
    }

    @Test
    void feedingAfterFinishIsRejected() {
        StreamingPartSplitter splitter = new StreamingPartSplitter(10);
        splitter.finish();

        assertThrows(IllegalStateException.class, () -> splitter.feed("late"));
    }

    @Test
    void streamingGivesTheBatchPartsForEveryChunkingOfTheSameText() {
        Random random = new Random(20240611L);
        int[] limits = {1, 2, 7, 20, 64, 4096};
        for (int round = 0; round < 400; round++) {
            String text = RandomText.generate(random, 1 + random.nextInt(600));
            int max = limits[random.nextInt(limits.length)];
            List<String> expected = new PartSplitter(max).split(text);

            for (int chunking = 0; chunking < 5; chunking++) {
                Streamed actual = streamInRandomChunks(text, max, random, chunking);

                String where = "round " + round + ", chunking " + chunking + ", max " + max + ", text: "
                        + text.replace("\n", "\\n");
                assertEquals(expected, actual.all(), where);
                if (!actual.fed().isEmpty()) {
                    assertFalse(
                            actual.finished().isEmpty(),
                            "a part was emitted early, so finish() must still " + "hold the final one: " + where);
                }
            }
        }
    }

    @Test
    void streamingTheScriptedAnswersTokenByTokenGivesTheBatchParts() {
        for (String message : List.of("hi", "I had a long day at work and my cat ignored me.", "")) {
            String answer = ScriptedAnswers.answerTo(message);
            for (int max : new int[] {15, 40, 4096}) {
                StreamingPartSplitter splitter = new StreamingPartSplitter(max);
                List<String> parts = new ArrayList<>();
                for (String token : ScriptedAnswers.tokens(answer)) {
                    parts.addAll(splitter.feed(token));
                }
                parts.addAll(splitter.finish());

                assertEquals(new PartSplitter(max).split(answer), parts);
            }
        }
    }

    /** Chunking 0 is one character at a time, 1 is the whole text at once, others are random sizes with empties. */
    private static Streamed streamInRandomChunks(String text, int max, Random random, int chunking) {
        StreamingPartSplitter splitter = new StreamingPartSplitter(max);
        List<String> out = new ArrayList<>();
        int i = 0;
        while (i < text.length()) {
            int size = switch (chunking) {
                case 0 -> 1;
                case 1 -> text.length();
                default -> random.nextInt(12);
            };
            int end = Math.min(text.length(), i + size);
            out.addAll(splitter.feed(text.substring(i, end)));
            i = end;
        }
        return new Streamed(out, splitter.finish());
    }

    /** The parts {@code feed} returned, then those {@code finish} returned. */
    private record Streamed(List<String> fed, List<String> finished) {
        List<String> all() {
            List<String> all = new ArrayList<>(fed);
            all.addAll(finished);
            return all;
        }
    }
}
