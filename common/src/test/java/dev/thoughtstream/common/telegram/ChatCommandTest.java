package dev.thoughtstream.common.telegram;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Optional;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ChatCommandTest {

    @ParameterizedTest(name = "\"{0}\" (bot username \"{1}\")")
    @CsvSource(
            delimiter = '|',
            value = {
                "/start | '' | START",
                "/help | '' | HELP",
                "/reset | '' | RESET",
                "/START | '' | START",
                "/start abc123 | '' | START",
                "/reset now please | '' | RESET",
                "/help@thoughtstream_bot | '' | HELP",
                "/help@thoughtstream_bot | thoughtstream_bot | HELP",
                "/help@ThoughtStream_Bot | thoughtstream_bot | HELP",
                "/help@thoughtstream_bot extra | thoughtstream_bot | HELP",
                "/help, please | '' | HELP",
                "'  /help' | '' | HELP",
            })
    void recognisedCommands(String text, String botUsername, ChatCommand expected) {
        assertEquals(Optional.of(expected), ChatCommand.recognise(text, botUsername));
    }

    @ParameterizedTest(name = "\"{0}\" (bot username \"{1}\")")
    @CsvSource(
            delimiter = '|',
            value = {
                "/help@other_bot | thoughtstream_bot",
                "/weather | ''",
                "/helpme | ''",
                "/start_over | ''",
                "help | ''",
                "please /help | ''",
                "/ help | ''",
                "// | ''",
                "/ | ''",
            })
    void textThatIsNotOneOfOurCommands(String text, String botUsername) {
        assertEquals(Optional.empty(), ChatCommand.recognise(text, botUsername));
    }
}
