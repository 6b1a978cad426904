package dev.thoughtstream.testkit.llm;

import java.time.Duration;

/**
 * The OpenAI client contract again, with a {@link FakeLlmServer.Builder#pacingTick pacing tick}: what the client sees
 * of paced, stalled, cut-off and abandoned streams does not change when one thread writes the due tokens per tick.
 */
class FakeLlmServerOpenAiClientPacingTickTest extends FakeLlmServerOpenAiClientTest {

    @Override
    FakeLlmServer startServer() {
        return FakeLlmServer.builder()
                .apiKey(API_KEY)
                .pacingTick(Duration.ofMillis(20))
                .build()
                .start();
    }
}
