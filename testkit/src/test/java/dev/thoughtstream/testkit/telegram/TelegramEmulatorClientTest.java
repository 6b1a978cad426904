package dev.thoughtstream.testkit.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.testkit.MutableClock;
import java.io.Serializable;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.telegram.telegrambots.client.okhttp.OkHttpTelegramClient;
import org.telegram.telegrambots.meta.TelegramUrl;
import org.telegram.telegrambots.meta.api.methods.ActionType;
import org.telegram.telegrambots.meta.api.methods.GetMe;
import org.telegram.telegrambots.meta.api.methods.ParseMode;
import org.telegram.telegrambots.meta.api.methods.commands.GetMyCommands;
import org.telegram.telegrambots.meta.api.methods.commands.SetMyCommands;
import org.telegram.telegrambots.meta.api.methods.send.SendChatAction;
import org.telegram.telegrambots.meta.api.methods.send.SendMessage;
import org.telegram.telegrambots.meta.api.methods.updatingmessages.DeleteMessage;
import org.telegram.telegrambots.meta.api.methods.updatingmessages.EditMessageText;
import org.telegram.telegrambots.meta.api.objects.ReplyParameters;
import org.telegram.telegrambots.meta.api.objects.User;
import org.telegram.telegrambots.meta.api.objects.commands.BotCommand;
import org.telegram.telegrambots.meta.api.objects.message.Message;
import org.telegram.telegrambots.meta.exceptions.TelegramApiRequestException;
import org.telegram.telegrambots.meta.generics.TelegramClient;

/** The real TelegramBots {@code OkHttpTelegramClient} sending to the emulator over real sockets. */
class TelegramEmulatorClientTest {
    private static final String TOKEN = "4242:client-TOKEN_x";

    private final MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
    private final TelegramEmulator telegram =
            TelegramEmulator.builder().botToken(TOKEN).clock(clock).build().start();
    private final OkHttpClient http =
            new OkHttpClient.Builder().readTimeout(30, TimeUnit.SECONDS).build();
    private final TelegramClient client = clientWithToken(TOKEN);

    @AfterEach
    void stop() {
        http.dispatcher().executorService().shutdown();
        http.connectionPool().evictAll();
        telegram.close();
    }

    private TelegramClient clientWithToken(String token) {
        return new OkHttpTelegramClient(http, token, new TelegramUrl("http", "127.0.0.1", telegram.port(), false));
    }

    @Test
    void theBotTalksInAChatAPersonOpenedAndEverythingShowsInTheTranscript() throws Exception {
        // given a person who wrote "hi" (message 1)
        UserMessage hi = telegram.injectMessage(
                IncomingMessage.text(42, "hi").firstName("Ann").build());
        assertEquals(1, hi.messageId());

        // when the bot introduces itself, types, replies, edits, sends and deletes a message, sets commands
        User me = client.execute(new GetMe());
        Boolean typing = client.execute(SendChatAction.builder()
                .chatId(42L)
                .action(ActionType.TYPING.toString())
                .build());
        Message reply = client.execute(SendMessage.builder()
                .chatId(42L)
                .text("Hello!")
                .replyParameters(
                        ReplyParameters.builder().messageId(hi.messageId()).build())
                .build());
        Serializable edited = client.execute(EditMessageText.builder()
                .chatId(42L)
                .messageId(reply.getMessageId())
                .text("Hello, Ann!")
                .build());
        Message bye =
                client.execute(SendMessage.builder().chatId(42L).text("oops").build());
        Boolean deleted = client.execute(DeleteMessage.builder()
                .chatId(42L)
                .messageId(bye.getMessageId())
                .build());
        Boolean commandsSet = client.execute(SetMyCommands.builder()
                .commands(List.of(
                        BotCommand.builder()
                                .command("start")
                                .description("Start over")
                                .build(),
                        BotCommand.builder()
                                .command("reset")
                                .description("Forget the chat")
                                .build()))
                .build());
        List<BotCommand> commands = client.execute(new GetMyCommands());

        // then every call answered like Telegram
        assertTrue(me.getIsBot());
        assertEquals(BotIdentity.DEFAULT.username(), me.getUserName());
        assertTrue(typing);
        assertEquals(2, reply.getMessageId(), "message ids are per chat and shared with the person's messages");
        assertEquals(me.getId(), reply.getFrom().getId());
        assertEquals(42L, reply.getChatId());
        assertEquals("Ann", reply.getChat().getFirstName());
        assertEquals(clock.instant().getEpochSecond(), reply.getDate().longValue());
        assertEquals("hi", reply.getReplyToMessage().getText());
        assertEquals("Hello, Ann!", assertInstanceOf(Message.class, edited).getText());
        assertEquals(3, bye.getMessageId());
        assertTrue(deleted);
        assertTrue(commandsSet);
        assertEquals(
                List.of("start", "reset"),
                commands.stream().map(BotCommand::getCommand).collect(Collectors.toList()));

        // and the person saw exactly this, in order
        assertEquals(
                List.of(
                        "user:hi#1",
                        "bot:typing",
                        "bot:Hello!#2>1",
                        "bot:edit:Hello, Ann!#2",
                        "bot:oops#3",
                        "bot:delete#3"),
                telegram.transcript(42).stream()
                        .map(TelegramEmulatorClientTest::describe)
                        .collect(Collectors.toList()));
        assertEquals(clock.millis(), telegram.transcript(42).get(0).at());
    }

    @Test
    void aMessageOfMoreThan4096CharactersIsRefusedAnd4096AreFine() throws Exception {
        telegram.injectMessage(42, "hi");

        TelegramApiRequestException tooLong = assertThrows(
                TelegramApiRequestException.class,
                () -> client.execute(
                        SendMessage.builder().chatId(42L).text("x".repeat(4097)).build()));
        Message longest = client.execute(
                SendMessage.builder().chatId(42L).text("x".repeat(4096)).build());

        assertEquals(400, tooLong.getErrorCode());
        assertEquals("Bad Request: message is too long", tooLong.getApiResponse());
        assertEquals(4096, longest.getText().length());
    }

    @Test
    void aPlannedRateLimitFailsOnlyTheFaultedChatWithRetryAfter() throws Exception {
        // given two chats and a 429 planned twice for chat 42 only
        telegram.injectMessage(42, "hi");
        telegram.injectMessage(43, "hi");
        telegram.addFault("sendMessage", 429, 7, 2, 42L, null);

        // when the bot sends to both
        Message toOther =
                client.execute(SendMessage.builder().chatId(43L).text("fine").build());
        TelegramApiRequestException first = assertThrows(
                TelegramApiRequestException.class,
                () -> client.execute(
                        SendMessage.builder().chatId(42L).text("one").build()));
        TelegramApiRequestException second = assertThrows(
                TelegramApiRequestException.class,
                () -> client.execute(
                        SendMessage.builder().chatId(42L).text("two").build()));
        Message third =
                client.execute(SendMessage.builder().chatId(42L).text("three").build());

        // then the other chat was never limited, chat 42 failed twice with retry_after, then recovered
        assertEquals("fine", toOther.getText());
        assertEquals(429, first.getErrorCode());
        assertEquals(7, first.getParameters().getRetryAfter());
        assertEquals("Too Many Requests: retry after 7", first.getApiResponse());
        assertEquals(429, second.getErrorCode());
        assertEquals("three", third.getText());
        assertEquals(List.of("three"), telegram.botTexts(42));
        assertEquals(
                List.of(200, 429, 429, 200),
                telegram.calls("sendmessage").stream().map(ApiCall::status).collect(Collectors.toList()));
        assertTrue(telegram.faults().isEmpty());
    }

    @Test
    void aPlannedServerErrorUsesTelegramsWording() {
        telegram.injectMessage(42, "hi");
        telegram.addFault("sendChatAction", 500, 1);

        TelegramApiRequestException failure = assertThrows(
                TelegramApiRequestException.class,
                () -> client.execute(
                        SendChatAction.builder().chatId(42L).action("typing").build()));

        assertEquals(500, failure.getErrorCode());
        assertEquals("Internal Server Error", failure.getApiResponse());
    }

    @Test
    void floodLimitsAnswer429UntilTheWindowHasPassed() throws Exception {
        // given one message per chat per second allowed
        telegram.injectMessage(42, "hi");
        telegram.enforceLimits(1, 30);
        client.execute(SendMessage.builder().chatId(42L).text("one").build());

        // when the bot sends again within the same second
        TelegramApiRequestException limited = assertThrows(
                TelegramApiRequestException.class,
                () -> client.execute(
                        SendMessage.builder().chatId(42L).text("two").build()));

        // then it is told to wait, and may send once a second has passed
        assertEquals(429, limited.getErrorCode());
        assertEquals(1, limited.getParameters().getRetryAfter());
        clock.advance(Duration.ofSeconds(1));
        assertEquals(
                "three",
                client.execute(SendMessage.builder().chatId(42L).text("three").build())
                        .getText());
    }

    @Test
    void sendingToAChatThatBlockedTheBotIsForbiddenUntilUnblocked() throws Exception {
        telegram.injectMessage(42, "hi");
        telegram.block(42);

        TelegramApiRequestException blocked = assertThrows(
                TelegramApiRequestException.class,
                () -> client.execute(
                        SendMessage.builder().chatId(42L).text("hello?").build()));
        telegram.unblock(42);
        Message after = client.execute(
                SendMessage.builder().chatId(42L).text("hello again").build());

        assertEquals(403, blocked.getErrorCode());
        assertEquals("Forbidden: bot was blocked by the user", blocked.getApiResponse());
        assertEquals(List.of("hello again"), telegram.botTexts(42));
        assertEquals("hello again", after.getText());
    }

    @Test
    void sendingToAChatNobodyWroteFromIsChatNotFound() {
        TelegramApiRequestException unknown = assertThrows(
                TelegramApiRequestException.class,
                () -> client.execute(
                        SendMessage.builder().chatId(99L).text("anyone?").build()));

        assertEquals(400, unknown.getErrorCode());
        assertEquals("Bad Request: chat not found", unknown.getApiResponse());
    }

    @Test
    void markdownV2WithAnUnescapedReservedCharacterIsRefusedButPlainTextIsSent() throws Exception {
        telegram.injectMessage(42, "hi");

        TelegramApiRequestException refused = assertThrows(
                TelegramApiRequestException.class,
                () -> client.execute(SendMessage.builder()
                        .chatId(42L)
                        .text("All done.")
                        .parseMode(ParseMode.MARKDOWNV2)
                        .build()));
        Message plain = client.execute(
                SendMessage.builder().chatId(42L).text("All done.").build());
        Message escaped = client.execute(SendMessage.builder()
                .chatId(42L)
                .text("*All* done\\.")
                .parseMode(ParseMode.MARKDOWNV2)
                .build());

        assertEquals(400, refused.getErrorCode());
        assertEquals(
                "Bad Request: can't parse entities: Character '.' is reserved and must be escaped with the "
                        + "preceding '\\'",
                refused.getApiResponse());
        assertEquals("All done.", plain.getText());
        assertNull(plain.getEntities());
        assertEquals("All done.", escaped.getText());
        assertEquals("bold", escaped.getEntities().get(0).getType());
        assertEquals(3, escaped.getEntities().get(0).getLength());
        assertEquals(List.of("All done.", "All done."), telegram.botTexts(42));
    }

    @Test
    void editingAMessageThatDoesNotExistOrDidNotChangeIsABadRequest() throws Exception {
        telegram.injectMessage(42, "hi");
        Message sent =
                client.execute(SendMessage.builder().chatId(42L).text("same").build());

        TelegramApiRequestException missing = assertThrows(
                TelegramApiRequestException.class,
                () -> client.execute(EditMessageText.builder()
                        .chatId(42L)
                        .messageId(77)
                        .text("x")
                        .build()));
        TelegramApiRequestException unchanged = assertThrows(
                TelegramApiRequestException.class,
                () -> client.execute(EditMessageText.builder()
                        .chatId(42L)
                        .messageId(sent.getMessageId())
                        .text("same")
                        .build()));
        TelegramApiRequestException notTheBots = assertThrows(
                TelegramApiRequestException.class,
                () -> client.execute(EditMessageText.builder()
                        .chatId(42L)
                        .messageId(1)
                        .text("x")
                        .build()));

        assertEquals("Bad Request: message to edit not found", missing.getApiResponse());
        assertTrue(unchanged.getApiResponse().startsWith("Bad Request: message is not modified"));
        assertEquals("Bad Request: message can't be edited", notTheBots.getApiResponse());
    }

    @Test
    void aClientWithTheWrongTokenIsUnauthorized() {
        TelegramApiRequestException unauthorized = assertThrows(
                TelegramApiRequestException.class,
                () -> clientWithToken("4242:someone-else").execute(new GetMe()));

        assertEquals(401, unauthorized.getErrorCode());
        assertEquals("Unauthorized", unauthorized.getApiResponse());
    }

    private static String describe(TranscriptEntry e) {
        StringBuilder s = new StringBuilder(e.from()).append(':');
        if (e.action() != null) {
            s.append(e.action());
            if (e.text() != null) {
                s.append(':').append(e.text());
            }
        } else {
            s.append(e.text());
        }
        if (e.messageId() != null) {
            s.append('#').append(e.messageId());
        }
        if (e.replyTo() != null) {
            s.append('>').append(e.replyTo());
        }
        return s.toString();
    }
}
