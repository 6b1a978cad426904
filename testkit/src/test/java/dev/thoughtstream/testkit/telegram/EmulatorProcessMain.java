package dev.thoughtstream.testkit.telegram;

import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

/**
 * An emulator on a state directory in a process of its own, for a test to kill with SIGKILL:
 * {@code EmulatorProcessMain <state directory> <port>}. Prints {@value #READY} once it serves, then runs until killed.
 */
public final class EmulatorProcessMain {
    static final String READY = "emulator serving";

    private EmulatorProcessMain() {}

    public static void main(String[] args) throws InterruptedException {
        TelegramEmulator emulator = TelegramEmulator.builder()
                .stateDirectory(Path.of(args[0]))
                .port(Integer.parseInt(args[1]))
                .build()
                .start();
        System.out.println(READY + " on " + emulator.baseUrl());
        System.out.flush();
        new CountDownLatch(1).await();
    }
}
