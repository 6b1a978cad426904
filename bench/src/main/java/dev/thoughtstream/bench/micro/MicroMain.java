package dev.thoughtstream.bench.micro;

import dev.thoughtstream.bench.Machine;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the JMH microbenchmarks of the hot paths ({@code java -jar bench/target/thoughtstream-bench.jar micro}).
 *
 * <p>Arguments are JMH's own command line ({@code -h} lists them): a regular expression selects benchmarks,
 * {@code -p store=memory} narrows a parameter, {@code -rf json -rff out.json} writes a result file. Whatever is not
 * given takes the defaults below, chosen so that the whole set finishes in about five minutes on two cores: one
 * fork, three warm-up and five measured iterations of one second each. For figures to compare across changes, use
 * more forks and iterations ({@code -f 3 -wi 5 -i 10}).
 */
public final class MicroMain {
    /** Every benchmark of this package. */
    public static final String ALL = "dev\\.thoughtstream\\.bench\\.micro\\..*";

    static final int DEFAULT_FORKS = 1;
    static final int DEFAULT_WARMUP_ITERATIONS = 3;
    static final int DEFAULT_MEASUREMENT_ITERATIONS = 5;
    static final TimeValue DEFAULT_ITERATION_TIME = TimeValue.seconds(1);

    private MicroMain() {}

    public static void main(String[] args) throws RunnerException, java.io.IOException {
        CommandLineOptions commandLine;
        try {
            commandLine = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            System.err.println("invalid JMH options: " + e.getMessage() + " (-h lists them)");
            System.exit(2);
            return;
        }
        if (commandLine.shouldHelp()) {
            commandLine.showHelp();
            return;
        }
        Options options = withDefaults(commandLine);
        if (commandLine.shouldList()) {
            new Runner(options).list();
            return;
        }
        System.out.println("== machine");
        System.out.println(Machine.describe());
        System.out.println("== JMH: forks " + options.getForkCount().get() + ", warm-up "
                + options.getWarmupIterations().get() + " × "
                + options.getWarmupTime().get() + ", measurement "
                + options.getMeasurementIterations().get() + " × "
                + options.getMeasurementTime().get()
                + ", include " + options.getIncludes());
        new Runner(options).run();
    }

    /** The command line's options, with this project's defaults wherever it gave none. */
    static Options withDefaults(CommandLineOptions commandLine) {
        ChainedOptionsBuilder builder = new OptionsBuilder().parent(commandLine);
        if (commandLine.getIncludes().isEmpty()) {
            builder.include(ALL);
        }
        if (!commandLine.getForkCount().hasValue()) {
            builder.forks(DEFAULT_FORKS);
        }
        if (!commandLine.getWarmupIterations().hasValue()) {
            builder.warmupIterations(DEFAULT_WARMUP_ITERATIONS);
        }
        if (!commandLine.getWarmupTime().hasValue()) {
            builder.warmupTime(DEFAULT_ITERATION_TIME);
        }
        if (!commandLine.getMeasurementIterations().hasValue()) {
            builder.measurementIterations(DEFAULT_MEASUREMENT_ITERATIONS);
        }
        if (!commandLine.getMeasurementTime().hasValue()) {
            builder.measurementTime(DEFAULT_ITERATION_TIME);
        }
        return builder.build();
    }
}
