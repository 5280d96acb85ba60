package io.ksuite.springcheck;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.config.TopicConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.ApplicationRunner;
import org.springframework.boot.ExitCodeGenerator;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.kafka.annotation.KafkaListener;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.support.SendResult;

/**
 * A service as the team writes them: KafkaAdmin creates the topic from a NewTopic bean, a
 * KafkaTemplate sends one record, and a @KafkaListener in a consumer group receives it. It
 * logs the round trip and exits 0, or exits 1 when the record does not come back in time.
 */
@SpringBootApplication
public class SpringCheckApplication {
    private static final Logger log = LoggerFactory.getLogger(SpringCheckApplication.class);

    private final BlockingQueue<ConsumerRecord<String, String>> received = new ArrayBlockingQueue<>(16);

    public static void main(String[] args) {
        System.exit(SpringApplication.exit(SpringApplication.run(SpringCheckApplication.class, args)));
    }

    @Bean
    NewTopic topic(@Value("${app.topic}") String name) {
        return TopicBuilder.name(name).partitions(3).replicas(1)
                .config(TopicConfig.RETENTION_MS_CONFIG, "3600000")
                .build();
    }

    @KafkaListener(topics = "${app.topic}", groupId = "${app.group}")
    void listen(ConsumerRecord<String, String> record) {
        received.add(record);
    }

    @Bean
    ApplicationRunner roundTrip(KafkaTemplate<String, String> template, ApplicationContext context,
                                @Value("${app.topic}") String topic) {
        return args -> {
            String value = "hello from spring " + System.nanoTime();
            SendResult<String, String> sent = template.send(topic, "k", value).get(30, TimeUnit.SECONDS);
            log.info("sent {} to {}-{}@{}", value, topic, sent.getRecordMetadata().partition(), sent.getRecordMetadata().offset());
            ConsumerRecord<String, String> got = received.poll(60, TimeUnit.SECONDS);
            if (got == null || !value.equals(got.value())) {
                log.error("round trip failed: sent {}, received {}", value, got);
                exitWith(context, 1);
                return;
            }
            log.info("round trip ok: received {} from {}-{}@{}", got.value(), got.topic(), got.partition(), got.offset());
        };
    }

    private static void exitWith(ApplicationContext context, int code) {
        context.getBean(ExitCode.class).code = code;
    }

    @Bean
    ExitCode exitCode() {
        return new ExitCode();
    }

    /** The process's exit code, 1 when the round trip failed. */
    static final class ExitCode implements ExitCodeGenerator {
        private volatile int code;

        @Override
        public int getExitCode() {
            return code;
        }
    }
}
