package dev.thoughtstream.bench;

/** Reading a benchmark's {@code --name value} arguments, with errors that name the argument and the usage. */
public final class Args {
    private Args() {}

    /** The value after the option at {@code i - 1}; {@code name} and {@code usage} are for the error. */
    public static String value(String[] args, int i, String name, String usage) {
        if (i >= args.length) {
            throw new IllegalArgumentException(name + " needs a value; usage: " + usage);
        }
        return args[i];
    }

    /** A whole number, written with or without {@code _} or {@code ,} between the digits. */
    public static int wholeNumber(String name, String value) {
        try {
            return Integer.parseInt(value.replace("_", "").replace(",", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " expects a whole number but was '" + value + "'", e);
        }
    }
}
