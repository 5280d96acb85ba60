// Package embedded runs the in-process Kafka-compatible cluster behind
// `ksuite up`: franz-go's kfake with N brokers on fixed loopback ports,
// persisted under a data directory so topics, records and committed offsets
// survive a restart.
//
// kfake keeps one copy of the data for all brokers: replication factors and
// ISRs are reported, not real. It is a development cluster; real Apache Kafka
// is the engine for anything else.
package embedded

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ksuite/ksuite/internal/kafka"
	"github.com/ksuite/ksuite/third_party/kfake"
)

// Defaults, matching the team's docker-compose cluster.
const (
	DefaultNodes    = 3
	DefaultPortBase = 9091
	DefaultDataDir  = ".ksuite/data"
	// DefaultClusterID names a new embedded cluster; a persisted one keeps its own.
	DefaultClusterID = "ksuite-embedded"
	// DefaultMaxPartitionsPerTopic bounds one topic. Kafka's controller
	// refuses, with POLICY_VIOLATION, any operation of more than 10,000
	// metadata records (QuorumController.MAX_RECORDS_PER_USER_OP), and a
	// topic's creation is one record per partition plus the topic's own.
	DefaultMaxPartitionsPerTopic = 10_000
	// DefaultMaxPartitions bounds the whole embedded cluster, about 100 MB
	// of partition state: past that a development cluster is more likely
	// a runaway client than a need.
	DefaultMaxPartitions = 100_000
)

// Config configures [Start]. The zero value is not usable; start from
// [DefaultConfig].
type Config struct {
	// Nodes is the number of brokers (default 3).
	Nodes int
	// PortBase is the first broker's port; broker i listens on PortBase+i.
	// 0 picks free random ports (tests).
	PortBase int
	// DataDir persists the cluster; "" keeps it in memory only.
	DataDir string
	// AutoCreateTopics creates a topic on first metadata request, as Kafka's
	// auto.create.topics.enable=true does.
	AutoCreateTopics bool
	// DefaultPartitions is the partition count of auto-created topics (Kafka's
	// num.partitions, default 1).
	DefaultPartitions int
	// MaxPartitionsPerTopic and MaxPartitions bound one topic and the whole
	// cluster: a CreateTopics, CreatePartitions or auto-creation past them
	// is refused with POLICY_VIOLATION, so that no client can exhaust the
	// process's memory. Zero means the default.
	MaxPartitionsPerTopic int
	MaxPartitions         int
	// SyncWrites fsyncs every produced batch before acknowledging it, so an
	// acknowledged record survives an OS crash or power loss, not only the
	// death of the process. Without it, segments are synced when they roll
	// and at a clean shutdown, as Kafka does by default.
	SyncWrites bool
	// Repair starts from a damaged data directory anyway: what the segment
	// files hold is rebuilt into topics, and what was lost is reported
	// (see [Cluster.RepairReport]). Without it a damaged directory is a
	// [*DamagedError].
	Repair bool
	// Racks are the brokers' racks (Kafka's broker.rack), one per broker in
	// node order. Empty, the default, gives no broker a rack, as on a Kafka
	// cluster that does not set broker.rack.
	Racks []string
	// Logger receives kfake's warnings and errors; nil discards them.
	Logger *slog.Logger
	// External, when set, exposes the brokers to other machines (see
	// [External]); nil keeps them on 127.0.0.1.
	External *External
}

// DefaultConfig is the configuration of a plain `ksuite up`.
func DefaultConfig() Config {
	return Config{
		Nodes:             DefaultNodes,
		PortBase:          DefaultPortBase,
		DataDir:           DefaultDataDir,
		AutoCreateTopics:  true,
		DefaultPartitions: 1,

		MaxPartitionsPerTopic: DefaultMaxPartitionsPerTopic,
		MaxPartitions:         DefaultMaxPartitions,
	}
}

// Validate checks the config without side effects.
func (c Config) Validate() error {
	if c.Nodes < 1 || c.Nodes > 64 {
		return fmt.Errorf("--nodes %d: must be between 1 and 64", c.Nodes)
	}
	if c.PortBase < 0 || c.PortBase+c.Nodes-1 > 65535 {
		return fmt.Errorf("--port-base %d with --nodes %d leaves the port range 1-65535", c.PortBase, c.Nodes)
	}
	if c.DefaultPartitions < 1 {
		return fmt.Errorf("default partitions %d: must be at least 1", c.DefaultPartitions)
	}
	if perTopic, total := c.partitionBounds(); perTopic < 1 || total < perTopic {
		return fmt.Errorf("--max-partitions-per-topic %d and --max-partitions %d: both must be at least 1, and the cluster's bound at least the topic's", perTopic, total)
	}
	if len(c.Racks) > 0 && len(c.Racks) != c.Nodes {
		return fmt.Errorf("--racks %s: %d rack(s) for %d brokers; give one rack per broker, e.g. --racks %s",
			strings.Join(c.Racks, ","), len(c.Racks), c.Nodes, exampleRacks(c.Nodes))
	}
	for i, r := range c.Racks {
		if strings.TrimSpace(r) == "" {
			return fmt.Errorf("--racks %s: rack %d of %d is empty; name every broker's rack, e.g. --racks %s",
				strings.Join(c.Racks, ","), i+1, len(c.Racks), exampleRacks(c.Nodes))
		}
	}
	if c.External != nil {
		return c.External.Validate()
	}
	return nil
}

// partitionBounds is MaxPartitionsPerTopic and MaxPartitions, the
// defaults for zero.
func (c Config) partitionBounds() (perTopic, total int) {
	perTopic, total = c.MaxPartitionsPerTopic, c.MaxPartitions
	if perTopic == 0 {
		perTopic = DefaultMaxPartitionsPerTopic
	}
	if total == 0 {
		total = max(DefaultMaxPartitions, perTopic)
	}
	return perTopic, total
}

// exampleRacks is a,b,c,... for n brokers, for error messages.
func exampleRacks(n int) string {
	racks := make([]string, n)
	for i := range racks {
		racks[i] = string(rune('a' + i%26))
	}
	return strings.Join(racks, ",")
}

// PortInUseError reports a broker port another process holds.
type PortInUseError struct {
	Port int
	Err  error
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("port %d is already in use: stop what holds it or choose other ports with --port-base", e.Port)
}

func (e *PortInUseError) Unwrap() error { return e.Err }

// Cluster is a running embedded cluster.
type Cluster struct {
	fake    *kfake.Cluster
	addrs   []string
	dir     *dataDir // nil in memory
	repairs []string
	exposed *exposure // nil on loopback
}

// Start starts the cluster and returns once every broker accepts
// connections and answers a metadata request. A persisted cluster first
// locks its data directory, checks that the directory is whole and its
// files writable, and refuses to start from a damaged one unless
// cfg.Repair is set.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cluster{}
	opts := []kfake.Opt{
		kfake.NumBrokers(cfg.Nodes),
		kfake.DefaultNumPartitions(cfg.DefaultPartitions),
		kfake.ClusterID(DefaultClusterID),
		kfake.MaxPartitions(cfg.partitionBounds()),
	}
	if cfg.AutoCreateTopics {
		opts = append(opts, kfake.AllowAutoTopicCreation())
	}
	if len(cfg.Racks) > 0 {
		opts = append(opts, kfake.BrokerRacks(cfg.Racks...))
	}
	if cfg.Logger != nil {
		opts = append(opts, kfake.WithLogger(slogAdapter{cfg.Logger}))
	}
	if cfg.PortBase > 0 {
		ports := make([]int, cfg.Nodes)
		for i := range ports {
			ports[i] = cfg.PortBase + i
		}
		opts = append(opts, kfake.Ports(ports...))
	}
	if cfg.External != nil {
		c.exposed = cfg.External.exposure()
		opts = append(opts, c.exposed.opts()...)
	}
	if cfg.DataDir != "" {
		d, err := openDataDir(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		c.dir = d
		if err := c.prepare(cfg); err != nil {
			d.close()
			return nil, err
		}
		opts = append(opts, kfake.DataDir(cfg.DataDir))
		if cfg.SyncWrites {
			opts = append(opts, kfake.SyncWrites())
		}
	}
	fake, err := kfake.NewCluster(opts...)
	if err != nil {
		if c.dir != nil {
			c.dir.close()
		}
		return nil, c.explainStart(err)
	}
	c.fake = fake
	c.addrs = fake.ListenAddrs()
	if err := c.waitReady(ctx); err != nil {
		_ = c.Close()
		return nil, err
	}
	if len(c.repairs) > 0 {
		past, err := c.offsetsPastEnd(ctx)
		if err != nil {
			_ = c.Close()
			return nil, fmt.Errorf("after repairing %s: %w", cfg.DataDir, err)
		}
		c.repairs = append(c.repairs, past...)
	}
	return c, nil
}

// prepare checks (or, with cfg.Repair, repairs) the data directory and its
// files' permissions before kfake reads it.
func (c *Cluster) prepare(cfg Config) error {
	findings, err := c.dir.check()
	if err != nil {
		return err
	}
	if len(findings) > 0 && !cfg.Repair {
		return &DamagedError{Dir: cfg.DataDir, Findings: findings}
	}
	if err := c.dir.writable(); err != nil {
		return err
	}
	for _, f := range findings {
		if f.repair != nil {
			if err := f.repair(cfg.Nodes); err != nil {
				return fmt.Errorf("repairing %s: %w", cfg.DataDir, err)
			}
		}
		c.repairs = append(c.repairs, f.lost)
	}
	return c.dir.startDirty()
}

// explainStart adds the way out to kfake's start errors.
func (c *Cluster) explainStart(err error) error {
	err = explainListen(err)
	if c.dir != nil && strings.HasPrefix(err.Error(), "loading persisted state") {
		return fmt.Errorf("data directory %s cannot be loaded: %w: start with --repair to rebuild it from the segment files, or move it away to start empty", c.dir.path, err)
	}
	return err
}

// Bootstrap is the brokers' addresses, host:port, in node order.
func (c *Cluster) Bootstrap() []string { return c.addrs }

// RepairReport says what [Config.Repair] rebuilt and what was lost, one
// sentence each; it is empty when the data directory was whole.
func (c *Cluster) RepairReport() []string { return c.repairs }

// ClientConfig is how a client in this process reaches the brokers: their
// loopback addresses or, when exposed, their local addresses with the
// admin's credentials and the CA, whatever they advertise.
func (c *Cluster) ClientConfig() kafka.Config {
	if c.exposed != nil {
		return c.exposed.clientConfig()
	}
	return kafka.Config{Brokers: c.addrs}
}

// Close stops the brokers and, when persisted, writes and syncs everything
// to the data directory before returning. The error says what could not be
// saved: records or offsets acknowledged to clients may then be lost. Only
// the first call does the work.
func (c *Cluster) Close() error {
	var err error
	if c.fake != nil {
		err = c.fake.Shutdown()
		c.fake = nil
		if c.dir != nil && err == nil {
			err = c.dir.markClean()
		}
	}
	if c.dir != nil {
		c.dir.close()
		c.dir = nil
	}
	return err
}

// waitReady proves that a client can connect and read metadata listing
// every broker: the ready line must only be printed once that is true.
func (c *Cluster) waitReady(ctx context.Context) error {
	cfg := c.ClientConfig()
	cl, err := cfg.NewClient()
	if err != nil {
		return err
	}
	defer cl.Close()
	for _, addr := range cfg.Brokers {
		conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		if err != nil {
			return fmt.Errorf("broker %s does not accept connections: %w", addr, err)
		}
		_ = conn.Close()
	}
	return cfg.Explain(cl.Ping(ctx))
}

// explainListen turns "bind: address already in use" into a PortInUseError,
// and "cannot assign requested address" (a --listen-address this machine
// does not have, such as a cloud host's public IP) into the fix.
func explainListen(err error) error {
	var opErr *net.OpError
	if errors.Is(err, syscall.EADDRNOTAVAIL) && errors.As(err, &opErr) && opErr.Addr != nil {
		host, _, _ := net.SplitHostPort(opErr.Addr.String())
		return fmt.Errorf("cannot listen on %s: it is not an address of this machine: give --listen-address 0.0.0.0 (every interface) or one of this machine's own IPs (a cloud host's public IP is usually not one: listen on the private IP and advertise the public one with --external-host): %w", host, err)
	}
	if errors.Is(err, syscall.EADDRINUSE) && errors.As(err, &opErr) {
		port := 0
		if a, ok := opErr.Addr.(*net.TCPAddr); ok {
			port = a.Port
		} else if opErr.Addr != nil {
			_, p, _ := net.SplitHostPort(opErr.Addr.String())
			port, _ = strconv.Atoi(p)
		}
		return &PortInUseError{Port: port, Err: err}
	}
	return err
}

// offsetsPastEnd reports, after a repair, every committed group offset
// beyond its partition's end: records the group had read are gone, and
// its consumers will find the log truncated and resume at the new end.
func (c *Cluster) offsetsPastEnd(ctx context.Context) ([]string, error) {
	cl, err := c.ClientConfig().NewClient()
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	groups, err := adm.ListGroups(ctx)
	if err != nil {
		return nil, err
	}
	fetched := adm.FetchManyOffsets(ctx, groups.Groups()...)
	if err := fetched.Error(); err != nil {
		return nil, err
	}
	topics := fetched.CommittedPartitions().Topics()
	if len(topics) == 0 {
		return nil, nil
	}
	ends, err := adm.ListEndOffsets(ctx, topics...)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, name := range sortedKeys(fetched) {
		group := fetched[name]
		for _, o := range group.Fetched.Offsets().Sorted() {
			end, ok := ends.Lookup(o.Topic, o.Partition)
			if ok && end.Err == nil && o.At > end.Offset {
				out = append(out, fmt.Sprintf("group %q committed offset %d of topic %q partition %d, which now ends at offset %d: the records in between are lost", group.Group, o.At, o.Topic, o.Partition, end.Offset))
			}
		}
	}
	return out, nil
}

// slogAdapter forwards kfake's warnings and errors to slog.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Logf(level kfake.LogLevel, format string, args ...any) {
	switch level {
	case kfake.LogLevelError:
		a.l.Error(fmt.Sprintf(format, args...), "component", "kfake")
	case kfake.LogLevelWarn:
		a.l.Warn(fmt.Sprintf(format, args...), "component", "kfake")
	}
}
