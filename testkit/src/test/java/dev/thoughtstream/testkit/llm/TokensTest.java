package dev.thoughtstream.testkit.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TokensTest {

    @Test
    void wordsCarryTheirLeadingWhitespaceAndPunctuationIsItsOwnToken() {
        assertEquals(List.of("You", " said", ":", " hello", ","), Tokens.split("You said: hello,"));
    }

    @Test
    void blankLinesTravelInsideTheNextToken() {
        assertEquals(List.of("One", ".", "\n\nTwo", "."), Tokens.split("One.\n\nTwo."));
    }

    @Test
    void emptyTextHasNoTokens() {
        assertTrue(Tokens.split("").isEmpty());
        assertEquals(0, Tokens.count(""));
    }

    @ParameterizedTest
    @ValueSource(
            strings = {
                "plain words",
                "  leading and trailing whitespace \n\n",
                "Paragraph one.\n\nParagraph two!\r\n\tIndented?",
                "Émoji 👍🏽 and ZWJ 👨‍👩‍👧 and CJK 你好世界 and don't",
                "   ",
                "a"
            })
    void tokensConcatenateToTheTextExactly(String text) {
        List<String> tokens = Tokens.split(text);

        assertEquals(text, String.join("", tokens));
        assertTrue(tokens.stream().noneMatch(String::isEmpty));
    }
}
