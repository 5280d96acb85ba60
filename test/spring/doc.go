// Package spring runs the team's own stack against `ksuite up`: a minimal
// Spring Boot 3.5 / spring-kafka 3.3 service (this directory's Maven
// project) with a NewTopic bean, a KafkaTemplate send and a @KafkaListener
// in a consumer group. The test builds it with Maven, runs it against
// `ksuite up` and the real cluster, and requires the round trip and a log
// without ERROR. docs/java.md describes it.
package spring
