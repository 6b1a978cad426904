package dev.thoughtstream.devstack;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigException;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.service.Infra;
import java.net.ServerSocket;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Where devstack serves its one operators' endpoint, and what it says when it cannot. */
class DevStackHttpTest {
    /** Nothing here talks to Kafka: the endpoint only needs the shared registry. */
    private static Infra infra() {
        return Infra.builder(KafkaSettings.from(Config.of(Map.of(KafkaSettings.BOOTSTRAP, "localhost:1"))))
                .inMemoryRedis()
                .build();
    }

    @Test
    void servesOnTheServicesDefaultPortUnlessHttpPortSaysOtherwise() {
        assertEquals(Infra.DEFAULT_HTTP_PORT, DevStackHttp.port(Config.of(Map.of())));
        assertEquals(18190, DevStackHttp.port(Config.of(Map.of(Infra.HTTP_PORT, "18190"))));
    }

    @Test
    void httpPortZeroServesNothing() {
        try (Infra infra = infra()) {
            assertTrue(DevStackHttp.serve(Config.of(Map.of(Infra.HTTP_PORT, "0")), infra)
                    .isEmpty());
            assertTrue(infra.endpoints().isEmpty());
        }
    }

    @Test
    void aPortAnotherProgramHoldsIsReportedNamingHttpPortAndTheWayOut() throws Exception {
        // Given a port another program listens on
        try (ServerSocket taken = new ServerSocket(0);
                Infra infra = infra()) {
            Config config = Config.of(Map.of(Infra.HTTP_PORT, Integer.toString(taken.getLocalPort())));

            // When devstack is asked to serve there, then it refuses with a configuration error naming the variable
            ConfigException e = assertThrows(ConfigException.class, () -> DevStackHttp.serve(config, infra));
            assertEquals(Infra.HTTP_PORT, e.variable());
            assertTrue(e.getMessage().contains(Integer.toString(taken.getLocalPort())), e.getMessage());
            assertTrue(e.getMessage().contains("or to 0 for none"), e.getMessage());
        }
    }
}
