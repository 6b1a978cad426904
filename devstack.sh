#!/usr/bin/env bash
# Runs the whole pipeline on this machine, offline: embedded Kafka, Redis, the Telegram emulator with a web
# chat, and the four services with the scripted model. Ctrl-C stops it. Configuration: environment or .env
# (see README.md); set TG_BOT_TOKEN to talk to real Telegram, LLM_PROVIDER to use a real model.
# It runs the same distribution as a deployment: `thoughtstream.jar devstack`.
set -euo pipefail
cd "$(dirname "$0")"
./mvnw -q -B -pl launcher -am -DskipTests package
exec java ${JAVA_OPTS:-} -jar launcher/target/thoughtstream/thoughtstream.jar devstack "$@"
