package io.ksuite.springcheck;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.config.TopicConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.ExitCodeGenerator;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.autoconfigure.kafka.ConcurrentKafkaListenerContainerFactoryConfigurer;
import org.springframework.boot.autoconfigure.kafka.KafkaProperties;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.kafka.KafkaException;
import org.springframework.kafka.annotation.DltHandler;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.annotation.RetryableTopic;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaProducerFactory;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.listener.DeadLetterPublishingRecoverer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.retrytopic.DeadLetterPublishingRecovererFactory;
import org.springframework.kafka.retrytopic.RetryTopicConfigurationSupport;
import org.springframework.kafka.support.KafkaHeaders;
import org.springframework.kafka.support.SendResult;
import org.springframework.kafka.transaction.KafkaTransactionManager;
import org.springframework.messaging.handler.annotation.Header;
import org.springframework.retry.annotation.Backoff;
import org.springframework.scheduling.TaskScheduler;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.util.backoff.FixedBackOff;

/**
 * A service as the team writes them, each part logging "ok ..." when it worked:
 *
 * <ul>
 *   <li>AdminClient.describeCluster sees the three brokers;
 *   <li>KafkaAdmin creates the topic from a NewTopic bean, a KafkaTemplate sends one record
 *       and a @KafkaListener in a consumer group receives it;
 *   <li>a batch @KafkaListener receives five records;
 *   <li>a failing listener's record reaches its dead-letter topic through DefaultErrorHandler
 *       and DeadLetterPublishingRecoverer;
 *   <li>a failing @RetryableTopic listener is retried on its retry topic, then the record
 *       reaches its @DltHandler;
 *   <li>a KafkaTransactionManager commits and aborts transactions, and a read_committed
 *       listener sees the committed records only.
 * </ul>
 *
 * <p>Failures a listener throws on purpose are logged at WARN, not ERROR, so that any ERROR
 * in the log is a real one. It exits 0, or 1 when a part does not finish in time.
 */
@SpringBootApplication
public class SpringCheckApplication {
    private static final Logger log = LoggerFactory.getLogger(SpringCheckApplication.class);
    private static final int TIMEOUT_SECONDS = 60;

    private final BlockingQueue<ConsumerRecord<String, String>> received = new ArrayBlockingQueue<>(16);
    private final BlockingQueue<List<String>> batches = new ArrayBlockingQueue<>(16);
    private final BlockingQueue<ConsumerRecord<String, String>> deadLetters = new ArrayBlockingQueue<>(16);
    private final BlockingQueue<String> retryDeadLetters = new ArrayBlockingQueue<>(16);
    private final List<String> retryAttempts = new CopyOnWriteArrayList<>();
    private final BlockingQueue<String> committed = new ArrayBlockingQueue<>(16);

    public static void main(String[] args) {
        System.exit(SpringApplication.exit(SpringApplication.run(SpringCheckApplication.class, args)));
    }

    @Bean
    NewTopic topic(@Value("${app.topic}") String name) {
        return TopicBuilder.name(name).partitions(3).replicas(1)
                .config(TopicConfig.RETENTION_MS_CONFIG, "3600000")
                .build();
    }

    @Bean
    NewTopic batchTopic(@Value("${app.topic}") String name) {
        return TopicBuilder.name(name + "-batch").partitions(3).replicas(1).build();
    }

    @Bean
    NewTopic failingTopic(@Value("${app.topic}") String name) {
        return TopicBuilder.name(name + "-failing").partitions(2).replicas(1).build();
    }

    @Bean
    NewTopic failingDeadLetterTopic(@Value("${app.topic}") String name) {
        // DeadLetterPublishingRecoverer's default: the same partition of <topic>-dlt.
        return TopicBuilder.name(name + "-failing-dlt").partitions(2).replicas(1).build();
    }

    @Bean
    NewTopic transactionalTopic(@Value("${app.topic}") String name) {
        return TopicBuilder.name(name + "-tx").partitions(1).replicas(1).build();
    }

    @KafkaListener(topics = "${app.topic}", groupId = "${app.group}")
    void listen(ConsumerRecord<String, String> record) {
        received.add(record);
    }

    @KafkaListener(topics = "${app.topic}-batch", groupId = "${app.group}-batch", batch = "true")
    void listenBatch(List<String> values) {
        batches.add(values);
    }

    @KafkaListener(topics = "${app.topic}-failing", groupId = "${app.group}-failing")
    void listenFailing(String value) {
        throw new IllegalStateException("refusing " + value + " on purpose");
    }

    @KafkaListener(topics = "${app.topic}-failing-dlt", groupId = "${app.group}-failing-dlt")
    void listenDeadLetters(ConsumerRecord<String, String> record) {
        deadLetters.add(record);
    }

    @RetryableTopic(attempts = "2", backoff = @Backoff(delay = 100), replicationFactor = "1")
    @KafkaListener(topics = "${app.topic}-retryable", groupId = "${app.group}-retryable")
    void listenRetryable(String value, @Header(KafkaHeaders.RECEIVED_TOPIC) String topic) {
        retryAttempts.add(topic);
        throw new IllegalStateException("refusing " + value + " on purpose");
    }

    @DltHandler
    void retryableDeadLetter(String value) {
        retryDeadLetters.add(value);
    }

    @KafkaListener(topics = "${app.topic}-tx", groupId = "${app.group}-tx", containerFactory = "readCommitted")
    void listenCommitted(String value) {
        committed.add(value);
    }

    /** The failing listener's records go to its dead-letter topic after one retry. */
    @Bean
    static DefaultErrorHandler errorHandler(KafkaTemplate<Object, Object> template) {
        DefaultErrorHandler handler = new DefaultErrorHandler(new DeadLetterPublishingRecoverer(template), new FixedBackOff(100, 1));
        handler.setLogLevel(KafkaException.Level.WARN);
        return handler;
    }

    /** @RetryableTopic's dead-letter publishing, without logging the expected failure at ERROR. */
    @Configuration
    static class RetryTopicConfig extends RetryTopicConfigurationSupport {
        @Override
        protected Consumer<DeadLetterPublishingRecovererFactory> configureDeadLetterPublishingContainerFactory() {
            return DeadLetterPublishingRecovererFactory::neverLogListenerException;
        }

        /** Delays the retries; RetryTopicConfigurationSupport needs one. */
        @Bean
        TaskScheduler retryScheduler() {
            return new ThreadPoolTaskScheduler();
        }
    }

    @Bean
    static ConcurrentKafkaListenerContainerFactory<Object, Object> readCommitted(
            ConcurrentKafkaListenerContainerFactoryConfigurer configurer, KafkaProperties properties) {
        Map<String, Object> props = properties.buildConsumerProperties(null);
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        ConsumerFactory<Object, Object> consumers = new DefaultKafkaConsumerFactory<>(props);
        ConcurrentKafkaListenerContainerFactory<Object, Object> factory = new ConcurrentKafkaListenerContainerFactory<>();
        configurer.configure(factory, consumers);
        return factory;
    }

    @Bean
    ApplicationRunner roundTrip(KafkaTemplate<String, String> template, KafkaAdmin kafkaAdmin, KafkaProperties properties,
                                ApplicationContext context, @Value("${app.topic}") String topic) {
        return args -> {
            boolean ok = describeCluster(kafkaAdmin)
                    & roundTrip(template, topic)
                    & batch(template, topic)
                    & deadLetter(template, topic)
                    & retryable(template, topic)
                    & transactions(properties, topic);
            if (!ok) {
                exitWith(context, 1);
            }
        };
    }

    private boolean describeCluster(KafkaAdmin kafkaAdmin) throws Exception {
        try (Admin admin = Admin.create(kafkaAdmin.getConfigurationProperties())) {
            DescribeClusterResult cluster = admin.describeCluster();
            var nodes = cluster.nodes().get(30, TimeUnit.SECONDS);
            Node controller = cluster.controller().get(30, TimeUnit.SECONDS);
            if (nodes.size() != 3 || controller == null) {
                log.warn("describeCluster failed: nodes {}, controller {}", nodes, controller);
                return false;
            }
            log.info("ok describeCluster: cluster {} with {} brokers", cluster.clusterId().get(30, TimeUnit.SECONDS), nodes.size());
            return true;
        }
    }

    private boolean roundTrip(KafkaTemplate<String, String> template, String topic) throws Exception {
        String value = "hello from spring " + System.nanoTime();
        SendResult<String, String> sent = template.send(topic, "k", value).get(30, TimeUnit.SECONDS);
        log.info("sent {} to {}-{}@{}", value, topic, sent.getRecordMetadata().partition(), sent.getRecordMetadata().offset());
        ConsumerRecord<String, String> got = received.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (got == null || !value.equals(got.value())) {
            log.warn("round trip failed: sent {}, received {}", value, got);
            return false;
        }
        log.info("round trip ok: received {} from {}-{}@{}", got.value(), got.topic(), got.partition(), got.offset());
        return true;
    }

    private boolean batch(KafkaTemplate<String, String> template, String topic) throws Exception {
        for (int i = 0; i < 5; i++) {
            template.send(topic + "-batch", "b" + i);
        }
        template.flush();
        int n = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
        while (n < 5 && System.nanoTime() < deadline) {
            List<String> batch = batches.poll(1, TimeUnit.SECONDS);
            n += batch == null ? 0 : batch.size();
        }
        if (n != 5) {
            log.warn("batch listener received {} records, want 5", n);
            return false;
        }
        log.info("ok batch listener: 5 records");
        return true;
    }

    private boolean deadLetter(KafkaTemplate<String, String> template, String topic) throws Exception {
        template.send(topic + "-failing", "poison").get(30, TimeUnit.SECONDS);
        ConsumerRecord<String, String> got = deadLetters.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (got == null || !"poison".equals(got.value()) || got.headers().lastHeader(KafkaHeaders.DLT_EXCEPTION_MESSAGE) == null) {
            log.warn("dead letter failed: received {}", got);
            return false;
        }
        log.info("ok DefaultErrorHandler with DeadLetterPublishingRecoverer: the failed record reached {}", got.topic());
        return true;
    }

    private boolean retryable(KafkaTemplate<String, String> template, String topic) throws Exception {
        template.send(topic + "-retryable", "retry me").get(30, TimeUnit.SECONDS);
        String got = retryDeadLetters.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
        if (!"retry me".equals(got) || retryAttempts.size() != 2) {
            log.warn("@RetryableTopic failed: dead letter {}, attempts on {}", got, retryAttempts);
            return false;
        }
        log.info("ok @RetryableTopic: attempts on {}, then the @DltHandler", retryAttempts);
        return true;
    }

    /**
     * Transactions through a KafkaTransactionManager, as @Transactional("kafkaTransactionManager")
     * runs them. The manager is not a bean: Boot would make every listener container transactional.
     */
    private boolean transactions(KafkaProperties properties, String topic) throws Exception {
        DefaultKafkaProducerFactory<String, String> producers = new DefaultKafkaProducerFactory<>(properties.buildProducerProperties(null));
        producers.setTransactionIdPrefix(topic + "-tx-");
        try {
            return transactions(new KafkaTransactionManager<>(producers), topic);
        } finally {
            producers.destroy();
        }
    }

    private boolean transactions(KafkaTransactionManager<String, String> transactions, String topic) throws Exception {
        KafkaTemplate<String, String> template = new KafkaTemplate<>(transactions.getProducerFactory());
        TransactionTemplate tx = new TransactionTemplate(transactions);
        tx.executeWithoutResult(status -> {
            template.send(topic + "-tx", "committed-1");
            template.send(topic + "-tx", "committed-2");
        });
        try {
            tx.executeWithoutResult(status -> {
                template.send(topic + "-tx", "aborted");
                template.flush(); // the record is written, then aborted, not failed in flight
                throw new IllegalStateException("rolling back on purpose");
            });
        } catch (IllegalStateException expected) {
            // The transaction was aborted.
        }
        tx.executeWithoutResult(status -> template.send(topic + "-tx", "committed-3"));
        List<String> want = List.of("committed-1", "committed-2", "committed-3");
        List<String> got = new CopyOnWriteArrayList<>();
        while (got.size() < want.size()) {
            String value = committed.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
            if (value == null) {
                break;
            }
            got.add(value);
        }
        if (!want.equals(got)) {
            log.warn("transactions failed: a read_committed listener received {}, want {}", got, want);
            return false;
        }
        log.info("ok KafkaTransactionManager: read_committed received {} and not the aborted record", got);
        return true;
    }

    private static void exitWith(ApplicationContext context, int code) {
        context.getBean(ExitCode.class).code = code;
    }

    @Bean
    ExitCode exitCode() {
        return new ExitCode();
    }

    /** The process's exit code, 1 when a part failed. */
    static final class ExitCode implements ExitCodeGenerator {
        private volatile int code;

        @Override
        public int getExitCode() {
            return code;
        }
    }
}
