package dev.thoughtstream.launcher;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Reading a compose file's environments as docker compose would give them to the containers. */
class ComposeFileTest {
    private static final String YAML = """
            x-env: &env
              KAFKA_BOOTSTRAP_SERVERS: kafka:9092
              PARTITIONS: 6
            services:
              emitter:
                command: ["emitter"]
                env_file: [.env, {path: missing.env, required: false}, shared.env]
                environment:
                  <<: *env
                  TG_BOT_TOKEN: ${TG_BOT_TOKEN:?set TG_BOT_TOKEN in .env}
                  TG_API_URL: ${TG_API_URL:-https://api.telegram.org}
                  EMPTY_DEFAULT: ${UNSET-fallback}
                  DOLLAR: price $$5
                  PASSED_THROUGH:
              chunker:
                command: chunker --verbose
                profiles: [offline]
                environment:
                  - CHUNK_GAP_MS=${GAP:-1500}
                  - NESTED=${OUTER:-${INNER:-deep}}
                  - PLUS=${TG_BOT_TOKEN:+has-token}
            """;

    @Test
    void environmentsAreMergedAndInterpolatedFromTheProjectEnvironment(@TempDir Path dir) throws Exception {
        // Given a compose file with anchors, env files and every interpolation form
        Files.writeString(dir.resolve("shared.env"), "# shared\nFROM_FILE=\"quoted\"\nPARTITIONS=3\n");
        ComposeFile compose = ComposeFile.parse(YAML, dir);
        Map<String, String> project =
                Map.of("TG_BOT_TOKEN", "123:abc", "TG_API_URL", "", "PASSED_THROUGH", "yes", "GAP", "200");

        // When the environments are read
        Map<String, String> emitter = compose.environment("emitter", project);
        Map<String, String> chunker = compose.environment("chunker", project);

        // Then the merge key, env files, defaults, escapes and pass-through all apply as compose applies them
        assertEquals("kafka:9092", emitter.get("KAFKA_BOOTSTRAP_SERVERS"));
        assertEquals("6", emitter.get("PARTITIONS"), "environment wins over env_file");
        assertEquals("quoted", emitter.get("FROM_FILE"));
        assertEquals("123:abc", emitter.get("TG_BOT_TOKEN"));
        assertEquals("https://api.telegram.org", emitter.get("TG_API_URL"), ":- also replaces an empty value");
        assertEquals("fallback", emitter.get("EMPTY_DEFAULT"));
        assertEquals("price $5", emitter.get("DOLLAR"));
        assertEquals("yes", emitter.get("PASSED_THROUGH"));
        assertEquals("200", chunker.get("CHUNK_GAP_MS"));
        assertEquals("deep", chunker.get("NESTED"));
        assertEquals("has-token", chunker.get("PLUS"));
        assertEquals(List.of("emitter"), compose.command("emitter", project));
        assertEquals(List.of("chunker", "--verbose"), compose.command("chunker", project));
        assertEquals(List.of("offline"), compose.profiles("chunker"));
    }

    @Test
    void aRequiredVariableThatIsMissingFailsWithItsMessage(@TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("shared.env"), "");
        ComposeFile compose = ComposeFile.parse(YAML, dir);

        IllegalArgumentException e =
                assertThrows(IllegalArgumentException.class, () -> compose.environment("emitter", Map.of()));

        assertTrue(
                e.getMessage().contains("TG_BOT_TOKEN") && e.getMessage().contains("set TG_BOT_TOKEN in .env"),
                e.getMessage());
    }
}
