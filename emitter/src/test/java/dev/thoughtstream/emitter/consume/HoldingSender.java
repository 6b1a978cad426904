package dev.thoughtstream.emitter.consume;

import dev.thoughtstream.emitter.telegram.MessageSender;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link MessageSender} around the real one that can freeze right after Telegram answered a chat's message and
 * before the emitter learns the answer: the moment between "the person has it" and "it is recorded", where a
 * crash leaves a claim unconfirmed. Everything else passes straight through.
 */
final class HoldingSender implements MessageSender {
    private final MessageSender delegate;
    private final Set<Long> holding = ConcurrentHashMap.newKeySet();
    private final CountDownLatch released = new CountDownLatch(1);
    private final AtomicInteger held = new AtomicInteger();

    HoldingSender(MessageSender delegate) {
        this.delegate = delegate;
    }

    /** From now on, a message to {@code chatId} is sent, and then its answer is held until {@link #release()}. */
    void holdAfterAnswer(long chatId) {
        holding.add(chatId);
    }

    /** Answers held so far. */
    int held() {
        return held.get();
    }

    void release() {
        released.countDown();
    }

    @Override
    public SendResult send(long chatId, String text) {
        SendResult result = delegate.send(chatId, text);
        if (holding.contains(chatId)) {
            held.incrementAndGet();
            try {
                if (!released.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("held answer never released");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return result;
    }

    @Override
    public void typing(long chatId) {
        delegate.typing(chatId);
    }
}
