package dev.thoughtstream.llm.budget;

import static dev.thoughtstream.testkit.config.ConfigAssertions.assertRejects;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.metrics.Metrics;
import dev.thoughtstream.testkit.MutableClock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** The budget's variables: defaults, validation naming the variable, and the budget's name in Redis. */
class BudgetConfigTest {

    private static BudgetConfig from(String... pairs) {
        Map<String, String> values = new HashMap<>();
        for (int i = 0; i < pairs.length; i += 2) {
            values.put(pairs[i], pairs[i + 1]);
        }
        return BudgetConfig.from(Config.of(values));
    }

    @Test
    void nothingSetMeansNoLimitAndTheUnlimitedBudget() {
        // given no variable set
        BudgetConfig config = from();

        // then no dimension is limited, and the factory hands out the unlimited budget
        assertFalse(config.limited());
        assertEquals(1, config.instances());
        assertEquals(Duration.ofMillis(BudgetConfig.DEFAULT_LEASE_MS), config.lease());
        assertEquals(Duration.ofMillis(BudgetConfig.DEFAULT_POLL_MS), config.poll());
        MutableClock clock = new MutableClock(Instant.EPOCH);
        assertSame(
                ProviderBudget.unlimited(),
                ProviderBudgets.create(
                        config, Optional.empty(), "ts:", new ManualScheduler(clock), clock, new Metrics()));
    }

    @Test
    void eachLimitIsReadAndZeroMeansNoLimit() {
        // when the three limits are set, one of them to 0
        BudgetConfig config = from(
                "LLM_MAX_CONCURRENT_REQUESTS",
                "8",
                "LLM_REQUESTS_PER_MINUTE",
                "0",
                "LLM_TOKENS_PER_MINUTE",
                "90_000",
                "LLM_BUDGET_INSTANCES",
                "3");

        // then they are what was set, and the local share divides them (at least 1)
        assertTrue(config.limited());
        assertEquals(8, config.maxConcurrentRequests());
        assertEquals(0, config.requestsPerMinute());
        assertEquals(90_000, config.tokensPerMinute());
        assertEquals(2, config.share(config.maxConcurrentRequests()));
        assertEquals(30_000, config.share(config.tokensPerMinute()));
        assertEquals(0, config.share(config.requestsPerMinute()), "no limit stays no limit");
        assertEquals(
                1,
                new BudgetConfig(2, 0, 0, 5, Duration.ofSeconds(30), Duration.ofMillis(250), "x").share(2),
                "a share is at least 1");
    }

    @Test
    void invalidValuesAreRejectedNamingTheVariable() {
        assertRejects("LLM_MAX_CONCURRENT_REQUESTS", () -> from("LLM_MAX_CONCURRENT_REQUESTS", "-1"));
        assertRejects("LLM_REQUESTS_PER_MINUTE", () -> from("LLM_REQUESTS_PER_MINUTE", "many"));
        assertRejects("LLM_TOKENS_PER_MINUTE", () -> from("LLM_TOKENS_PER_MINUTE", "1.5"));
        assertRejects("LLM_BUDGET_INSTANCES", () -> from("LLM_BUDGET_INSTANCES", "0"));
        assertRejects("LLM_BUDGET_LEASE_MS", () -> from("LLM_BUDGET_LEASE_MS", "10"));
        assertRejects("LLM_BUDGET_POLL_MS", () -> from("LLM_BUDGET_LEASE_MS", "2000", "LLM_BUDGET_POLL_MS", "2000"));
        assertRejects("LLM_BUDGET_ID", () -> from("LLM_BUDGET_ID", "a b"));
    }

    @Test
    void theBudgetIsNamedAfterTheProviderModelAndKeyWithoutRevealingThem() {
        // given deployments that differ only in their API key, and one with the same key as the first
        BudgetConfig first = from("LLM_PROVIDER", "openai", "LLM_MODEL", "gpt-4o-mini", "LLM_API_KEY", "sk-one");
        BudgetConfig otherKey = from("LLM_PROVIDER", "openai", "LLM_MODEL", "gpt-4o-mini", "LLM_API_KEY", "sk-two");
        BudgetConfig sameKey = from("LLM_PROVIDER", "OpenAI", "LLM_MODEL", "gpt-4o-mini", "LLM_API_KEY", "sk-one");
        BudgetConfig otherModel = from("LLM_PROVIDER", "openai", "LLM_MODEL", "gpt-4o", "LLM_API_KEY", "sk-one");

        // then only the same provider, model and key share a budget, and its name is a hash, not the key
        assertEquals(first.budgetId(), sameKey.budgetId());
        assertNotEquals(first.budgetId(), otherKey.budgetId());
        assertNotEquals(first.budgetId(), otherModel.budgetId());
        assertTrue(first.budgetId().matches("[0-9a-f]{16}"), first.budgetId());
        assertFalse(first.toString().contains("sk-one"), first.toString());
    }

    @Test
    void anExplicitBudgetIdWins() {
        assertEquals(
                "team-a",
                from("LLM_BUDGET_ID", "team-a", "LLM_API_KEY", "sk-one").budgetId());
    }

    @Test
    void everyVariableIsReadWhetherOrNotALimitIsSet() {
        // given the variables read with nothing set
        Set<String> read = new TreeSet<>();
        BudgetConfig.from(Config.of(Map.of()).observed(read::add));

        // then all of the budget's variables are among them (what the README documents for llm-processor)
        assertTrue(
                read.containsAll(Set.of(
                        "LLM_MAX_CONCURRENT_REQUESTS",
                        "LLM_REQUESTS_PER_MINUTE",
                        "LLM_TOKENS_PER_MINUTE",
                        "LLM_BUDGET_INSTANCES",
                        "LLM_BUDGET_LEASE_MS",
                        "LLM_BUDGET_POLL_MS",
                        "LLM_BUDGET_ID")),
                read.toString());
    }
}
