package dev.thoughtstream.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigCheck;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Every bad variable of ingest is reported at once, each with its name, however many there are. */
class IngestSettingsCheckTest {

    @Test
    void everyBadPollingVariableIsNamedWithItsValue() {
        // given ingest's variables with one bad value in each of its settings
        Map<String, String> bad = Map.of(
                "INGEST_MODE", "push",
                "INGEST_POLL_TIMEOUT_S", "soon",
                "INGEST_DEDUP_TTL_MS", "1",
                "ALLOWED_USER_IDS", "42,alice",
                "INGEST_GROUP_MODE", "everyone",
                "INGEST_MAX_MSGS_PER_MIN", "-5",
                "BOT_USERNAME", "@x",
                "INGEST_LEASE_TTL_MS", "0",
                "INGEST_REDIS_OUTAGE", "maybe");
        Config config = Config.of(Map.of("TG_BOT_TOKEN", "123456:ABCdef")).with(bad);

        // when ingest's validation is checked
        ConfigCheck check = ConfigCheck.of(config).check(new IngestFactory()::validate);

        // then each is named, with the value it was given
        assertEquals(bad.keySet(), check.variables());
        for (String line : check.lines()) {
            String name = line.substring(0, line.indexOf(':'));
            assertTrue(line.contains(bad.get(name).replaceFirst("^@", "")), line);
        }
    }

    @Test
    void inWebhookModeAMissingUrlAndABadSecretAndPathAreAllNamedWithoutTheSecret() {
        Config config = Config.of(Map.of(
                "TG_BOT_TOKEN", "123456:ABCdef",
                "INGEST_MODE", "webhook",
                "INGEST_WEBHOOK_SECRET", "has spaces and is secret",
                "INGEST_WEBHOOK_PATH", "no-slash",
                "INGEST_WEBHOOK_MAX_CONNECTIONS", "1000"));

        ConfigCheck check = ConfigCheck.of(config).check(new IngestFactory()::validate);

        assertEquals(
                Set.of(
                        "INGEST_WEBHOOK_URL",
                        "INGEST_WEBHOOK_SECRET",
                        "INGEST_WEBHOOK_PATH",
                        "INGEST_WEBHOOK_MAX_CONNECTIONS"),
                check.variables());
        assertFalse(check.report().contains("has spaces and is secret"), check.report());
    }
}
