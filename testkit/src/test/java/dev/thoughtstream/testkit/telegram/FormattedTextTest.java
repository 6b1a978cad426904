package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** parse_mode handling: what a person sees, and Telegram's refusals of malformed markup. */
class FormattedTextTest {

    @Test
    void plainTextIsShownAsIs() {
        FormattedText.Parsed parsed = FormattedText.parse("*not bold* 1.5!", null);

        assertEquals("*not bold* 1.5!", parsed.text());
        assertEquals(List.of(), parsed.entities());
    }

    @Test
    void markdownV2EntitiesAreStrippedIntoEntities() {
        FormattedText.Parsed parsed =
                FormattedText.parse("*b* _i_ __u__ ~s~ ||sp|| `c\\`` [link](https://x.y/a\\)b) 3\\.5\\!", "MarkdownV2");

        assertEquals("b i u s sp c` link 3.5!", parsed.text());
        assertEquals(
                List.of(
                        MessageEntity.of("bold", 0, 1),
                        MessageEntity.of("italic", 2, 1),
                        MessageEntity.of("underline", 4, 1),
                        MessageEntity.of("strikethrough", 6, 1),
                        MessageEntity.of("spoiler", 8, 2),
                        MessageEntity.of("code", 11, 2),
                        new MessageEntity("text_link", 14, 4, "https://x.y/a)b", null)),
                parsed.entities());
    }

    @Test
    void markdownV2PreBlocksKeepTheirLanguageAndNeedNoEscapingInside() {
        FormattedText.Parsed parsed = FormattedText.parse("```java\nint x = a.b();\n```", "MarkdownV2");

        assertEquals("int x = a.b();\n", parsed.text());
        assertEquals(List.of(new MessageEntity("pre", 0, 15, null, "java")), parsed.entities());
    }

    @Test
    void markdownV2QuotesStartAtTheBeginningOfALine() {
        FormattedText.Parsed parsed = FormattedText.parse(">quoted\n>still\nafter", "MarkdownV2");

        assertEquals("quoted\nstill\nafter", parsed.text());
        assertEquals(List.of(MessageEntity.of("blockquote", 0, 12)), parsed.entities());
    }

    @ParameterizedTest
    @ValueSource(strings = {".", "!", "-", "(", ")", "#", "+", "=", "{", "}", "|", "]", ">"})
    void markdownV2RefusesEveryUnescapedReservedCharacter(String reserved) {
        BotApiError error =
                assertThrows(BotApiError.class, () -> FormattedText.parse("a " + reserved + " b", "MarkdownV2"));

        assertEquals(400, error.status());
        assertEquals(
                "Bad Request: can't parse entities: Character '" + reserved
                        + "' is reserved and must be escaped with the preceding '\\'",
                error.description());
    }

    @Test
    void markdownV2ReportsAnUnclosedEntityWithItsByteOffset() {
        BotApiError error = assertThrows(BotApiError.class, () -> FormattedText.parse("é *bold", "MarkdownV2"));

        assertEquals(
                "Bad Request: can't parse entities: Can't find end of Bold entity at byte offset 3",
                error.description());
    }

    @Test
    void htmlTagsBecomeEntitiesAndCharacterReferencesAreDecoded() {
        FormattedText.Parsed parsed = FormattedText.parse(
                "<b>bold</b> &lt;3 <a href=\"https://x.y/?a=1&amp;b=2\">link</a> <pre><code class=\"language-py\">"
                        + "x</code></pre> &#33; & more",
                "HTML");

        assertEquals("bold <3 link x ! & more", parsed.text());
        assertEquals(
                List.of(
                        MessageEntity.of("bold", 0, 4),
                        new MessageEntity("text_link", 8, 4, "https://x.y/?a=1&b=2", null),
                        new MessageEntity("pre", 13, 1, null, "py"),
                        MessageEntity.of("code", 13, 1)),
                parsed.entities());
    }

    @Test
    void htmlRefusesUnknownAndUnbalancedTags() {
        assertEquals(
                "Bad Request: can't parse entities: Unsupported start tag \"div\" at byte offset 0",
                assertThrows(BotApiError.class, () -> FormattedText.parse("<div>x</div>", "HTML"))
                        .description());
        assertEquals(
                "Bad Request: can't parse entities: Can't find end tag corresponding to start tag \"b\"",
                assertThrows(BotApiError.class, () -> FormattedText.parse("<b>x", "HTML"))
                        .description());
        assertEquals(
                "Bad Request: can't parse entities: Unexpected end tag at byte offset 1",
                assertThrows(BotApiError.class, () -> FormattedText.parse("x</i>", "HTML"))
                        .description());
        assertEquals(
                "Bad Request: can't parse entities: Unmatched end tag at byte offset 7, expected \"</i>\", "
                        + "found \"</b>\"",
                assertThrows(BotApiError.class, () -> FormattedText.parse("<b><i>x</b></i>", "HTML"))
                        .description());
    }

    @Test
    void legacyMarkdownNeedsItsEntitiesClosed() {
        FormattedText.Parsed parsed = FormattedText.parse("*bold* and 1.5 - ok", "Markdown");

        assertEquals("bold and 1.5 - ok", parsed.text());
        assertEquals(List.of(MessageEntity.of("bold", 0, 4)), parsed.entities());
        assertEquals(
                "Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 2",
                assertThrows(BotApiError.class, () -> FormattedText.parse("a _b", "Markdown"))
                        .description());
    }

    @Test
    void anUnknownParseModeIsABadRequest() {
        assertEquals(
                "Bad Request: unsupported parse_mode",
                assertThrows(BotApiError.class, () -> FormattedText.parse("x", "RTF"))
                        .description());
    }
}
