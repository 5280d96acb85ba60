// Package javacompat holds ksuite's Java compatibility suite: Kafka's own
// command-line tools (from the test harness's jars, test/kafka/pom.xml) and a
// small program written against kafka-clients (java/ClientCheck.java), run
// against `ksuite up` and against the real 3-node Apache Kafka cluster. Each
// tool's exit code and output must be what Kafka's tools print on Kafka;
// a difference between the two clusters is a ksuite bug.
//
// The tests compile the Java sources with javac and run every command in one
// JVM per cluster (java/ToolRunner.java), so the suite pays one JVM start-up
// instead of one per command. It needs java, javac and the harness's
// classpath: KSUITE_TEST_KAFKA_CLASSPATH, or test/kafka/cluster.sh classpath.
// docs/java.md describes what it covers.
package javacompat
