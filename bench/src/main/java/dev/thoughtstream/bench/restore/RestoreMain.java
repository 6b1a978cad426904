package dev.thoughtstream.bench.restore;

/**
 * {@code java -jar bench/target/thoughtstream-bench.jar restore [--chats N] [--messages M] ...}: the context store
 * context-store restore benchmark; see {@link RestoreBenchmark} and {@link RestoreOptions}.
 */
public final class RestoreMain {
    private RestoreMain() {}

    public static void main(String[] args) throws InterruptedException {
        RestoreOptions options;
        try {
            options = RestoreOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        new RestoreBenchmark(options, System.out, store -> {}).run();
    }
}
