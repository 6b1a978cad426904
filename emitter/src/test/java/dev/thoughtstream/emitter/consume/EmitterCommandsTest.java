package dev.thoughtstream.emitter.consume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.event.Delivery;
import dev.thoughtstream.emitter.telegram.BotCommands;
import dev.thoughtstream.testkit.telegram.ApiCall;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.telegram.telegrambots.meta.api.methods.commands.GetMyCommands;
import org.telegram.telegrambots.meta.api.objects.commands.BotCommand;

/** The emitter registers the bot's command list with Telegram at startup, and a failure to do so stops nothing. */
class EmitterCommandsTest {
    private static final long CHAT = 4_901;
    private static final String SECRET_PART = EmitterFixture.TOKEN.substring(EmitterFixture.TOKEN.indexOf(':') + 1);

    private EmitterFixture fx;
    private Warnings warnings;

    /** The WARN and ERROR events of BotCommands, as logged. */
    private static final class Warnings extends AbstractAppender {
        final List<String> texts = new CopyOnWriteArrayList<>();

        Warnings() {
            super("emitter-commands-warnings", null, null, true, Property.EMPTY_ARRAY);
        }

        @Override
        public void append(LogEvent event) {
            if (event.getLoggerName().equals(BotCommands.class.getName())
                    && event.getLevel().isMoreSpecificThan(Level.WARN)) {
                texts.add(event.getMessage().getFormattedMessage());
            }
        }
    }

    @BeforeEach
    void setUp() {
        warnings = new Warnings();
        warnings.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().addAppender(warnings, Level.ALL, null);
        context.updateLoggers();
        fx = EmitterFixture.create("commands");
    }

    @AfterEach
    void tearDown() {
        fx.close();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        context.getConfiguration().getRootLogger().removeAppender(warnings.getName());
        context.updateLoggers();
        warnings.stop();
    }

    @Test
    void atStartupTheCommandListIsRegisteredAndTelegramReturnsIt() throws Exception {
        // when an emitter starts
        EmitterService emitter = fx.startEmitter();

        // then it registers the commands once, and Telegram accepts them
        assertTrue(outcome(emitter), "registration accepted");
        assertEquals(1, fx.emulator.calls("setMyCommands").size());
        // and getMyCommands, asked through the real client, answers with the three commands and their descriptions
        List<BotCommand> registered =
                fx.telegram.execute(GetMyCommands.builder().build());
        assertEquals(
                List.of("start", "help", "reset"),
                registered.stream().map(BotCommand::getCommand).toList());
        assertEquals(
                BotCommands.COMMANDS.stream().map(BotCommand::getDescription).toList(),
                registered.stream().map(BotCommand::getDescription).toList());
        assertTrue(registered.stream().noneMatch(c -> c.getDescription().isBlank()));
        assertTrue(warnings.texts.isEmpty(), warnings.texts.toString());
    }

    @Test
    void aFailedRegistrationIsLoggedWithoutTheTokenAndTheEmitterStillSendsReplies() throws Exception {
        // given Telegram fails the next setMyCommands
        fx.chatOpens(CHAT);
        fx.emulator.addFault("setMyCommands", 500, 1);

        // when an emitter starts
        EmitterService emitter = fx.startEmitter();

        // then the registration is reported failed, and logged without the token
        assertFalse(outcome(emitter), "registration failed");
        List<ApiCall> calls = fx.emulator.calls("setMyCommands");
        assertEquals(List.of(500), calls.stream().map(ApiCall::status).toList());
        assertEquals(1, warnings.texts.size(), warnings.texts.toString());
        assertTrue(warnings.texts.get(0).contains("cannot register the bot's commands"), warnings.texts.get(0));
        assertTrue(warnings.texts.get(0).contains("500"), warnings.texts.get(0));
        assertFalse(warnings.texts.get(0).contains(SECRET_PART), "the token is in: " + warnings.texts.get(0));

        // and the emitter carries on: a reply part still reaches the person and is reported
        fx.produce(EmitterFixture.part(CHAT, "r-after-failure", 0, true, "still here"));
        assertEquals(List.of("still here"), fx.awaitBotTexts(CHAT, 1));
        Delivery delivery = fx.awaitOutcomeOf("r-after-failure", 0).stream()
                .filter(d -> d.replyId().equals("r-after-failure"))
                .findFirst()
                .orElseThrow();
        assertEquals(Delivery.Outcome.SENT, delivery.outcome());
        assertTrue(emitter.isRunning());
    }

    private static boolean outcome(EmitterService emitter)
            throws InterruptedException, ExecutionException, TimeoutException {
        CompletableFuture<Boolean> registration = emitter.commandsRegistration().orElseThrow();
        return registration.get(EmitterFixture.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }
}
