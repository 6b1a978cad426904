package dev.thoughtstream.llm.model;

import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.TextContent;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.output.TokenUsage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The offline model's "intelligence": a deterministic, friendly answer to the last user message, written the way the
 * system prompt asks a real model to write (a few short paragraphs separated by blank lines). Cheap on purpose: it
 * is what the local demo and the benchmarks run on.
 */
public final class ScriptedAnswers {
    private static final int QUOTED_WORDS = 6;

    private static final String[] OPENERS = {
        "Thanks for telling me", "Got it", "Oh, interesting", "I hear you", "Okay, noted",
    };
    private static final String[] REACTIONS = {
        "That sounds like a lot to think about.",
        "I like where this is going.",
        "That is worth a closer look.",
        "It makes sense that this is on your mind.",
    };
    private static final String[] REFLECTIONS = {
        "I keep coming back to that.", "It feels like the heart of what you said.", "There is more behind it, I think.",
    };
    private static final String[] QUESTIONS = {
        "What made you think about %s today?",
        "How do you feel about %s right now?",
        "What would you like to happen with %s next?",
        "Is %s something you want to talk through?",
    };

    private ScriptedAnswers() {}

    /** The answer to {@code userText}: always the same for the same text, several sentences, 2 or 3 paragraphs. */
    public static String answerTo(String userText) {
        String clean =
                userText == null ? "" : userText.strip().replaceAll("\\s+", " ").replace('"', '\'');
        if (clean.isEmpty()) {
            return "Hey, your message reached me empty. That happens sometimes!\n\n"
                    + "What would you like to talk about? I am listening.";
        }
        String[] words = clean.split(" ");
        // String.hashCode is specified by the JLS, so the choice is the same on every JVM and every run.
        int h = clean.hashCode() & 0x7fffffff;
        String quote = quote(words);
        String keyword = keyword(words);

        String first = pick(OPENERS, h) + ": \"" + quote + "\". " + pick(REACTIONS, h / 7);
        String second = "You wrote " + words.length + (words.length == 1 ? " word" : " words") + ", and \"" + keyword
                + "\" stands out to me. " + pick(REFLECTIONS, h / 31);
        String question = String.format(pick(QUESTIONS, h / 101), keyword);
        if (h % 3 == 0) {
            return first + "\n\n" + second + " " + question;
        }
        return first + "\n\n" + second + "\n\n" + question + " Take your time.";
    }

    /**
     * The answer as a model would stream it: runs of whitespace followed by a word, so a blank line arrives glued
     * to the next word. Concatenated, the tokens are the answer.
     */
    public static List<String> tokens(String answer) {
        List<String> tokens = new ArrayList<>();
        int start = 0;
        int i = 0;
        while (i < answer.length()) {
            while (i < answer.length() && Character.isWhitespace(answer.charAt(i))) {
                i++;
            }
            while (i < answer.length() && !Character.isWhitespace(answer.charAt(i))) {
                i++;
            }
            tokens.add(answer.substring(start, i));
            start = i;
        }
        return tokens;
    }

    /** The text of the last user message, or "" when there is none. */
    public static String lastUserText(List<ChatMessage> messages) {
        for (int i = messages.size() - 1; i >= 0; i--) {
            if (messages.get(i) instanceof UserMessage user) {
                return textOf(user);
            }
        }
        return "";
    }

    /** A rough token count (words) for the usage the scripted models report. */
    public static TokenUsage usage(List<ChatMessage> prompt, int outputTokens) {
        int input = 0;
        for (ChatMessage m : prompt) {
            input += wordCount(textOf(m));
        }
        return new TokenUsage(input, outputTokens);
    }

    private static String textOf(ChatMessage message) {
        if (message instanceof UserMessage user) {
            return user.hasSingleText()
                    ? user.singleText()
                    : user.contents().stream()
                            .filter(TextContent.class::isInstance)
                            .map(c -> ((TextContent) c).text())
                            .collect(Collectors.joining(" "));
        }
        if (message instanceof AiMessage ai) {
            return ai.text() == null ? "" : ai.text();
        }
        if (message instanceof SystemMessage system) {
            return system.text();
        }
        return "";
    }

    private static int wordCount(String text) {
        String s = text.strip();
        return s.isEmpty() ? 0 : s.split("\\s+").length;
    }

    private static String quote(String[] words) {
        int n = Math.min(QUOTED_WORDS, words.length);
        String quoted = String.join(" ", Arrays.copyOf(words, n));
        if (n < words.length) {
            return quoted + "...";
        }
        return quoted.replaceAll("[.!?,;:]+$", "");
    }

    /** The longest word without punctuation; the first one wins a tie, so the choice is stable. */
    private static String keyword(String[] words) {
        String best = "";
        for (String w : words) {
            String bare = w.replaceAll("^[^\\p{L}\\p{N}]+|[^\\p{L}\\p{N}]+$", "");
            if (bare.length() > best.length()) {
                best = bare;
            }
        }
        return best.isEmpty() ? "that" : best;
    }

    private static String pick(String[] options, int h) {
        return options[h % options.length];
    }
}
