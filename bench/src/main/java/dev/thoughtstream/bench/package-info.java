/**
 * Benchmarks: the end-to-end harness (the whole pipeline as devstack runs it, measured beside the raw Kafka floor on
 * the same broker) in {@code dev.thoughtstream.bench.e2e}, and JMH microbenchmarks of the hot paths in
 * {@code dev.thoughtstream.bench.micro}. Nothing here runs in the normal test run except a smoke test at tiny scale.
 */
package dev.thoughtstream.bench;
