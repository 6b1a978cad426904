package dev.thoughtstream.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import org.junit.jupiter.api.Test;

class RedisOutageTest {
    private static final String NAME = "X_REDIS_OUTAGE";
    private static final RedisOutage.Legacy OLD_BOOL = RedisOutage.Legacy.bool("X_FAIL_OPEN", RedisOutage.FAIL_OPEN);

    @Test
    void theNewVariableTakesFailOpenOrFailClosed() {
        assertEquals(
                RedisOutage.FAIL_CLOSED,
                RedisOutage.read(Config.of(Map.of(NAME, "fail-closed")), NAME, RedisOutage.FAIL_OPEN));
        assertEquals(
                RedisOutage.FAIL_OPEN,
                RedisOutage.read(Config.of(Map.of(NAME, "FAIL_OPEN")), NAME, RedisOutage.FAIL_CLOSED));
        assertEquals(RedisOutage.FAIL_CLOSED, RedisOutage.read(Config.of(Map.of()), NAME, RedisOutage.FAIL_CLOSED));
    }

    @Test
    void anUnknownValueFailsNamingTheVariable() {
        ConfigException e = assertThrows(
                ConfigException.class,
                () -> RedisOutage.read(Config.of(Map.of(NAME, "maybe")), NAME, RedisOutage.FAIL_OPEN));

        assertEquals(NAME, e.variable());
    }

    @Test
    void anOldTrueFalseVariableStillWorksWhenTheNewOneIsUnset() {
        assertEquals(
                RedisOutage.FAIL_CLOSED,
                RedisOutage.read(Config.of(Map.of("X_FAIL_OPEN", "false")), NAME, RedisOutage.FAIL_OPEN, OLD_BOOL));
        assertEquals(
                RedisOutage.FAIL_OPEN,
                RedisOutage.read(Config.of(Map.of("X_FAIL_OPEN", "true")), NAME, RedisOutage.FAIL_CLOSED, OLD_BOOL));
    }

    @Test
    void anOldVariableWithTheSameValuesStillWorks() {
        assertEquals(
                RedisOutage.FAIL_CLOSED,
                RedisOutage.read(
                        Config.of(Map.of("X_MODE", "fail-closed")),
                        NAME,
                        RedisOutage.FAIL_OPEN,
                        RedisOutage.Legacy.sameValues("X_MODE")));
    }

    @Test
    void theNewVariableWinsOverTheOldOneButABadOldValueStillFails() {
        assertEquals(
                RedisOutage.FAIL_OPEN,
                RedisOutage.read(
                        Config.of(Map.of(NAME, "fail-open", "X_FAIL_OPEN", "false")),
                        NAME,
                        RedisOutage.FAIL_CLOSED,
                        OLD_BOOL));

        ConfigException e = assertThrows(
                ConfigException.class,
                () -> RedisOutage.read(
                        Config.of(Map.of(NAME, "fail-open", "X_FAIL_OPEN", "perhaps")),
                        NAME,
                        RedisOutage.FAIL_CLOSED,
                        OLD_BOOL));
        assertEquals("X_FAIL_OPEN", e.variable());
    }

    @Test
    void theLabelIsHowTheValueIsWritten() {
        assertEquals("fail-open", RedisOutage.FAIL_OPEN.label());
        assertEquals("fail-closed", RedisOutage.FAIL_CLOSED.label());
    }
}
