# syntax=docker/dockerfile:1
#
# The one thoughtstream image. Every service is a subcommand of the same distribution, chosen by the container's
# command: `docker run thoughtstream:local chunker`, or `command: ["chunker"]` in docker-compose.yml. Without a
# command it prints the subcommands (`--help`); `<subcommand> --help` lists the variables that subcommand reads.
#
# Needs BuildKit (the default builder of Docker Engine 23+ and of `docker compose build`) for the cache mount and
# COPY --chmod.

# Ubuntu-based (glibc) Temurin images, not Alpine: the chunker's RocksDB loads a native library built for glibc.
ARG JDK_IMAGE=eclipse-temurin:17-jdk-noble
ARG JRE_IMAGE=eclipse-temurin:17-jre-noble

FROM ${JDK_IMAGE} AS build
WORKDIR /src
COPY . .
# ~/.m2 (the Maven distribution the wrapper fetches, and every dependency) is a BuildKit cache that outlives the
# build, so a rebuild after a code change downloads nothing. The tests run in CI (`./mvnw -B verify`), not here.
RUN --mount=type=cache,target=/root/.m2 \
    ./mvnw -B -DskipTests -pl launcher -am package

FROM ${JRE_IMAGE}
# A fixed non-root user; uid 10001 stays clear of the `ubuntu` user (1000) the base image already has. Its home
# holds the chunker's state directory and the emulator's chats, so a named volume mounted there starts out owned by
# this user (Docker copies the image directory's ownership into a new, empty named volume).
RUN groupadd --system --gid 10001 thoughtstream \
    && useradd --system --uid 10001 --gid thoughtstream --home-dir /var/lib/thoughtstream \
        --shell /usr/sbin/nologin thoughtstream \
    && mkdir -p /var/lib/thoughtstream/chunker-state /var/lib/thoughtstream/emulator \
    && chown -R thoughtstream:thoughtstream /var/lib/thoughtstream

# The distribution as the launcher module builds it: thoughtstream.jar with its dependencies in lib/ beside it (the
# jar's manifest names them as lib/...).
COPY --from=build /src/launcher/target/thoughtstream/ /opt/thoughtstream/
COPY --chmod=755 deploy/docker/healthcheck /opt/thoughtstream/bin/healthcheck

# Config.load() reads a .env in the working directory when present; there is none here, so the container's
# environment is the whole configuration.
WORKDIR /var/lib/thoughtstream
USER 10001:10001

# /metrics and /health/* (HTTP_PORT, default 8080).
EXPOSE 8080
# 200 from /health/ready on HTTP_PORT; see deploy/docker/healthcheck. The start period covers a chunker restoring
# its state stores from the changelogs.
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 CMD ["/opt/thoughtstream/bin/healthcheck"]

# JVM options for a container: the heap is a share of the container's memory limit (of the host's memory without a
# limit), leaving 40% for what is not heap (the chunker's RocksDB block caches and memtables, metaspace, thread
# stacks, direct buffers); and an OutOfMemoryError ends the process, so the restart policy starts a fresh one
# instead of a JVM limping on. JAVA_OPTS comes after these defaults, so it can override them as well as add to them
# (`JAVA_OPTS=-XX:MaxRAMPercentage=50 -Xlog:gc`); `set -f` keeps a `*` in it from being expanded as a file name.
# `exec` makes java PID 1, so `docker stop`'s SIGTERM reaches its shutdown hook and the service closes cleanly.
ENV JAVA_OPTS=""
ENTRYPOINT ["/bin/sh", "-c", "set -f; exec java -XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError $JAVA_OPTS -jar /opt/thoughtstream/thoughtstream.jar \"$@\"", "thoughtstream"]
CMD ["--help"]
