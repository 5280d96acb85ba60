// Package spring runs the team's own stack against `ksuite up`: a Spring
// Boot 3.5 / spring-kafka 3.3 service (this directory's Maven project) with
// NewTopic beans, a KafkaTemplate send and @KafkaListener groups, a batch
// listener, DefaultErrorHandler with DeadLetterPublishingRecoverer,
// @RetryableTopic, KafkaTransactionManager transactions and
// AdminClient.describeCluster. The test builds it with Maven, runs it
// against `ksuite up` and the real cluster, and requires every part to work
// and a log without ERROR. docs/java.md describes it.
package spring
