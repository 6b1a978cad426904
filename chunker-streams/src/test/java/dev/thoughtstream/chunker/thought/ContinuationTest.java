package dev.thoughtstream.chunker.thought;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ContinuationTest {

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(
            strings = {
                "so I was thinking,",
                "three things:",
                "first; ",
                "well -",
                "and then \u2013",
                "it was \u2014",
                "hmm...",
                "hmm\u2026",
                "I went there and",
                "AND",
                "my brother, my sister or",
                "because",
                "I bought the",
                "it's like",
                "then I went to",
                "coffee with",
                "and 😅",
                "and 👍🏽",
                "so,\n",
                "but \u00a0",
                "I'd like a",
                "I need my",
            })
    void messagesThatLookUnfinished(String text) {
        assertTrue(Continuation.looksUnfinished(text), text);
    }

    @ParameterizedTest(name = "\"{0}\"")
    @ValueSource(
            strings = {
                "hello", "That's all.", "is it?", "done!", "see you at 5", "and.", "the end", "I like it 👍", "ok :)",
                "sand", "Android", "the brand", "", "   ", "😅", "...and done", "a.", "to-do",
            })
    void messagesThatLookFinished(String text) {
        assertFalse(Continuation.looksUnfinished(text), text);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"and", "or", "but", "so", "because", "like", "then", "with", "to", "the", "a"})
    void theIssuesConnectivesAreAllDangling(String word) {
        assertTrue(Continuation.DANGLING_WORDS.contains(word), word);
        assertTrue(Continuation.looksUnfinished("something " + word.toUpperCase(java.util.Locale.ROOT)), word);
    }
}
