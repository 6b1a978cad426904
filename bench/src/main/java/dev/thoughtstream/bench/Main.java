package dev.thoughtstream.bench;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;

/**
 * The bench jar's entry point: {@code e2e} (the default), {@code micro} or {@code restore}, then that benchmark's
 * own arguments. The micro and restore benchmarks are looked up by name, so this dispatcher builds and runs
 * without them.
 */
public final class Main {
    static final String E2E = "dev.thoughtstream.bench.e2e.E2eMain";
    static final String MICRO = "dev.thoughtstream.bench.micro.MicroMain";
    static final String RESTORE = "dev.thoughtstream.bench.restore.RestoreMain";

    private Main() {}

    public static void main(String[] args) throws Throwable {
        String command = args.length > 0 && !args[0].startsWith("-") ? args[0] : "e2e";
        String[] rest = args.length > 0 && !args[0].startsWith("-") ? Arrays.copyOfRange(args, 1, args.length) : args;
        String target = switch (command) {
            case "e2e" -> E2E;
            case "micro" -> MICRO;
            case "restore" -> RESTORE;
            case "help", "--help", "-h" -> null;
            default -> {
                System.err.println("unknown benchmark '" + command + "'");
                yield null;
            }
        };
        if (target == null) {
            System.err.println("usage: java -jar thoughtstream-bench.jar [e2e|micro|restore] [options]\n"
                    + "  e2e      the pipeline end to end beside the Kafka floor (default; e2e --help for options)\n"
                    + "  micro    JMH microbenchmarks of the hot paths\n"
                    + "  restore  context store size and restore time");
            System.exit(command.startsWith("-") || command.equals("help") ? 0 : 2);
            return;
        }
        invoke(command, target, rest);
    }

    private static void invoke(String command, String className, String[] args) throws Throwable {
        Method main;
        try {
            main = Class.forName(className).getMethod("main", String[].class);
        } catch (ClassNotFoundException | NoSuchMethodException e) {
            System.err.println("the '" + command + "' benchmark is not part of this build (" + className
                    + " not found); build the bench module from a branch that has it");
            System.exit(2);
            return;
        }
        try {
            main.invoke(null, (Object) args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
