package dev.thoughtstream.llm.generate;

import java.util.Random;

/** Reproducible text that exercises every splitting rule: blank lines of all kinds, sentence ends, long words. */
final class RandomText {
    private static final String[] SEPARATORS = {
        " ",
        " ",
        " ",
        " ",
        "  ",
        "\t",
        "\n",
        "\n\n",
        "\n \n",
        "\r\n\r\n",
        "\n\n\n",
        ". ",
        "! ",
        "? ",
        ".\" ",
        "\u2026 ",
        ".\n",
        " \n",
        "\n\t\n ",
    };
    private static final String LETTERS = "abcdefghijklmnopqrstuvwxyzäöüßABCXYZ0123456789,;:-'()";

    private RandomText() {}

    static String generate(Random random, int approximateLength) {
        StringBuilder sb = new StringBuilder();
        if (random.nextInt(4) == 0) {
            sb.append(" \n ");
        }
        while (sb.length() < approximateLength) {
            int wordLength = random.nextInt(20) == 0 ? 30 + random.nextInt(150) : 1 + random.nextInt(12);
            for (int i = 0; i < wordLength; i++) {
                if (random.nextInt(40) == 0) {
                    sb.append("\uD83D\uDE00"); // an emoji: a surrogate pair
                } else {
                    sb.append(LETTERS.charAt(random.nextInt(LETTERS.length())));
                }
            }
            sb.append(SEPARATORS[random.nextInt(SEPARATORS.length)]);
        }
        return sb.toString();
    }

    static String nonWhitespace(String s) {
        return s.replaceAll("\\s+", "");
    }
}
