package dev.thoughtstream.testkit.telegram;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Turns text with a {@code parse_mode} into what a person sees: plain text plus entities, rejecting malformed
 * markup with Telegram's "can't parse entities" errors. This is deliberately a faithful-enough subset: the
 * point is that a bot which forgets to escape MarkdownV2 fails here the way it fails against Telegram.
 */
final class FormattedText {
    /** Characters MarkdownV2 reserves outside code; each must be escaped with '\' to appear literally. */
    static final String MARKDOWN_V2_RESERVED = "_*[]()~`>#+-=|{}.!";

    private static final Map<String, String> HTML_TAGS = Map.ofEntries(
            Map.entry("b", "bold"),
            Map.entry("strong", "bold"),
            Map.entry("i", "italic"),
            Map.entry("em", "italic"),
            Map.entry("u", "underline"),
            Map.entry("ins", "underline"),
            Map.entry("s", "strikethrough"),
            Map.entry("strike", "strikethrough"),
            Map.entry("del", "strikethrough"),
            Map.entry("span", "spoiler"),
            Map.entry("tg-spoiler", "spoiler"),
            Map.entry("a", "text_link"),
            Map.entry("code", "code"),
            Map.entry("pre", "pre"),
            Map.entry("blockquote", "blockquote"),
            Map.entry("tg-emoji", "custom_emoji"));

    private static final Pattern HTML_ATTRIBUTE =
            Pattern.compile("([a-zA-Z_:-]+)\\s*=\\s*(?:\"([^\"]*)\"|'([^']*)'|([^\\s\"']+))");

    /** The displayed text and its entities. */
    record Parsed(String text, List<MessageEntity> entities) {}

    private FormattedText() {}

    /**
     * Parses {@code raw} according to {@code parseMode} (null or empty: plain text).
     *
     * @throws BotApiError 400 for an unknown parse mode or malformed markup
     */
    static Parsed parse(String raw, String parseMode) {
        if (parseMode == null || parseMode.isEmpty()) {
            return new Parsed(raw, List.of());
        }
        switch (parseMode.toLowerCase(Locale.ROOT)) {
            case "markdownv2":
                return new MarkdownV2(raw).parse();
            case "html":
                return new Html(raw).parse();
            case "markdown":
                return new LegacyMarkdown(raw).parse();
            default:
                throw BotApiError.badRequest("unsupported parse_mode");
        }
    }

    private static BotApiError cantParse(String detail) {
        return BotApiError.badRequest("can't parse entities: " + detail);
    }

    /** Telegram reports positions as UTF-8 byte offsets into the raw text. */
    private static int byteOffset(String s, int index) {
        return s.substring(0, index).getBytes(StandardCharsets.UTF_8).length;
    }

    /**
     * Telegram's order: by offset, longer first, and for equal spans the outer entity first. Entities are
     * collected as they close, so of two equal spans the later-collected one is the outer one.
     */
    private static List<MessageEntity> sorted(List<MessageEntity> entities) {
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < entities.size(); i++) {
            order.add(i);
        }
        order.sort(Comparator.<Integer>comparingInt(i -> entities.get(i).offset())
                .thenComparing(i -> -entities.get(i).length())
                .thenComparing(i -> -i));
        return order.stream().map(entities::get).toList();
    }

    /** An entity whose end has not been seen yet. */
    private static final class Open {
        final String type;
        final String tag;
        final int outStart;
        final int rawIndex;
        String url;
        String language;

        Open(String type, String tag, int outStart, int rawIndex) {
            this.type = type;
            this.tag = tag;
            this.outStart = outStart;
            this.rawIndex = rawIndex;
        }
    }

    private static final class MarkdownV2 {
        private final String s;
        private final StringBuilder out = new StringBuilder();
        private final List<MessageEntity> entities = new ArrayList<>();
        private final List<Open> open = new ArrayList<>();
        private Open quote;

        MarkdownV2(String s) {
            this.s = s;
        }

        Parsed parse() {
            int i = 0;
            boolean lineStart = true;
            while (i < s.length()) {
                char c = s.charAt(i);
                boolean atLineStart = lineStart;
                lineStart = false;
                switch (c) {
                    case '\\':
                        if (i + 1 < s.length() && s.charAt(i + 1) >= 1 && s.charAt(i + 1) <= 126) {
                            out.append(s.charAt(i + 1));
                            i += 2;
                        } else {
                            out.append(c);
                            i++;
                        }
                        break;
                    case '`':
                        i = s.startsWith("```", i) ? pre(i) : code(i);
                        break;
                    case '*':
                        toggle("bold", i);
                        i++;
                        break;
                    case '_':
                        if (s.startsWith("__", i)) {
                            toggle("underline", i);
                            i += 2;
                        } else {
                            toggle("italic", i);
                            i++;
                        }
                        break;
                    case '~':
                        toggle("strikethrough", i);
                        i++;
                        break;
                    case '|':
                        if (!s.startsWith("||", i)) {
                            throw reserved(c);
                        }
                        toggle("spoiler", i);
                        i += 2;
                        break;
                    case '[':
                        open.add(new Open("text_link", null, out.length(), i));
                        i++;
                        break;
                    case ']':
                        i = closeLink(i);
                        break;
                    case '>':
                        if (!atLineStart) {
                            throw reserved(c);
                        }
                        if (quote == null) {
                            quote = new Open("blockquote", null, out.length(), i);
                        }
                        i++;
                        break;
                    case '\n':
                        if (quote != null && (i + 1 >= s.length() || s.charAt(i + 1) != '>')) {
                            emit(quote, null);
                            quote = null;
                        }
                        out.append(c);
                        lineStart = true;
                        i++;
                        break;
                    default:
                        if (MARKDOWN_V2_RESERVED.indexOf(c) >= 0) {
                            throw reserved(c);
                        }
                        out.append(c);
                        i++;
                }
            }
            if (quote != null) {
                emit(quote, null);
            }
            if (!open.isEmpty()) {
                throw unclosed(open.get(0));
            }
            return new Parsed(out.toString(), sorted(entities));
        }

        private BotApiError reserved(char c) {
            return cantParse("Character '" + c + "' is reserved and must be escaped with the preceding '\\'");
        }

        private BotApiError unclosed(Open o) {
            return cantParse(
                    "Can't find end of " + displayName(o.type) + " entity at byte offset " + byteOffset(s, o.rawIndex));
        }

        private void toggle(String type, int rawIndex) {
            Open top = open.isEmpty() ? null : open.get(open.size() - 1);
            if (top != null && top.type.equals(type)) {
                open.remove(open.size() - 1);
                emit(top, null);
                return;
            }
            for (Open o : open) {
                if (o.type.equals(type)) {
                    // Closing an outer entity while an inner one is open: the inner one never ends.
                    throw unclosed(top);
                }
            }
            open.add(new Open(type, null, out.length(), rawIndex));
        }

        private int closeLink(int i) {
            Open top = open.isEmpty() ? null : open.get(open.size() - 1);
            if (top == null || !top.type.equals("text_link")) {
                if (open.stream().anyMatch(o -> o.type.equals("text_link"))) {
                    throw unclosed(top);
                }
                throw reserved(']');
            }
            if (i + 1 >= s.length() || s.charAt(i + 1) != '(') {
                throw cantParse("Can't find end of a URL at byte offset " + byteOffset(s, i + 1));
            }
            StringBuilder url = new StringBuilder();
            int j = i + 2;
            while (j < s.length() && s.charAt(j) != ')') {
                if (s.charAt(j) == '\\' && j + 1 < s.length()) {
                    j++;
                }
                url.append(s.charAt(j));
                j++;
            }
            if (j >= s.length()) {
                throw cantParse("Can't find end of a URL at byte offset " + byteOffset(s, i + 1));
            }
            open.remove(open.size() - 1);
            emit(top, url.toString());
            return j + 1;
        }

        private int code(int i) {
            int j = i + 1;
            int start = out.length();
            while (j < s.length() && s.charAt(j) != '`') {
                if (s.charAt(j) == '\\' && j + 1 < s.length()) {
                    j++;
                }
                out.append(s.charAt(j));
                j++;
            }
            if (j >= s.length()) {
                throw cantParse("Can't find end of Code entity at byte offset " + byteOffset(s, i));
            }
            addEntity("code", start, null, null);
            return j + 1;
        }

        private int pre(int i) {
            int j = i + 3;
            String language = null;
            int newline = s.indexOf('\n', j);
            int close = s.indexOf("```", j);
            if (newline >= 0 && (close < 0 || newline < close)) {
                String first = s.substring(j, newline);
                if (!first.isEmpty() && first.chars().noneMatch(Character::isWhitespace)) {
                    language = first;
                    j = newline + 1;
                }
            }
            int start = out.length();
            while (j < s.length() && !s.startsWith("```", j)) {
                if (s.charAt(j) == '\\' && j + 1 < s.length()) {
                    j++;
                }
                out.append(s.charAt(j));
                j++;
            }
            if (j >= s.length()) {
                throw cantParse("Can't find end of Pre entity at byte offset " + byteOffset(s, i));
            }
            addEntity("pre", start, null, language);
            return j + 3;
        }

        private void emit(Open o, String url) {
            addEntity(o.type, o.outStart, url, o.language);
        }

        private void addEntity(String type, int start, String url, String language) {
            int length = out.length() - start;
            if (length > 0) {
                entities.add(new MessageEntity(type, start, length, url, language));
            }
        }
    }

    private static String displayName(String type) {
        switch (type) {
            case "bold":
                return "Bold";
            case "italic":
                return "Italic";
            case "underline":
                return "Underline";
            case "strikethrough":
                return "Strikethrough";
            case "spoiler":
                return "Spoiler";
            case "text_link":
                return "TextUrl";
            case "code":
                return "Code";
            case "pre":
                return "Pre";
            default:
                return "BlockQuote";
        }
    }

    private static final class Html {
        private final String s;
        private final StringBuilder out = new StringBuilder();
        private final List<MessageEntity> entities = new ArrayList<>();
        private final List<Open> open = new ArrayList<>();

        Html(String s) {
            this.s = s;
        }

        Parsed parse() {
            int i = 0;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == '<') {
                    i = tag(i);
                } else if (c == '&') {
                    i = characterReference(i);
                } else {
                    out.append(c);
                    i++;
                }
            }
            if (!open.isEmpty()) {
                throw cantParse("Can't find end tag corresponding to start tag \"" + open.get(0).tag + "\"");
            }
            return new Parsed(out.toString(), sorted(entities));
        }

        private int tag(int i) {
            int end = s.indexOf('>', i);
            if (end < 0) {
                throw cantParse("Unclosed start tag at byte offset " + byteOffset(s, i));
            }
            String inner = s.substring(i + 1, end);
            if (inner.startsWith("/")) {
                String name = inner.substring(1).trim().toLowerCase(Locale.ROOT);
                if (open.isEmpty()) {
                    throw cantParse("Unexpected end tag at byte offset " + byteOffset(s, i));
                }
                Open top = open.remove(open.size() - 1);
                if (!top.tag.equals(name)) {
                    throw cantParse("Unmatched end tag at byte offset " + byteOffset(s, i) + ", expected \"</" + top.tag
                            + ">\", found \"</" + name + ">\"");
                }
                int length = out.length() - top.outStart;
                boolean linkWithoutUrl = top.type.equals("text_link") && top.url == null;
                if (length > 0 && !linkWithoutUrl) {
                    entities.add(new MessageEntity(top.type, top.outStart, length, top.url, top.language));
                }
                return end + 1;
            }
            int nameEnd = 0;
            while (nameEnd < inner.length()
                    && (Character.isLetterOrDigit(inner.charAt(nameEnd)) || inner.charAt(nameEnd) == '-')) {
                nameEnd++;
            }
            String name = inner.substring(0, nameEnd).toLowerCase(Locale.ROOT);
            String type = HTML_TAGS.get(name);
            if (type == null) {
                throw cantParse("Unsupported start tag \"" + name + "\" at byte offset " + byteOffset(s, i));
            }
            Open o = new Open(type, name, out.length(), i);
            Matcher attributes = HTML_ATTRIBUTE.matcher(inner.substring(nameEnd));
            String cssClass = null;
            while (attributes.find()) {
                String value = attributes.group(2) != null
                        ? attributes.group(2)
                        : attributes.group(3) != null ? attributes.group(3) : attributes.group(4);
                value = value.replace("&amp;", "&")
                        .replace("&quot;", "\"")
                        .replace("&lt;", "<")
                        .replace("&gt;", ">");
                String attribute = attributes.group(1).toLowerCase(Locale.ROOT);
                if (attribute.equals("href")) {
                    o.url = value;
                } else if (attribute.equals("class")) {
                    cssClass = value;
                }
            }
            if (name.equals("span") && !"tg-spoiler".equals(cssClass)) {
                throw cantParse("Tag \"span\" must have class \"tg-spoiler\" at byte offset " + byteOffset(s, i));
            }
            if (name.equals("code")
                    && cssClass != null
                    && cssClass.startsWith("language-")
                    && !open.isEmpty()
                    && open.get(open.size() - 1).tag.equals("pre")) {
                open.get(open.size() - 1).language = cssClass.substring("language-".length());
            }
            open.add(o);
            return end + 1;
        }

        private int characterReference(int i) {
            int semicolon = s.indexOf(';', i);
            if (semicolon > i + 1 && semicolon - i <= 10) {
                String name = s.substring(i + 1, semicolon);
                int codePoint = -1;
                switch (name) {
                    case "lt":
                        codePoint = '<';
                        break;
                    case "gt":
                        codePoint = '>';
                        break;
                    case "amp":
                        codePoint = '&';
                        break;
                    case "quot":
                        codePoint = '"';
                        break;
                    default:
                        codePoint = numericReference(name);
                }
                if (codePoint >= 0) {
                    out.appendCodePoint(codePoint);
                    return semicolon + 1;
                }
            }
            // Like Telegram: an ampersand that starts no known reference is just text.
            out.append('&');
            return i + 1;
        }

        private static int numericReference(String name) {
            try {
                if (name.startsWith("#x") || name.startsWith("#X")) {
                    return validCodePoint(Integer.parseInt(name.substring(2), 16));
                }
                if (name.startsWith("#")) {
                    return validCodePoint(Integer.parseInt(name.substring(1)));
                }
            } catch (NumberFormatException notNumeric) {
                return -1;
            }
            return -1;
        }

        private static int validCodePoint(int codePoint) {
            return Character.isValidCodePoint(codePoint) && codePoint > 0 ? codePoint : -1;
        }
    }

    /** Telegram's legacy "Markdown": no nesting, and only _ * ` [ are special. */
    private static final class LegacyMarkdown {
        private final String s;
        private final StringBuilder out = new StringBuilder();
        private final List<MessageEntity> entities = new ArrayList<>();

        LegacyMarkdown(String s) {
            this.s = s;
        }

        Parsed parse() {
            int i = 0;
            while (i < s.length()) {
                char c = s.charAt(i);
                if (c == '\\' && i + 1 < s.length() && "_*`[".indexOf(s.charAt(i + 1)) >= 0) {
                    out.append(s.charAt(i + 1));
                    i += 2;
                } else if (c == '*' || c == '_') {
                    i = span(i, String.valueOf(c), c == '*' ? "bold" : "italic");
                } else if (s.startsWith("```", i)) {
                    i = span(i, "```", "pre");
                } else if (c == '`') {
                    i = span(i, "`", "code");
                } else if (c == '[') {
                    i = link(i);
                } else {
                    out.append(c);
                    i++;
                }
            }
            return new Parsed(out.toString(), sorted(entities));
        }

        private int span(int i, String marker, String type) {
            int end = s.indexOf(marker, i + marker.length());
            if (end < 0) {
                throw unclosed(i);
            }
            add(type, s.substring(i + marker.length(), end), null);
            return end + marker.length();
        }

        private int link(int i) {
            int close = s.indexOf(']', i + 1);
            if (close < 0) {
                throw unclosed(i);
            }
            if (close + 1 < s.length() && s.charAt(close + 1) == '(') {
                int urlEnd = s.indexOf(')', close + 2);
                if (urlEnd < 0) {
                    throw unclosed(i);
                }
                add("text_link", s.substring(i + 1, close), s.substring(close + 2, urlEnd));
                return urlEnd + 1;
            }
            out.append(s, i, close + 1);
            return close + 1;
        }

        private void add(String type, String content, String url) {
            int start = out.length();
            out.append(content);
            if (!content.isEmpty()) {
                entities.add(new MessageEntity(type, start, content.length(), url, null));
            }
        }

        private BotApiError unclosed(int i) {
            return cantParse("Can't find end of the entity starting at byte offset " + byteOffset(s, i));
        }
    }
}
