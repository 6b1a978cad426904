package dev.thoughtstream.chunker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service's lifecycle without a broker (nothing here connects anywhere). Running against a real broker is
 * covered by {@link ChunkerServiceKafkaTest}.
 */
class ChunkerServiceTest {
    @TempDir
    Path stateDir;

    private ChunkerService newService() {
        Config config = Config.of(Map.of(
                KafkaSettings.BOOTSTRAP, "127.0.0.1:1",
                ChunkerConfig.STREAMS_STATE_DIR, stateDir.toString(),
                ChunkerConfig.CHUNKER_APPLICATION_ID, "chunker-service-test"));
        return new ChunkerService(ChunkerConfig.from(config), KafkaSettings.from(config));
    }

    @Test
    void aServiceThatWasNeverStartedIsCreatedAndClosesCleanly() throws Exception {
        ChunkerService service = newService();
        assertEquals(KafkaStreams.State.CREATED, service.state());
        assertFalse(service.awaitRunning(Duration.ofMillis(100)), "not started, so never running");

        service.close();

        assertEquals(KafkaStreams.State.NOT_RUNNING, service.awaitStopped());
        assertEquals(KafkaStreams.State.NOT_RUNNING, service.state());
        assertEquals(0, service.deadLetters().total());
    }

    @Test
    void waitingForRunningFailsFastOnceTheServiceIsClosed() {
        ChunkerService service = newService();
        service.close();

        assertThrows(IllegalStateException.class, () -> service.awaitRunning(Duration.ofMinutes(5)));
        assertThrows(IllegalStateException.class, service::start);
        service.close();
    }
}
