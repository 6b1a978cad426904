package dev.thoughtstream.devstack;

import dev.thoughtstream.common.config.Config;
import dev.thoughtstream.common.config.KafkaSettings;
import dev.thoughtstream.common.config.RedisSettings;
import dev.thoughtstream.common.config.TelegramSettings;
import java.nio.file.Path;

/**
 * What devstack runs itself and what it uses from outside. Anything configured explicitly is used as is;
 * everything else is started in this JVM.
 *
 * @param dataDir        {@code DEVSTACK_DATA_DIR}: where the embedded broker and the chunker keep their data
 *                       (survives restarts; delete it to start afresh)
 * @param kafkaPort      {@code DEVSTACK_KAFKA_PORT}: the embedded broker's port (0 = any free port)
 * @param emulatorPort   {@code EMULATOR_PORT}: the Telegram emulator and its web chat (0 = any free port)
 * @param externalKafka  {@code KAFKA_BOOTSTRAP_SERVERS} is set: use that broker, start none
 * @param externalRedis  {@code REDIS_URL} or {@code REDIS_HOST} is set: use it, start none
 * @param realTelegram   {@code TG_BOT_TOKEN} is set: talk to {@code TG_API_URL} (real Telegram by default)
 *                       instead of the emulator
 */
record DevStackConfig(
        Path dataDir,
        int kafkaPort,
        int emulatorPort,
        boolean externalKafka,
        boolean externalRedis,
        boolean realTelegram) {

    /** The token devstack's emulator accepts; it is not a real token and reaches no real bot. */
    static final String OFFLINE_TOKEN = "7000000001:devstack-offline-token";

    static DevStackConfig from(Config config) {
        return new DevStackConfig(
                Path.of(config.string("DEVSTACK_DATA_DIR", ".devstack")).toAbsolutePath(),
                config.integer("DEVSTACK_KAFKA_PORT", 19092, 0, 65535),
                config.integer("EMULATOR_PORT", 8088, 0, 65535),
                config.isSet(KafkaSettings.BOOTSTRAP),
                RedisSettings.isConfigured(config),
                config.isSet(TelegramSettings.TOKEN));
    }
}
