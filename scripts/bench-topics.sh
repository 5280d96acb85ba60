#!/usr/bin/env bash
# Benchmark of `ksuite topics` against Kafka's own topic tool, on the real cluster, in one run:
#
#   1. ksuite topics plan   for N new topics × 3 partitions (replication factor 2)
#   2. ksuite topics apply  creating them (one CreateTopics, waits until every broker shows them)
#   3. ksuite topics plan   against the N unchanged topics
#   4. ksuite topics apply --allow-delete removing them (waits until gone)
#   5. Kafka's TopicCommand creating the same N topics, one `--create` each, in one warm JVM
#      (TopicCommand.execute per topic: the tool's own admin path without JVM start-up)
#   6. Kafka's TopicCommand as scripts run it: one JVM per topic, for a sample of S topics
#
# Every topic it makes starts with bench-topics-<run id>- and is deleted at the end.
# Usage: scripts/bench-topics.sh            (N=1000, S=20; KSUITE_TEST_KAFKA or the local cluster)
#        N=200 S=5 scripts/bench-topics.sh
set -euo pipefail
cd "$(dirname "$0")/.."

N="${N:-1000}"
S="${S:-20}"
bootstrap="${KSUITE_TEST_KAFKA:-$(test/kafka/cluster.sh bootstrap)}"
classpath="${KSUITE_TEST_KAFKA_CLASSPATH:-$(test/kafka/cluster.sh classpath)}"
run="bench-topics-$(date +%s)-"
work=$(mktemp -d)
ksuite="$work/ksuite"

log() { echo "bench-topics: $*" >&2; }

cleanup() {
	# An empty file owning the run's prefix deletes whatever the run left behind.
	printf 'manage: {prefixes: ["%s"]}\n' "$run" >"$work/empty.yaml"
	"$ksuite" --brokers "$bootstrap" topics apply -f "$work/empty.yaml" --auto-approve --allow-delete >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

now() { date +%s.%N; }
elapsed() { echo "$(now) - $1" | bc; }

log "building ksuite"
go build -o "$ksuite" ./cmd/ksuite

{
	printf 'manage: {prefixes: ["%s"]}\n' "$run"
	printf 'defaults: {partitions: 3, replication-factor: 2}\n'
	printf 'topics:\n'
	for i in $(seq -f '%04g' 0 $((N - 1))); do printf '  - name: %st%s\n' "$run" "$i"; done
} >"$work/topics.yaml"
printf 'manage: {prefixes: ["%s"]}\n' "$run" >"$work/none.yaml"

ks() { "$ksuite" --brokers "$bootstrap" --timeout 60s topics "$@"; }

log "ksuite plan: $N creates"
t=$(now); ks plan -f "$work/topics.yaml" --detailed-exitcode >/dev/null || [ $? -eq 2 ]; plan_create=$(elapsed "$t")

log "ksuite apply: create $N topics"
t=$(now); ks apply -f "$work/topics.yaml" --auto-approve >/dev/null 2>&1; apply_create=$(elapsed "$t")

log "ksuite plan: $N unchanged topics (3 runs)"
plan_unchanged=()
for _ in 1 2 3; do
	t=$(now); ks plan -f "$work/topics.yaml" --detailed-exitcode >/dev/null; plan_unchanged+=("$(elapsed "$t")")
done

log "ksuite apply --allow-delete: delete $N topics"
t=$(now); ks apply -f "$work/none.yaml" --auto-approve --allow-delete >/dev/null 2>&1; apply_delete=$(elapsed "$t")

log "TopicCommand, one warm JVM: create the same $N topics"
cat >"$work/BenchTopicCommand.java" <<'EOF'
import java.lang.reflect.Method;

// Calls Kafka's TopicCommand once per topic inside one JVM, so the figure is
// the tool's admin path (an Admin client, CreateTopics, close) without the
// JVM start-up a shell loop of kafka-topics.sh would add.
public class BenchTopicCommand {
	public static void main(String[] a) throws Exception {
		// TopicCommand.execute ends with Exit.exit(code); keep the JVM alive on 0.
		org.apache.kafka.common.utils.internals.Exit.setExitProcedure((code, msg) -> {
			if (code != 0) throw new RuntimeException("TopicCommand exited " + code + ": " + msg);
		});
		Method execute = Class.forName("org.apache.kafka.tools.TopicCommand").getDeclaredMethod("execute", String[].class);
		execute.setAccessible(true);
		int n = Integer.parseInt(a[2]);
		long start = System.nanoTime();
		for (int i = 0; i < n; i++) {
			execute.invoke(null, (Object) new String[] {"--bootstrap-server", a[0], "--create",
				"--topic", String.format("%st%04d", a[1], i), "--partitions", "3", "--replication-factor", "2"});
		}
		System.err.printf("%.3f%n", (System.nanoTime() - start) / 1e9);
	}
}
EOF
javac -cp "$classpath" -d "$work" "$work/BenchTopicCommand.java"
t=$(now)
tc_warm_inner=$(java -cp "$work:$classpath" -Dlog4j2.level=WARN BenchTopicCommand "$bootstrap" "$run" "$N" 2>&1 >/dev/null | tail -1)
tc_warm=$(elapsed "$t")

log "ksuite plan against TopicCommand's topics (expect no changes)"
t=$(now); ks plan -f "$work/topics.yaml" --detailed-exitcode >"$work/plan-tc.txt" || { cat "$work/plan-tc.txt" >&2; exit 1; }; plan_tc=$(elapsed "$t")
ks apply -f "$work/none.yaml" --auto-approve --allow-delete >/dev/null 2>&1

log "TopicCommand, one JVM per topic: $S topics"
t=$(now)
for i in $(seq -f '%04g' 0 $((S - 1))); do
	java -cp "$classpath" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" --create \
		--topic "${run}j$i" --partitions 3 --replication-factor 2 >/dev/null
done
tc_jvm=$(elapsed "$t")
tc_jvm_per=$(echo "scale=3; $tc_jvm / $S" | bc)
tc_jvm_n=$(echo "scale=1; $tc_jvm_per * $N" | bc)

cat <<EOF
| step ($N topics × 3 partitions, rf 2) | seconds |
|---|---|
| ksuite topics plan ($N creates) | $(printf %.2f "$plan_create") |
| ksuite topics apply (create, waits for every broker) | $(printf %.2f "$apply_create") |
| ksuite topics plan ($N unchanged; 3 runs) | $(printf '%.2f ' "${plan_unchanged[@]}") |
| ksuite topics apply --allow-delete (delete, waits until gone) | $(printf %.2f "$apply_delete") |
| TopicCommand, one warm JVM, $N × --create (process / create loop) | $(printf %.2f "$tc_warm") / $tc_warm_inner |
| ksuite topics plan against TopicCommand's topics (no changes) | $(printf %.2f "$plan_tc") |
| TopicCommand, one JVM per topic: $S topics measured | $(printf %.2f "$tc_jvm") ($tc_jvm_per per topic, ≈ $tc_jvm_n for $N) |
EOF
