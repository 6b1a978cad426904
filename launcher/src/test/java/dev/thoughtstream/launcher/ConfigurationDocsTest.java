package dev.thoughtstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.service.ServiceFactory;
import dev.thoughtstream.devstack.DevStack;
import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The README's configuration tables against the code: what each subcommand's {@code --help} lists (from those
 * tables) is exactly what its service reads, and every variable a service reads is documented for it.
 */
class ConfigurationDocsTest {
    private static final Set<String> READ_ELSEWHERE = ServiceVariables.READ_OUTSIDE_CONFIG;

    private final VariableDocs docs = VariableDocs.load();

    /** Every variable {@code factory} reads in any mode, as its runner reads them. */
    private static Set<String> reads(ServiceFactory factory) {
        return ServiceVariables.readBy(factory);
    }

    private Set<String> documented(String command) {
        Set<String> names = new TreeSet<>();
        for (String section : VariableDocs.sectionsOf(command)) {
            docs.rows(section).forEach(r -> names.addAll(r.names()));
        }
        return names;
    }

    @Test
    void everySubcommandListsExactlyTheVariablesItsServiceReads() {
        for (ServiceFactory factory : Thoughtstream.SERVICES) {
            // Given the variables the service reads, and those its --help lists
            Set<String> read = reads(factory);
            Set<String> listed = documented(factory.name());
            listed.removeAll(READ_ELSEWHERE);

            // Then the two are the same
            Set<String> undocumented = new TreeSet<>(read);
            undocumented.removeAll(listed);
            Set<String> notRead = new TreeSet<>(listed);
            notRead.removeAll(read);
            assertTrue(
                    undocumented.isEmpty(),
                    factory.name() + " reads variables the README does not list for it: " + undocumented);
            assertTrue(
                    notRead.isEmpty(),
                    "the README lists variables for " + factory.name() + " that it never reads: " + notRead);
        }
    }

    @Test
    void devstacksOwnVariablesAreItsSectionOfTheReadme() {
        Set<String> read = new TreeSet<>();
        DevStack.validate(Config.of(Map.of()).observed(read::add));
        Set<String> listed = new TreeSet<>();
        docs.rows("devstack").forEach(r -> listed.addAll(r.names()));
        // devstack looks at the shared variables too, to decide what to start itself
        read.removeIf(name -> !listed.contains(name) && documented("devstack").contains(name));
        assertEquals(listed, read);
    }

    @Test
    void theEmulatorSubcommandListsExactlyTheVariablesItReads() {
        // Given the variables the emulator reads, with and without a token of its own
        Set<String> read = new TreeSet<>();
        EmulatorCommand.Settings.from(Config.of(Map.of()).observed(read::add));
        EmulatorCommand.Settings.from(Config.of(Map.of(
                        "TG_BOT_TOKEN",
                        "123456:ABCdef",
                        "EMULATOR_PORT",
                        "0",
                        "EMULATOR_BIND_ADDRESS",
                        "127.0.0.1",
                        "EMULATOR_STATE_DIR",
                        "emulator-state"))
                .observed(read::add));

        // Then its --help lists exactly those (from the README's emulator section)
        Set<String> listed = documented("emulator");
        listed.removeAll(READ_ELSEWHERE);
        assertEquals(listed, read);
        assertTrue(help("emulator").contains("EMULATOR_PORT  [8088]"), help("emulator"));
    }

    @Test
    void theReadmeNamesTheTokenDevstacksEmulatorAccepts() {
        // Given the token devstack's emulator accepts, which only the code decides
        String token = DevStack.OFFLINE_TOKEN;

        // Then the README gives it as TG_BOT_TOKEN's devstack default and as the emulator subcommand's default
        for (String section : List.of("Telegram", "emulator")) {
            VariableDocs.Row row = docs.rows(section).stream()
                    .filter(r -> r.names().contains("TG_BOT_TOKEN"))
                    .findFirst()
                    .orElseThrow(() -> new AssertionError("no TG_BOT_TOKEN row in the README's " + section));
            assertTrue(row.defaultValue().contains(token), section + ": " + row.defaultValue());
        }
    }

    @Test
    void helpListsTheSubcommandsAndEachSubcommandsVariables() {
        // When an operator asks for help
        String top = help();
        String emitter = help("emitter");

        // Then the top level lists every subcommand, and a subcommand's help its variables with their defaults
        for (String command : List.of("ingest", "chunker", "llm-processor", "emitter", "devstack", "emulator")) {
            assertTrue(top.contains("  " + command + " "), command + " in:\n" + top);
        }
        assertTrue(emitter.contains("EMITTER_GROUP_ID  [thoughtstream-emitter]"), emitter);
        assertTrue(emitter.contains("KAFKA_BOOTSTRAP_SERVERS"), emitter);
        assertFalse(emitter.contains("CHUNK_GAP_MS"), "the chunker's variables are not the emitter's:\n" + emitter);
    }

    private static String help(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        CommandLine cl = Thoughtstream.commandLine();
        cl.setOut(new PrintWriter(out, true, StandardCharsets.UTF_8));
        String[] withHelp = java.util.stream.Stream.concat(
                        java.util.Arrays.stream(args), java.util.stream.Stream.of("--help"))
                .toArray(String[]::new);
        assertEquals(0, cl.execute(withHelp));
        return out.toString(StandardCharsets.UTF_8);
    }
}
