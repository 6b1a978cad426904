package dev.thoughtstream.bench.faults;

import java.util.List;

/**
 * {@code java -jar bench/target/thoughtstream-bench.jar faults [--rounds N] ...}: the fault suite (see
 * {@link FaultSuite} and docs/reliability.md). Prints one row per fault; exits 1 when a message or bubble was lost,
 * a bubble arrived twice or a check failed.
 */
public final class FaultsMain {
    private FaultsMain() {}

    public static void main(String[] args) {
        FaultsOptions options;
        try {
            options = FaultsOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        List<FaultResult> results = new FaultSuite(options, System.out).run();
        System.out.println();
        System.out.print(FaultResult.table(results));
        if (!results.stream().allMatch(FaultResult::clean)) {
            System.exit(1);
        }
    }
}
