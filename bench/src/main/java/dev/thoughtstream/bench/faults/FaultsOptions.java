package dev.thoughtstream.bench.faults;

import dev.thoughtstream.bench.Args;
import java.nio.file.Path;

/**
 * The fault suite's parameters, from its command line.
 *
 * @param rounds      {@code --rounds}: how many times each fault is injected (default 1)
 * @param dist        {@code --dist}: the built distribution (default {@code launcher/target/thoughtstream})
 * @param composeFile {@code --compose}: the compose file whose environments the services get, with
 *                    {@code .env.example} beside it (default {@code docker-compose.yml})
 * @param workDir     {@code --work-dir}: where the processes' data and logs go, emptied first (default
 *                    {@code target/faults})
 */
public record FaultsOptions(int rounds, Path dist, Path composeFile, Path workDir) {
    public static final String USAGE = "faults [--rounds N] [--dist DIR] [--compose FILE] [--work-dir DIR]";

    public FaultsOptions {
        if (rounds < 1) {
            throw new IllegalArgumentException("--rounds must be at least 1 but was " + rounds);
        }
    }

    public static FaultsOptions defaults() {
        return new FaultsOptions(
                1, Path.of("launcher/target/thoughtstream"), Path.of("docker-compose.yml"), Path.of("target/faults"));
    }

    /** @throws IllegalArgumentException naming the offending argument */
    public static FaultsOptions parse(String... args) {
        FaultsOptions o = defaults();
        int rounds = o.rounds();
        Path dist = o.dist();
        Path compose = o.composeFile();
        Path work = o.workDir();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            switch (arg) {
                case "--rounds" -> rounds = Args.wholeNumber(arg, Args.value(args, ++i, arg, USAGE));
                case "--dist" -> dist = Path.of(Args.value(args, ++i, arg, USAGE));
                case "--compose" -> compose = Path.of(Args.value(args, ++i, arg, USAGE));
                case "--work-dir" -> work = Path.of(Args.value(args, ++i, arg, USAGE));
                default -> throw new IllegalArgumentException("unknown argument '" + arg + "'; usage: " + USAGE);
            }
        }
        return new FaultsOptions(rounds, dist, compose, work);
    }
}
