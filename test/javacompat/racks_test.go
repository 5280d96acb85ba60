package javacompat

// Racks: none by default, as on Kafka without broker.rack; `ksuite up
// --racks` sets them.

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ksuite/ksuite/internal/embedded"
	"github.com/ksuite/ksuite/internal/testkit"
)

// TestBrokersHaveNoRackByDefault: a Kafka broker without broker.rack has a
// null rack; Kafka's tools print "rack: null".
func TestBrokersHaveNoRackByDefault(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		racks, configured := brokerRacks(t, c.Client(t))
		for node, rack := range racks {
			if rack != nil {
				t.Errorf("broker %d has rack %q in Metadata, want none", node, *rack)
			}
		}
		if configured != nil {
			t.Errorf("broker.rack is %q in DescribeConfigs, want null", *configured)
		}
	})
}

// TestBrokerRacks: `ksuite up --racks a,b,c` puts broker i in rack i, as
// broker.rack does on Kafka.
func TestBrokerRacks(t *testing.T) {
	cfg := embedded.DefaultConfig()
	cfg.PortBase, cfg.DataDir, cfg.Racks = 0, "", []string{"a", "b", "c"}
	cluster, err := embedded.Start(testkit.Context(t, 30*time.Second), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cluster.Close() })
	c := testkit.Cluster{Name: "ksuite-up", Brokers: cluster.Bootstrap()}
	racks, configured := brokerRacks(t, c.Client(t))
	for node, want := range []string{"a", "b", "c"} {
		if got := racks[int32(node)]; got == nil || *got != want {
			t.Errorf("broker %d rack %v, want %q", node, deref(got), want)
		}
	}
	if configured == nil || *configured != "a" {
		t.Errorf("broker.rack of broker 0 in DescribeConfigs is %v, want a", deref(configured))
	}
}

// TestKafkaToolsRacks: on `ksuite up --racks a,b,c` Kafka's tools see each
// broker in its rack, as with broker.rack on Kafka.
func TestKafkaToolsRacks(t *testing.T) {
	build(t)
	bootstrap := ksuiteUp(t, "--racks", "a,b,c")
	r := sharedJVM(t).run(t, request{Main: apiVersionsTool, Args: []string{"--bootstrap-server", bootstrap}})
	nodes := regexp.MustCompile(`(?m)^\S+ \(id: (\d+) rack: (\S+) isFenced: false\) -> \($`).FindAllStringSubmatch(r.Out, -1)
	racks := map[string]string{}
	for _, n := range nodes {
		racks[n[1]] = n[2]
	}
	if r.Exit != 0 || len(racks) != 3 || racks["0"] != "a" || racks["1"] != "b" || racks["2"] != "c" {
		t.Fatalf("kafka-broker-api-versions on ksuite up --racks a,b,c: exit %d, racks by broker %v, want 0:a 1:b 2:c\n%s%s", r.Exit, racks, r.Out, r.Err)
	}
}

// brokerRacks is every broker's rack from Metadata and the first broker's
// broker.rack from DescribeConfigs.
func brokerRacks(t *testing.T, cl *kgo.Client) (map[int32]*string, *string) {
	t.Helper()
	ctx := testkit.Context(t, 15*time.Second)
	meta, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	racks := map[int32]*string{}
	first := meta.Brokers[0].NodeID
	for _, b := range meta.Brokers {
		racks[b.NodeID] = b.Rack
		first = min(first, b.NodeID)
	}
	req := kmsg.NewPtrDescribeConfigsRequest()
	rr := kmsg.NewDescribeConfigsRequestResource()
	rr.ResourceType, rr.ResourceName, rr.ConfigNames = kmsg.ConfigResourceTypeBroker, strconv.Itoa(int(first)), []string{"broker.rack"}
	req.Resources = append(req.Resources, rr)
	resp, err := req.RequestWith(ctx, cl.Broker(int(first)))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Resources) != 1 || len(resp.Resources[0].Configs) != 1 {
		t.Fatalf("DescribeConfigs broker.rack of broker %d: %+v", first, resp.Resources)
	}
	return racks, resp.Resources[0].Configs[0].Value
}
