package dev.thoughtstream.testkit.llm;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The default {@link Responder}. The reply is a pure function of the last user message, so a test can compute the
 * expected text, and it is long enough (three or four sentences, sometimes in paragraphs) to exercise chunking
 * into reply parts downstream.
 */
final class EchoResponder implements Responder {
    static final EchoResponder INSTANCE = new EchoResponder();

    private static final int ECHO_WORDS = 8;
    private static final int ECHO_CHARS = 60;

    private static final String[] REACTIONS = {
        "That is worth thinking about.",
        "I see what you mean.",
        "Interesting point.",
        "Fair enough, I had not looked at it that way.",
        "Thanks for telling me.",
        "Good question.",
    };
    private static final String[] ELABORATIONS = {
        "The details usually matter more than they seem at first.",
        "There are at least two ways to look at it, and both have merit.",
        "Most of the time the simple explanation turns out to be the right one.",
        "It helps to take it one step at a time.",
        "Small changes tend to add up over a few days.",
        "Sometimes the best answer is to wait and see what happens next.",
    };
    private static final String[] CLOSERS = {
        "What made you think of it?",
        "Tell me more when you have a moment.",
        "Let me know how it goes.",
        "Does that help at all?",
        "I am curious what you will decide.",
        "We can come back to it later.",
    };

    private EchoResponder() {}

    @Override
    public String reply(List<LlmMessage> messages) {
        String last = "";
        for (int i = messages.size() - 1; i >= 0; i--) {
            if ("user".equals(messages.get(i).role())) {
                last = messages.get(i).content();
                break;
            }
        }
        int h = fnv1a(last);
        StringBuilder reply =
                new StringBuilder("You said: ").append(shortEcho(last)).append('.');
        reply.append(' ').append(pick(REACTIONS, h));
        reply.append(bit(h, 8) ? "\n\n" : " ").append(pick(ELABORATIONS, h >>> 4));
        if (((h >>> 12) & 3) != 0) {
            reply.append(bit(h, 16) ? "\n\n" : " ").append(pick(CLOSERS, h >>> 20));
        }
        return reply.toString();
    }

    static String shortEcho(String text) {
        String[] words = text.trim().split("\\s+");
        if (words.length == 1 && words[0].isEmpty()) {
            return "nothing";
        }
        String echo = Arrays.stream(words).limit(ECHO_WORDS).collect(Collectors.joining(" "));
        boolean shortened = words.length > ECHO_WORDS;
        if (echo.length() > ECHO_CHARS) {
            int cut = Character.isHighSurrogate(echo.charAt(ECHO_CHARS - 1)) ? ECHO_CHARS - 1 : ECHO_CHARS;
            echo = echo.substring(0, cut).trim();
            shortened = true;
        }
        // The echo ends the sentence with our own full stop.
        echo = echo.replaceAll("[.!?,;:]+$", "");
        if (echo.isEmpty()) {
            return "nothing";
        }
        return shortened ? echo + "…" : echo;
    }

    private static String pick(String[] options, int bits) {
        return options[Integer.remainderUnsigned(bits, options.length)];
    }

    private static boolean bit(int h, int index) {
        return ((h >>> index) & 1) == 1;
    }

    // FNV-1a over UTF-8: stable across JVMs and runs, unlike identity hashes.
    private static int fnv1a(String text) {
        int h = 0x811c9dc5;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            h ^= b & 0xff;
            h *= 0x01000193;
        }
        return h;
    }
}
