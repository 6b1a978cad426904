package dev.thoughtstream.bench;

import dev.thoughtstream.bench.e2e.E2eMain;
import dev.thoughtstream.bench.faults.FaultsMain;
import dev.thoughtstream.bench.faults.FaultsOptions;
import dev.thoughtstream.bench.micro.MicroMain;
import dev.thoughtstream.bench.restore.RestoreMain;
import java.util.Arrays;

/**
 * The bench jar's entry point: {@code e2e} (the default: the six end-to-end figures beside the Kafka floor), {@code micro}
 * (JMH), {@code restore} (item 6 alone) or {@code faults} (the fault suite), then that benchmark's own arguments.
 */
public final class Main {

    private Main() {}

    public static void main(String[] args) throws Exception {
        boolean named = args.length > 0 && !args[0].startsWith("-");
        String command = named ? args[0] : "e2e";
        String[] rest = named ? Arrays.copyOfRange(args, 1, args.length) : args;
        switch (command) {
            case "e2e" -> E2eMain.main(rest);
            case "micro" -> MicroMain.main(rest);
            case "restore" -> RestoreMain.main(rest);
            case "faults" -> FaultsMain.main(rest);
            case "help" -> usage(0);
            default -> {
                System.err.println("unknown benchmark '" + command + "'");
                usage(2);
            }
        }
    }

    private static void usage(int status) {
        System.err.println("usage: java -jar thoughtstream-bench.jar [e2e|micro|restore|faults] [options]\n"
                + "  e2e      the pipeline end to end beside the Kafka floor, and the context store restore (default;"
                + " e2e --help for options)\n"
                + "  micro    JMH microbenchmarks of the hot paths\n"
                + "  restore  the context store's size and restore time alone\n"
                + "  faults   each fault (kill -9, broker, Redis, malformed records, Telegram storms, webhook burst)"
                + " against the built distribution as processes: " + FaultsOptions.USAGE);
        System.exit(status);
    }
}
