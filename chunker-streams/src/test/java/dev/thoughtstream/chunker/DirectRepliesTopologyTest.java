package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.chunker.thought.BotReplies;
import dev.thoughtstream.chunker.thought.OpenThought;
import dev.thoughtstream.common.event.ContextMessage;
import dev.thoughtstream.common.event.Delivery.Outcome;
import dev.thoughtstream.common.event.ReplyPart;
import dev.thoughtstream.common.event.Thought;
import dev.thoughtstream.common.event.ThoughtMessage;
import dev.thoughtstream.common.telegram.ChatCommand;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What the chunker answers itself, straight to the replies topic: the commands /start, /help and /reset, and
 * messages without words. Captions, on the other hand, are text.
 */
class DirectRepliesTopologyTest {
    private static final long GAP = 1500;
    private static final long CHAT = 42;
    private static final Map<String, String> TEXTS = Map.of(
            ChunkerConfig.BOT_GREETING, "Hello from the test!",
            ChunkerConfig.BOT_HELP_TEXT, "Test help",
            ChunkerConfig.BOT_RESET_TEXT, "Test reset done",
            ChunkerConfig.NON_TEXT_REPLY, "Test: words only, please");

    @TempDir
    Path stateDir;

    // --- commands --------------------------------------------------------------------------------------------

    @Test
    void startIsAnsweredAtOnceWithTheGreetingAsOneFinalPartWithIdsFromTheCommandsMessage() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, TEXTS)) {
            // when the person sends /start, and the clock does not move
            long now = chunker.now();
            chunker.text(CHAT, 1001, "/start");

            // then the greeting is on the replies topic, keyed by the chat, as one final part
            TestRecord<Long, ReplyPart> record = chunker.replies.readRecord();
            assertEquals(CHAT, record.key());
            assertEquals(
                    new ReplyPart(
                            ReplyPart.SCHEMA_VERSION,
                            "r:42:1001:start",
                            "42:1001:start",
                            CHAT,
                            1001,
                            0,
                            true,
                            "Hello from the test!",
                            now),
                    record.value());
            assertEquals(now, record.timestamp());
            assertTrue(chunker.replies.isEmpty());

            // and no thought is opened or emitted for it
            assertNull(chunker.openThoughts().get(CHAT));
            chunker.advance(GAP * 4);
            assertTrue(chunker.thoughts.isEmpty());
        }
    }

    @Test
    void helpIsAnsweredWhileAnOpenThoughtStaysOpenWithItsDeadlineAndWithoutTheCommand() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, TEXTS)) {
            // given an open thought
            long opened = chunker.now();
            chunker.text(CHAT, 1001, "I have a question");
            chunker.advance(500);

            // when /help arrives
            chunker.text(CHAT, 1002, "/help");

            // then the help is out at once
            ReplyPart help = chunker.replies.readValue();
            assertEquals("Test help", help.text());
            assertEquals("r:42:1002:help", help.replyId());
            assertEquals(1002, help.lastMessageId());
            // and the thought is unchanged: same message, same deadline
            OpenThought open = chunker.openThoughts().get(CHAT);
            assertEquals(1, open.messages().size());
            assertEquals(opened + GAP, open.deadlineMs());

            // and it is emitted at its deadline without the command
            chunker.advance(GAP - 500);
            Thought thought = chunker.thoughts.readValue();
            assertEquals(
                    List.of("I have a question"),
                    thought.messages().stream().map(ThoughtMessage::text).toList());
            assertEquals(opened + GAP, thought.closedAtMs());
        }
    }

    @Test
    void theDefaultHelpListsEveryCommand() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            chunker.text(CHAT, 1001, "/help");

            String help = chunker.replies.readValue().text();
            for (ChatCommand command : ChatCommand.values()) {
                assertTrue(help.contains("/" + command.commandName()), help);
            }
        }
    }

    @Test
    void resetClearsTheContextAndTheOpenThoughtAndConfirms() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, TEXTS)) {
            // given a conversation: an emitted thought, a reply the person saw, and a thought still open
            chunker.text(CHAT, 1001, "my name is Ada");
            chunker.advance(GAP);
            Thought first = chunker.thoughts.readValue();
            chunker.delivery(CHAT, first.thoughtId(), 0, Outcome.SENT, "Nice to meet you, Ada");
            chunker.advance(1000);
            chunker.text(CHAT, 1002, "and my secret is");
            assertTrue(chunker.openThoughts().get(CHAT) != null);

            // when the person sends /reset
            long resetAt = chunker.now();
            chunker.text(CHAT, 1003, "/reset");

            // then the reset is confirmed at once
            assertEquals(
                    new ReplyPart(
                            ReplyPart.SCHEMA_VERSION,
                            "r:42:1003:reset",
                            "42:1003:reset",
                            CHAT,
                            1003,
                            0,
                            true,
                            "Test reset done",
                            resetAt),
                    chunker.replies.readValue());
            // and the open thought and its deadline index entry are gone
            assertNull(chunker.openThoughts().get(CHAT));
            try (var index = chunker.deadlineIndex().all()) {
                assertTrue(!index.hasNext(), "no deadline left for the chat");
            }
            // and the context is empty
            assertEquals(List.of(), chunker.contexts().get(CHAT).messages());

            // and the cleared thought is never emitted
            chunker.advance(60_000);
            assertTrue(chunker.thoughts.isEmpty());

            // when the person writes again
            chunker.text(CHAT, 1004, "what's my name?");
            chunker.advance(GAP);

            // then that thought has nothing before it, and holds only the new message
            Thought next = chunker.thoughts.readValue();
            assertEquals("42:1004", next.thoughtId());
            assertEquals(List.of(), next.context());
            assertEquals(
                    List.of("what's my name?"),
                    next.messages().stream().map(ThoughtMessage::text).toList());
        }
    }

    @Test
    void afterAResetRedeliveriesOfTheClearedMessagesAndOfTheResetItselfAreSkipped() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, TEXTS)) {
            chunker.text(CHAT, 1001, "forget this");
            chunker.text(CHAT, 1002, "/reset");
            assertEquals("Test reset done", chunker.replies.readValue().text());

            // when both are delivered again (ingest may write an update twice after a crash)
            chunker.text(CHAT, 1001, "forget this");
            chunker.text(CHAT, 1002, "/reset");
            chunker.advance(GAP * 4);

            // then neither the message nor the confirmation comes back
            assertTrue(chunker.thoughts.isEmpty());
            assertTrue(chunker.replies.isEmpty());
            assertNull(chunker.openThoughts().get(CHAT));
        }
    }

    @Test
    void resetInAChatWithNothingToForgetStillConfirms() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, TEXTS)) {
            chunker.text(CHAT, 1001, "/reset");

            assertEquals("Test reset done", chunker.replies.readValue().text());
            assertEquals(List.of(), chunker.contexts().get(CHAT).messages());
        }
    }

    @Test
    void aCommandAddressedToTheBotByUsernameIsRecognised() {
        try (ChunkerHarness chunker =
                ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.BOT_USERNAME, "thoughtstream_bot"))) {
            chunker.text(-1_005L, 1001, "/help@thoughtstream_bot");

            ReplyPart help = chunker.replies.readValue();
            assertEquals(BotReplies.DEFAULT_HELP, help.text());
            assertEquals(-1_005L, help.chatId());
            assertNull(chunker.openThoughts().get(-1_005L));
        }
    }

    @Test
    void withoutAConfiguredUsernameAnyAddresseeIsAcceptedAndArgumentsAreIgnored() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, TEXTS)) {
            chunker.text(CHAT, 1001, "/help@thoughtstream_bot");
            chunker.text(CHAT, 1002, "/start from-a-deep-link");

            assertEquals(
                    List.of("Test help", "Hello from the test!"),
                    chunker.directReplies().stream().map(ReplyPart::text).toList());
        }
    }

    @Test
    void aCommandForAnotherBotAndAnUnknownCommandAreOrdinaryText() {
        try (ChunkerHarness chunker =
                ChunkerHarness.start(stateDir, Map.of(ChunkerConfig.BOT_USERNAME, "thoughtstream_bot"))) {
            chunker.text(CHAT, 1001, "/help@other_bot");
            chunker.text(CHAT, 1002, "/weather tomorrow");
            chunker.advance(GAP);

            assertTrue(chunker.replies.isEmpty());
            assertEquals(
                    List.of("/help@other_bot", "/weather tomorrow"),
                    chunker.thoughts.readValue().messages().stream()
                            .map(ThoughtMessage::text)
                            .toList());
        }
    }

    @Test
    void anEditThatReadsAsACommandIsIgnored() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, TEXTS)) {
            long sent = chunker.now() / 1000 * 1000;
            chunker.text(CHAT, 1001, "/start");
            chunker.replies.readValue();

            chunker.edit(CHAT, 1001, "/reset", sent);
            chunker.advance(GAP * 4);

            assertTrue(chunker.replies.isEmpty());
            assertTrue(chunker.thoughts.isEmpty());
        }
    }

    // --- messages without words ------------------------------------------------------------------------------

    @Test
    void aPhotoWithACaptionIsATextMessageWhoseTextIsTheCaption() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, TEXTS)) {
            chunker.text(CHAT, 1001, "look what I found");
            chunker.media(CHAT, 1002, "photo", "my old bike", null);
            chunker.advance(GAP);

            Thought thought = chunker.thoughts.readValue();
            assertEquals("look what I found\nmy old bike", thought.text());
            assertEquals("photo", thought.messages().get(1).attachment());
            assertTrue(chunker.replies.isEmpty(), "a captioned photo needs no polite reply");
        }
    }

    @Test
    void aStickerIsAnsweredPolitelyAtOnceWithoutAThought() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, TEXTS)) {
            long now = chunker.now();
            chunker.media(CHAT, 1001, "sticker", null, null);

            assertEquals(
                    new ReplyPart(
                            ReplyPart.SCHEMA_VERSION,
                            "r:42:1001:non-text",
                            "42:1001:non-text",
                            CHAT,
                            1001,
                            0,
                            true,
                            "Test: words only, please",
                            now),
                    chunker.replies.readValue());
            assertNull(chunker.openThoughts().get(CHAT));
            chunker.advance(GAP * 4);
            assertTrue(chunker.thoughts.isEmpty());
            // and nothing enters the conversation memory
            assertNull(chunker.contexts().get(CHAT));
        }
    }

    @Test
    void aVoiceNoteDuringAnOpenThoughtIsAnsweredAndLeavesTheThoughtAsItWas() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir)) {
            long opened = chunker.now();
            chunker.text(CHAT, 1001, "listen to this");
            chunker.advance(500);
            chunker.media(CHAT, 1002, "voice", null, null);

            assertEquals(
                    BotReplies.DEFAULT_NON_TEXT, chunker.replies.readValue().text());
            assertEquals(opened + GAP, chunker.openThoughts().get(CHAT).deadlineMs());
            chunker.advance(GAP - 500);
            assertEquals(
                    List.of("listen to this"),
                    chunker.thoughts.readValue().messages().stream()
                            .map(ThoughtMessage::text)
                            .toList());
        }
    }

    @Test
    void anAlbumOfPhotosWithoutCaptionGetsOnePoliteReply() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, TEXTS)) {
            chunker.media(CHAT, 1001, "photo", null, "album-7");
            chunker.media(CHAT, 1002, "photo", null, "album-7");
            chunker.media(CHAT, 1003, "photo", null, "album-7");

            List<ReplyPart> replies = chunker.directReplies();
            assertEquals(
                    List.of("r:42:1001:non-text"),
                    replies.stream().map(ReplyPart::replyId).toList());

            // and a later sticker, outside the album, is answered again
            chunker.media(CHAT, 1004, "sticker", null, null);
            assertEquals("r:42:1004:non-text", chunker.replies.readValue().replyId());
            assertNull(chunker.albums().get(CHAT), "the album is forgotten once the chat moved on");
        }
    }

    @Test
    void anAlbumWhoseFirstPhotoHasACaptionIsOneThoughtAndNoPoliteReply() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, TEXTS)) {
            chunker.media(CHAT, 1001, "photo", "our holiday", "album-8");
            chunker.media(CHAT, 1002, "photo", null, "album-8");
            chunker.advance(GAP);

            assertTrue(chunker.replies.isEmpty());
            assertEquals("our holiday", chunker.thoughts.readValue().text());
        }
    }

    @Test
    void commandsAndWordlessMessagesThemselvesDoNotEnterTheConversationMemory() {
        try (ChunkerHarness chunker = ChunkerHarness.start(stateDir, TEXTS)) {
            chunker.text(CHAT, 1001, "/start");
            chunker.media(CHAT, 1002, "sticker", null, null);
            chunker.text(CHAT, 1003, "hi");
            chunker.advance(GAP);

            Thought thought = chunker.thoughts.readValue();
            assertEquals(List.of(), thought.context());
            assertEquals(
                    List.of("hi"),
                    chunker.contexts().get(CHAT).messages().stream()
                            .map(ContextMessage::text)
                            .toList());
        }
    }
}
