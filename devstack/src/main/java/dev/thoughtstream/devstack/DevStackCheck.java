package dev.thoughtstream.devstack;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.ConfigCheck;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.config.TelegramSettings;
import dev.thoughtstream.common.config.Typos;
import dev.thoughtstream.common.logging.LogSettings;
import dev.thoughtstream.common.service.Infra;
import dev.thoughtstream.common.service.ServiceFactory;
import dev.thoughtstream.common.tracing.TracingSettings;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Every variable devstack and its four services will read, checked before it starts a broker, Redis, the emulator
 * or a thread: the broker alone takes seconds to start, and a bad value should not be the last thing a user learns.
 *
 * <p>The services are checked with the configuration devstack will give them: its defaults under the user's
 * variables, and in place of what devstack starts itself (a broker, redis-server, the emulator) a stand-in of the
 * same form, so that nothing is looked up or connected to.
 */
final class DevStackCheck {
    /** The stand-ins' port: any valid one, nothing listens or connects there. */
    private static final String STAND_IN_HOST = "localhost:1";

    private DevStackCheck() {}

    /**
     * What the check found: the bad variables, and the variables nobody reads that look like a misspelt one that is
     * read (by name, with the name they resemble).
     */
    record Outcome(ConfigCheck check, Map<String, String> typos) {}

    /** The check of {@code base}, the variables as the user gave them; {@link ConfigCheck#passed()} says how it went. */
    static ConfigCheck check(Config base) {
        return checkAll(base).check();
    }

    /** The check of {@code base}, and the variables in it that look misspelt. */
    static Outcome checkAll(Config base) {
        Set<String> read = new TreeSet<>(Set.of(Config.DOTENV_FILE));
        Config services = Config.of(DevStack.devDefaults())
                .with(base.withPrefix(""))
                .with(startedHere(base))
                .observed(read::add);
        ConfigCheck check = ConfigCheck.of(services)
                .check(LogSettings::from)
                .check(DevStackConfig::from)
                .check(KafkaSettings::from)
                .check(RedisSettings::from)
                .check(c -> c.integer(Infra.HTTP_PORT, 0, 0, 65535))
                .check(TracingSettings::from);
        for (ServiceFactory factory : DevStack.FACTORIES) {
            check.check(factory::validate);
        }
        return new Outcome(check, Typos.among(base.names(), read));
    }

    /** What devstack sets for the services when it runs the broker, Redis or the emulator itself. */
    private static Map<String, String> startedHere(Config base) {
        Map<String, String> standIns = new HashMap<>();
        if (!base.isSet(KafkaSettings.BOOTSTRAP)) {
            standIns.put(KafkaSettings.BOOTSTRAP, STAND_IN_HOST);
        }
        if (!RedisSettings.isConfigured(base)) {
            standIns.put(RedisSettings.URL, "redis://" + STAND_IN_HOST);
        }
        if (!base.isSet(TelegramSettings.TOKEN)) {
            standIns.put(TelegramSettings.TOKEN, DevStackConfig.OFFLINE_TOKEN);
            standIns.put(TelegramSettings.API_URL, "http://" + STAND_IN_HOST);
        }
        return standIns;
    }
}
