package dev.thoughtstream.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigCheck;
import dev.thoughtstream.common.service.ServiceRunner;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * devstack checks every variable of its own and of the four services before it starts a broker, Redis, the emulator
 * or a thread, and names all the bad ones in one error.
 */
class DevStackCheckTest {

    @Test
    void badSettingsOfSeveralServicesStopDevstackWithOneErrorNamingAllOfThemAndNothingStarted(@TempDir Path tmp)
            throws IOException {
        // given a bad partition count (shared), an unknown model provider (llm-processor) and an unknown log level,
        // on a data directory and ports devstack would use
        Path dataDir = tmp.resolve("data");
        int kafkaPort = freePort();
        int emulatorPort = freePort();
        Config config = Config.of(Map.of(
                "DEVSTACK_DATA_DIR",
                dataDir.toString(),
                "DEVSTACK_KAFKA_PORT",
                String.valueOf(kafkaPort),
                "EMULATOR_PORT",
                String.valueOf(emulatorPort),
                "TOPIC_PARTITIONS",
                "abc",
                "LLM_PROVIDER",
                "foo",
                "LOG_LEVEL",
                "LOUD"));

        // when devstack is run
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream before = System.err;
        int code;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try {
            code = Main.run(config);
        } finally {
            System.setErr(before);
        }

        // then it exits with the configuration code and one error that names the three variables with their values
        String error = err.toString(StandardCharsets.UTF_8);
        assertEquals(ServiceRunner.EXIT_CONFIG, code, error);
        assertTrue(error.startsWith("invalid configuration, 3 variables to fix:\n"), error);
        assertTrue(error.contains("  LLM_PROVIDER: expected one of ollama | openai | scripted but was 'foo'"), error);
        assertTrue(
                error.contains("  LOG_LEVEL: expected one of off | fatal | error | warn | info | debug | trace | all "
                        + "but was 'LOUD'"),
                error);
        assertTrue(error.contains("  TOPIC_PARTITIONS: expected a whole number but was 'abc'"), error);

        // and nothing was started: no broker or Redis data, the broker's and the emulator's ports still free
        assertFalse(Files.exists(dataDir), "devstack's data directory was created");
        assertTrue(isFree(kafkaPort), "the broker's port is taken");
        assertTrue(isFree(emulatorPort), "the emulator's port is taken");
    }

    @Test
    void withNothingConfiguredEverythingPasses() {
        ConfigCheck check = DevStackCheck.check(Config.of(Map.of()));

        assertTrue(check.passed(), check.report());
    }

    @Test
    void whatTheUserGivesInsteadOfTheLocalStandInsIsCheckedToo() {
        // given a broker, Redis, a bot token and a trace collector of the user's own, each of them wrong
        Config config = Config.of(Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "broker:9092",
                "INSTANCE_ID", "two words",
                "REDIS_URL", "http://redis:6379",
                "TG_BOT_TOKEN", "not-a-token",
                "EMULATOR_PORT", "70000",
                "HTTP_PORT", "http",
                "OTEL_EXPORTER_OTLP_ENDPOINT", "jaeger:4318"));

        ConfigCheck check = DevStackCheck.check(config);

        assertEquals(
                Set.of(
                        "EMULATOR_PORT",
                        "HTTP_PORT",
                        "INSTANCE_ID",
                        "OTEL_EXPORTER_OTLP_ENDPOINT",
                        "REDIS_URL",
                        "TG_BOT_TOKEN"),
                check.variables());
        assertFalse(check.report().contains("not-a-token"), check.report());
    }

    @Test
    void devstacksDefaultsStillGiveWayToTheUsersValues() {
        // given a user's partition count that is valid, but a model that needs a key it was not given
        Config config = Config.of(Map.of("TOPIC_PARTITIONS", "12", "LLM_PROVIDER", "openai"));

        ConfigCheck check = DevStackCheck.check(config);

        assertEquals(Set.of("LLM_API_KEY"), check.variables());
    }

    @Test
    void aMisspeltVariableIsPointedOutWithTheNameItResembles() {
        // given a partition count under a misspelt name, and a variable of the environment that is none of ours
        Config config = Config.of(Map.of("TOPIC_PARTITON", "12", "HTTP_PROXY", "http://proxy:3128", "PATH", "/bin"));

        DevStackCheck.Outcome outcome = DevStackCheck.checkAll(config);

        assertTrue(outcome.check().passed(), outcome.check().report());
        assertEquals(Map.of("TOPIC_PARTITON", "TOPIC_PARTITIONS"), outcome.typos());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    private static boolean isFree(int port) {
        try (ServerSocket socket = new ServerSocket(port)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
