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
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/ksuite/ksuite/internal/kafka"
)

// Defaults, matching the team's docker-compose cluster.
const (
	DefaultNodes    = 3
	DefaultPortBase = 9091
	DefaultDataDir  = ".ksuite/data"
	// DefaultClusterID names a new embedded cluster; a persisted one keeps its own.
	DefaultClusterID = "ksuite-embedded"
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
		return c.External.validate()
	}
	return nil
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

// DataDirLockedError reports a data directory another `ksuite up` is using.
type DataDirLockedError struct{ Dir string }

func (e *DataDirLockedError) Error() string {
	return fmt.Sprintf("data directory %s is in use by another ksuite up: stop it, or pass another --data-dir or --in-memory", e.Dir)
}

// Cluster is a running embedded cluster.
type Cluster struct {
	fake    *kfake.Cluster
	addrs   []string
	lock    *os.File  // flock on the data dir, nil in memory
	exposed *exposure // nil on loopback
}

// Start starts the cluster and returns once every broker accepts
// connections and answers a metadata request.
func Start(ctx context.Context, cfg Config) (*Cluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	c := &Cluster{}
	opts := []kfake.Opt{
		kfake.NumBrokers(cfg.Nodes),
		kfake.DefaultNumPartitions(cfg.DefaultPartitions),
		kfake.ClusterID(DefaultClusterID),
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
		lock, err := lockDir(cfg.DataDir)
		if err != nil {
			return nil, err
		}
		c.lock = lock
		opts = append(opts, kfake.DataDir(cfg.DataDir))
	}
	fake, err := kfake.NewCluster(opts...)
	if err != nil {
		c.unlock()
		return nil, explainListen(err)
	}
	c.fake = fake
	c.addrs = fake.ListenAddrs()
	if err := c.waitReady(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Bootstrap is the brokers' addresses, host:port, in node order: the
// advertised ones when exposed.
func (c *Cluster) Bootstrap() []string { return c.addrs }

// ClientConfig is how a client in this process reaches the brokers: their
// loopback addresses or, when exposed, their local addresses with the
// admin's credentials and the CA, whatever they advertise.
func (c *Cluster) ClientConfig() kafka.Config {
	if c.exposed != nil {
		return c.exposed.clientConfig()
	}
	return kafka.Config{Brokers: c.addrs}
}

// Fake exposes the kfake cluster for fault injection in tests.
func (c *Cluster) Fake() *kfake.Cluster { return c.fake }

// Close stops the brokers and, when persisted, flushes everything to the
// data directory before returning. It is safe to call twice.
func (c *Cluster) Close() {
	if c.fake != nil {
		c.fake.Close()
	}
	c.unlock()
}

func (c *Cluster) unlock() {
	if c.lock != nil {
		_ = syscall.Flock(int(c.lock.Fd()), syscall.LOCK_UN)
		_ = c.lock.Close()
		c.lock = nil
	}
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

// lockDir takes an exclusive, non-blocking flock on dir/.lock so two
// clusters never write one data directory.
func lockDir(dir string) (*os.File, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("data directory %s: %w (choose another with --data-dir)", dir, err)
	}
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("data directory %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		_ = f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, &DataDirLockedError{Dir: dir}
		}
		return nil, fmt.Errorf("locking data directory %s: %w", dir, err)
	}
	return f, nil
}

// explainListen turns "bind: address already in use" into a PortInUseError.
func explainListen(err error) error {
	var opErr *net.OpError
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
