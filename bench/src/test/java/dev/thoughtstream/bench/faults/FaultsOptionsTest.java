package dev.thoughtstream.bench.faults;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class FaultsOptionsTest {

    @Test
    void withoutArgumentsEachFaultRunsOnceAgainstTheDistributionBuiltInTheCheckout() {
        FaultsOptions options = FaultsOptions.parse();

        assertEquals(1, options.rounds());
        assertEquals(Path.of("launcher/target/thoughtstream"), options.dist());
        assertEquals(Path.of("docker-compose.yml"), options.composeFile());
    }

    @Test
    void roundsAndPathsAreReadFromTheCommandLine() {
        FaultsOptions options =
                FaultsOptions.parse("--rounds", "20", "--dist", "d", "--compose", "c.yml", "--work-dir", "w");

        assertEquals(new FaultsOptions(20, Path.of("d"), Path.of("c.yml"), Path.of("w")), options);
    }

    @Test
    void zeroRoundsAnUnknownArgumentOrAMissingValueAreRefusedByName() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FaultsOptions.parse("--rounds", "0"))
                .getMessage()
                .contains("--rounds"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FaultsOptions.parse("--fast"))
                .getMessage()
                .contains("--fast"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FaultsOptions.parse("--rounds"))
                .getMessage()
                .contains("needs a value"));
    }

    @Test
    void theTableHasOneRowPerFaultWithItsRecoveryMedianAndMaximum() {
        FaultResult result =
                new FaultResult("kill -9 emitter", 3, 30, 0, 0, 0, 0, 0, List.of(900L, 100L, 500L), List.of());

        String table = FaultResult.table(List.of(result));

        assertEquals(500, result.recoveryP50Ms());
        assertEquals(900, result.recoveryMaxMs());
        assertTrue(result.clean());
        assertTrue(table.lines().anyMatch(l -> l.startsWith("kill -9 emitter") && l.contains("0.50 s")), table);
    }

    @Test
    void aLossADuplicateOrAFailedCheckIsNotClean() {
        assertEquals(
                List.of(false, false, false, false),
                List.of(
                        new FaultResult("a", 1, 5, 0, 1, 0, 0, 0, List.of(), List.of()).clean(),
                        new FaultResult("b", 1, 5, 0, 0, 0, 1, 0, List.of(), List.of()).clean(),
                        new FaultResult("c", 1, 5, 0, 0, 0, 0, 0, List.of(), List.of(FaultResult.FAILED + ": x"))
                                .clean(),
                        new FaultResult("d", 1, 5, 1, 2, 2, 0, 0, List.of(), List.of()).clean()));
    }

    @Test
    void aBubbleLostInDoubtIsShownApartAndLeavesTheFaultClean() {
        FaultResult result = new FaultResult("kill -9 emitter", 1, 10, 0, 1, 1, 0, 0, List.of(), List.of());

        assertTrue(result.clean());
        assertTrue(
                FaultResult.table(List.of(result))
                        .lines()
                        .anyMatch(l -> l.matches("kill -9 emitter\\s+1\\s+10\\s+0\\s+1\\s+1\\s+0.*")),
                FaultResult.table(List.of(result)));
    }
}
