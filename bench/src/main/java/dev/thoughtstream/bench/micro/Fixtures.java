package dev.thoughtstream.bench.micro;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.StoredUpdate;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Deterministic, realistic data for the benchmarks: the same seed always gives the same texts, so a run can be
 * repeated and the restore benchmark can regenerate what it wrote to check what it reads back.
 *
 * <p>Sizes follow what the pipeline sees: a user writes short messages (typically 20–100 characters), the model
 * answers in bubbles of one to a few sentences (100–300 characters), and a whole answer runs to a few paragraphs.
 */
public final class Fixtures {
    private static final String[] WORDS = {
        "the",
        "a",
        "and",
        "to",
        "of",
        "I",
        "you",
        "it",
        "that",
        "was",
        "so",
        "think",
        "maybe",
        "really",
        "just",
        "trip",
        "weekend",
        "train",
        "tickets",
        "museum",
        "coffee",
        "morning",
        "tomorrow",
        "work",
        "project",
        "deadline",
        "friend",
        "dinner",
        "book",
        "idea",
        "question",
        "answer",
        "weather",
        "rain",
        "sunny",
        "city",
        "plan",
        "time",
        "late",
        "early",
        "better",
        "good",
        "great",
        "nice",
        "honestly",
        "probably",
        "because",
        "when",
        "with",
        "about",
        "for",
        "after",
        "before",
        "again",
        "still",
        "already",
        "could",
        "would",
        "should",
        "café",
        "naïve",
        "déjà",
        "Zürich",
        "über",
        "привет",
        "спасибо",
        "👍",
        "😅",
        "🙂",
        "—",
        "“quoted”",
    };
    private static final String[] SENTENCE_ENDS = {".", ".", ".", "!", "?", "…"};

    private Fixtures() {}

    /** One sentence of {@code words} words, capitalised, ending in a sentence mark. */
    public static String sentence(SplittableRandom random, int words) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < words; i++) {
            String word = WORDS[random.nextInt(WORDS.length)];
            if (i == 0) {
                out.append(Character.toUpperCase(word.charAt(0))).append(word, 1, word.length());
            } else {
                out.append(' ').append(word);
            }
        }
        return out.append(SENTENCE_ENDS[random.nextInt(SENTENCE_ENDS.length)]).toString();
    }

    /** What a person types in one message: one short sentence, about 20–100 characters. */
    public static String userText(SplittableRandom random) {
        return sentence(random, 4 + random.nextInt(12));
    }

    /** One bubble of the bot's answer: one to three sentences, about 100–300 characters. */
    public static String assistantText(SplittableRandom random) {
        int sentences = 1 + random.nextInt(3);
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < sentences; i++) {
            if (i > 0) {
                out.append(' ');
            }
            out.append(sentence(random, 10 + random.nextInt(12)));
        }
        return out.toString();
    }

    /**
     * A model's whole answer of about {@code chars} characters: paragraphs of two to six sentences separated by
     * blank lines (as the system prompt asks), with an occasional paragraph far longer than one Telegram message
     * when {@code chars} is large, so that the sentence and whitespace cuts run too.
     */
    public static String answer(SplittableRandom random, int chars) {
        StringBuilder out = new StringBuilder(chars + 200);
        int paragraph = 0;
        while (out.length() < chars) {
            if (out.length() > 0) {
                out.append("\n\n");
            }
            // Every fourth paragraph of a long text runs past 4096 characters: a model that forgets the blank lines.
            int sentences = chars > 5000 && paragraph % 4 == 3 ? 40 : 2 + random.nextInt(5);
            for (int i = 0; i < sentences && out.length() < chars; i++) {
                if (i > 0) {
                    out.append(random.nextInt(8) == 0 ? "\n" : " ");
                }
                out.append(sentence(random, 8 + random.nextInt(14)));
            }
            paragraph++;
        }
        return out.toString();
    }

    /**
     * A conversation of {@code count} messages, alternating user and bot, spread evenly over {@code spanMs} and
     * ending at {@code endMs}: the shape of a chat's stored context.
     */
    public static List<ContextMessage> conversation(SplittableRandom random, int count, long spanMs, long endMs) {
        List<ContextMessage> messages = new ArrayList<>(count);
        long step = count > 1 ? spanMs / (count - 1) : 0;
        for (int i = 0; i < count; i++) {
            long atMs = endMs - spanMs + i * step;
            boolean user = i % 2 == 0;
            messages.add(new ContextMessage(
                    user ? ContextMessage.Role.USER : ContextMessage.Role.ASSISTANT,
                    user ? userText(random) : assistantText(random),
                    atMs));
        }
        return messages;
    }

    /** A Telegram text message update as ingest stores it (the JSON shape the Bot API sends). */
    public static StoredUpdate textUpdate(long updateId, long chatId, long messageId, String text, long nowMs) {
        JsonNodeFactory json = JsonNodeFactory.instance;
        ObjectNode from = json.objectNode()
                .put("id", chatId)
                .put("is_bot", false)
                .put("first_name", "Ann")
                .put("last_name", "Example")
                .put("username", "ann_example")
                .put("language_code", "en");
        ObjectNode chat = json.objectNode()
                .put("id", chatId)
                .put("first_name", "Ann")
                .put("last_name", "Example")
                .put("username", "ann_example")
                .put("type", "private");
        ObjectNode message = json.objectNode()
                .put("message_id", messageId)
                .put("date", nowMs / 1000)
                .put("text", text);
        message.set("from", from);
        message.set("chat", chat);
        ObjectNode update = json.objectNode().put("update_id", updateId);
        update.set("message", message);
        return StoredUpdate.of(updateId, chatId, nowMs, update);
    }

    /** A closed thought of three messages carrying a context of {@code contextMessages} messages over 6 h. */
    public static Thought thought(SplittableRandom random, long chatId, int contextMessages, long nowMs) {
        List<ThoughtMessage> messages = List.of(
                new ThoughtMessage(1001, userText(random), nowMs - 4000),
                new ThoughtMessage(1002, userText(random), nowMs - 2500),
                new ThoughtMessage(1003, userText(random), nowMs - 1500));
        List<ContextMessage> context = conversation(random, contextMessages, 6 * 3_600_000L, nowMs - 60_000);
        return new Thought(
                Thought.SCHEMA_VERSION,
                Thought.idFor(chatId, 1001),
                chatId,
                messages,
                1001,
                1003,
                nowMs - 4000,
                nowMs,
                context);
    }

    /** One bubble of a reply. */
    public static ReplyPart replyPart(SplittableRandom random, long chatId, long nowMs) {
        String thoughtId = Thought.idFor(chatId, 1001);
        return new ReplyPart(
                ReplyPart.SCHEMA_VERSION,
                ReplyPart.replyIdFor(thoughtId),
                thoughtId,
                chatId,
                1003,
                1,
                false,
                assistantText(random),
                nowMs);
    }

    /** The emitter's report that a bubble was sent. */
    public static Delivery delivery(SplittableRandom random, long chatId, long nowMs) {
        return Delivery.sent(replyPart(random, chatId, nowMs - 300), 52_001, nowMs);
    }
}
