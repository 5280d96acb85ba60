import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.GroupListing;
import org.apache.kafka.clients.admin.ListGroupsOptions;
import org.apache.kafka.clients.admin.ListOffsetsResult.ListOffsetsResultInfo;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * What a Java service does with kafka-clients, checked against one cluster: the Admin calls
 * (createTopics, describeTopics, describeConfigs, incrementalAlterConfigs, deleteRecords,
 * listOffsets, listGroups), a transactional producer, and consumer groups on both rebalance
 * protocols (classic and KIP-848's consumer).
 *
 * <p>Usage: ClientCheck BOOTSTRAP PREFIX. Every topic and group it makes starts with PREFIX.
 * It prints one "ok ..." line per check that passed and throws on the first that did not.
 */
public final class ClientCheck {
    private static final Duration DEADLINE = Duration.ofSeconds(30);

    private final String bootstrap;
    private final String prefix;
    private final Admin admin;

    private ClientCheck(String bootstrap, String prefix, Admin admin) {
        this.bootstrap = bootstrap;
        this.prefix = prefix;
        this.admin = admin;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) {
            throw new IllegalArgumentException("usage: ClientCheck BOOTSTRAP PREFIX");
        }
        try (Admin admin = Admin.create(Map.of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, args[0],
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 30_000))) {
            ClientCheck c = new ClientCheck(args[0], args[1], admin);
            c.topicsAndConfigs();
            c.recordsAndOffsets();
            c.transactions();
            c.consumerGroup(GroupType.CLASSIC);
            c.consumerGroup(GroupType.CONSUMER);
            c.listGroups();
        }
    }

    /** createTopics with and without configs, describeTopics, describeConfigs, incrementalAlterConfigs. */
    private void topicsAndConfigs() throws Exception {
        String configured = prefix + "configured";
        String plain = prefix + "plain";
        CreateTopicsResult created = admin.createTopics(List.of(
                new NewTopic(configured, 3, (short) 1).configs(Map.of("retention.ms", "3600000")),
                new NewTopic(plain, Optional.empty(), Optional.empty())));
        created.all().get(30, TimeUnit.SECONDS);
        check(created.numPartitions(configured).get() == 3, "createTopics numPartitions of %s = %d", configured, created.numPartitions(configured).get());
        Config createdConfig = created.config(configured).get();
        expectEntry(createdConfig, "retention.ms", "3600000", ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
        expectEntry(createdConfig, "cleanup.policy", "delete", ConfigEntry.ConfigSource.DEFAULT_CONFIG);
        check(!created.config(plain).get().entries().isEmpty(), "createTopics returned no configs for %s", plain);
        ok("createTopics with and without configs; the result's configs carry their sources");

        TopicDescription d = eventually("describeTopics of " + configured,
                () -> admin.describeTopics(List.of(configured)).allTopicNames().get().get(configured),
                td -> td.partitions().size() == 3);
        for (TopicPartitionInfo p : d.partitions()) {
            check(p.leader() != null && !p.isr().isEmpty() && p.replicas().size() == 1,
                    "partition %d of %s: leader %s isr %s replicas %s", p.partition(), configured, p.leader(), p.isr(), p.replicas());
            check(p.elr() != null && p.lastKnownElr() != null, "partition %d of %s: elr %s lastKnownElr %s", p.partition(), configured, p.elr(), p.lastKnownElr());
        }
        ok("describeTopics: 3 partitions with leader, ISR and ELR lists");

        ConfigResource res = new ConfigResource(ConfigResource.Type.TOPIC, configured);
        expectEntry(describeConfig(res), "retention.ms", "3600000", ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG);
        ok("describeConfigs: retention.ms=3600000 from DYNAMIC_TOPIC_CONFIG");

        admin.incrementalAlterConfigs(Map.of(res, List.of(new AlterConfigOp(
                new ConfigEntry("retention.ms", "7200000"), AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
        eventually("retention.ms of " + configured + " altered to 7200000", () -> describeConfig(res).get("retention.ms"),
                e -> e != null && "7200000".equals(e.value()));
        ok("incrementalAlterConfigs: retention.ms=7200000");
    }

    /** deleteRecords and listOffsets on a partition with 10 records. */
    private void recordsAndOffsets() throws Exception {
        String topic = prefix + "records";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        TopicPartition tp = new TopicPartition(topic, 0);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(Map.of()))) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, 0, "k" + i, "v" + i)).get(30, TimeUnit.SECONDS);
            }
        }
        long low = admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(4))).lowWatermarks().get(tp).get(30, TimeUnit.SECONDS).lowWatermark();
        check(low == 4, "deleteRecords before 4: low watermark %d", low);
        ok("deleteRecords: low watermark 4");
        long earliest = listOffset(tp, OffsetSpec.earliest()).offset();
        long latest = listOffset(tp, OffsetSpec.latest()).offset();
        long maxTimestamp = listOffset(tp, OffsetSpec.maxTimestamp()).offset();
        check(earliest == 4 && latest == 10 && maxTimestamp >= 4 && maxTimestamp <= 9,
                "listOffsets of %s: earliest %d latest %d max-timestamp %d", tp, earliest, latest, maxTimestamp);
        ok("listOffsets: earliest 4, latest 10, max-timestamp within");
    }

    /** A transactional producer commits, aborts and commits; read_committed sees only the commits. */
    private void transactions() throws Exception {
        String topic = prefix + "txn";
        admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(Map.of(
                ProducerConfig.TRANSACTIONAL_ID_CONFIG, prefix + "txn-id")))) {
            producer.initTransactions();
            producer.beginTransaction();
            for (int i = 0; i < 5; i++) {
                producer.send(new ProducerRecord<>(topic, "k", "commit-" + i));
            }
            producer.commitTransaction();
            producer.beginTransaction();
            for (int i = 0; i < 3; i++) {
                producer.send(new ProducerRecord<>(topic, "k", "abort-" + i));
            }
            producer.flush();
            producer.abortTransaction();
            producer.beginTransaction();
            producer.send(new ProducerRecord<>(topic, "k", "last"));
            producer.commitTransaction();
        }
        List<String> seen = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(Map.of(
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed")))) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (!seen.contains("last") && System.nanoTime() < deadline) {
                consumer.poll(Duration.ofMillis(200)).forEach(r -> seen.add(r.value()));
            }
        }
        List<String> want = List.of("commit-0", "commit-1", "commit-2", "commit-3", "commit-4", "last");
        check(seen.equals(want), "read_committed of %s: %s, want %s", topic, seen, want);
        ok("transactions: read_committed sees the 6 committed records and none of the 3 aborted");
    }

    /**
     * A group on one rebalance protocol consumes 30 records from 3 partitions and commits; a
     * second member of the same group starts from the committed offsets.
     */
    private void consumerGroup(GroupType type) throws Exception {
        String protocol = type.toString().toLowerCase();
        String topic = prefix + "group-" + protocol;
        String group = prefix + "group-" + protocol;
        admin.createTopics(List.of(new NewTopic(topic, 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
        produce(topic, 0, 30);
        Map<String, Object> props = Map.of(
                ConsumerConfig.GROUP_ID_CONFIG, group,
                ConsumerConfig.GROUP_PROTOCOL_CONFIG, protocol,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        int first = consumeAndCommit(topic, props, 30);
        long committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS)
                .values().stream().mapToLong(OffsetAndMetadata::offset).sum();
        check(committed == 30, "group %s committed %d offsets in all, want 30", group, committed);
        ConsumerGroupDescription desc = admin.describeConsumerGroups(List.of(group)).describedGroups().get(group).get(30, TimeUnit.SECONDS);
        check(desc.type() == type, "group %s has type %s, want %s", group, desc.type(), type);

        produce(topic, 30, 3);
        int resumed = consumeAndCommit(topic, props, 3);
        ok("consumer group (group.protocol=%s): %d records from 3 partitions committed; a new member resumed with %d", protocol, first, resumed);
    }

    /** listGroups finds the groups of both protocols, unfiltered and filtered to consumer groups. */
    private void listGroups() throws Exception {
        Set<String> want = Set.of(prefix + "group-classic", prefix + "group-consumer");
        for (ListGroupsOptions opts : List.of(new ListGroupsOptions(), ListGroupsOptions.forConsumerGroups())) {
            Set<String> listed = eventually("listGroups lists " + want,
                    () -> admin.listGroups(opts).all().get(30, TimeUnit.SECONDS).stream()
                            .map(GroupListing::groupId).filter(want::contains).collect(Collectors.toSet()),
                    want::equals);
            check(listed.equals(want), "listGroups: %s", listed);
        }
        ok("listGroups: both groups, with and without the consumer-group type filter");
    }

    private int consumeAndCommit(String topic, Map<String, Object> props, int want) throws Exception {
        int n = 0;
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(consumerProps(props))) {
            consumer.subscribe(List.of(topic));
            long deadline = System.nanoTime() + DEADLINE.toNanos();
            while (n < want && System.nanoTime() < deadline) {
                n += consumer.poll(Duration.ofMillis(200)).count();
            }
            check(n == want, "group %s on %s: consumed %d records, want %d", props.get(ConsumerConfig.GROUP_ID_CONFIG), topic, n, want);
            consumer.commitSync(Duration.ofSeconds(30));
        }
        return n;
    }

    private void produce(String topic, int from, int n) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps(Map.of()))) {
            for (int i = from; i < from + n; i++) {
                producer.send(new ProducerRecord<>(topic, i % 3, "k" + i, "v" + i));
            }
            producer.flush();
        }
    }

    private Config describeConfig(ConfigResource res) throws Exception {
        return admin.describeConfigs(List.of(res)).all().get(30, TimeUnit.SECONDS).get(res);
    }

    private ListOffsetsResultInfo listOffset(TopicPartition tp, OffsetSpec spec) throws Exception {
        return admin.listOffsets(Map.of(tp, spec)).partitionResult(tp).get(30, TimeUnit.SECONDS);
    }

    private Map<String, Object> producerProps(Map<String, Object> extra) {
        Map<String, Object> p = new HashMap<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class,
                ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class));
        p.putAll(extra);
        return p;
    }

    private Map<String, Object> consumerProps(Map<String, Object> extra) {
        Map<String, Object> p = new HashMap<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class,
                ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class));
        p.putAll(extra);
        return p;
    }

    private static void expectEntry(Config config, String name, String value, ConfigEntry.ConfigSource source) {
        ConfigEntry e = config.get(name);
        check(e != null && value.equals(e.value()) && e.source() == source, "config %s: %s, want %s from %s", name, e, value, source);
    }

    /** eventually polls f until ok accepts its result: the real cluster's brokers learn of changes a moment later. */
    private static <T> T eventually(String what, Callable<T> f, Predicate<T> ok) throws Exception {
        long deadline = System.nanoTime() + DEADLINE.toNanos();
        Exception last = null;
        T v = null;
        while (System.nanoTime() < deadline) {
            try {
                v = f.call();
                if (ok.test(v)) {
                    return v;
                }
            } catch (Exception e) {
                last = e;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("not true within " + DEADLINE + ": " + what + " (last value " + v + ")", last);
    }

    private static void check(boolean cond, String format, Object... args) {
        if (!cond) {
            throw new AssertionError(String.format(format, args));
        }
    }

    private static void ok(String format, Object... args) {
        System.out.println("ok " + String.format(format, args));
    }
}
