package dev.thoughtstream.devstack;

import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * devstack with {@code LLM_PROVIDER=ollama} and no Ollama running: it starts all the same (Ollama may come up later),
 * and its ready line says where it looked for the model and what it found.
 */
class DevStackModelProbeTest {

    @Test
    void withNoOllamaRunningTheReadyLineSaysWhereTheModelWasLookedForAndThatNothingAnswered(@TempDir Path dataDir)
            throws Exception {
        int port;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = socket.getLocalPort();
        }
        String url = "http://127.0.0.1:" + port;
        Config config = Config.of(Map.of(
                "DEVSTACK_DATA_DIR", dataDir.toString(),
                "DEVSTACK_KAFKA_PORT", "0",
                "EMULATOR_PORT", "0",
                "HTTP_PORT", "0",
                "LLM_PROVIDER", "ollama",
                "LLM_API_URL", url));

        try (DevStack stack = DevStack.start(config)) {
            String ready = stack.readyLine();
            assertTrue(ready.contains("| llm ollama llama3.2 at " + url + " (unreachable: connection refused"), ready);
        }
    }
}
