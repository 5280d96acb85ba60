package event

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// handledOnly observes one thing, as an outside observer written before
// later measurements were added would.
type handledOnly struct{}

func (handledOnly) Handled(string, string, time.Duration) {}

// wrongSignature looks like an observer but matches no interface.
type wrongSignature struct{}

func (wrongSignature) Handled(string, string) {}

// An Observer may implement any subset of the observer interfaces; one
// that implements none is a mistake the configs report.
func TestObserverValidate(t *testing.T) {
	seeds := []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}
	for _, tc := range []struct {
		name    string
		obs     Observer
		wantErr string
	}{
		{"none", nil, ""},
		{"one interface", handledOnly{}, ""},
		{"outbox only", backlogSpy{&counter{}}, ""},
		{"no interface", wrongSignature{}, "event.wrongSignature) implements none of the observer interfaces"},
		{"not even a type with methods", 42, "(int) implements none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := RouterConfig{ClientOpts: seeds, Observer: tc.obs}
			lc := RelayConfig{Outbox: &Outbox{}, Producer: &Producer{}, Observer: tc.obs}
			for name, err := range map[string]error{"RouterConfig": rc.Validate(), "RelayConfig": lc.Validate()} {
				switch {
				case tc.wantErr == "" && err != nil:
					t.Errorf("%s.Validate() = %v, want nil", name, err)
				case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) ||
					!strings.Contains(err.Error(), name+".Observer")):
					t.Errorf("%s.Validate() = %v, want an error naming %s.Observer and containing %q", name, err, name, tc.wantErr)
				}
			}
		})
	}
	// What the router calls is what the observer has; the rest are no-ops.
	ob := resolveObserver(handledOnly{})
	if !ob.timed || ob.wantBacklog || !ob.any {
		t.Errorf("resolved handledOnly: timed %v, wantBacklog %v, any %v; want true, false, true", ob.timed, ob.wantBacklog, ob.any)
	}
	ob.consumed("g", "t", 0) // a no-op, not a nil func
}

// Options the router sets itself are rejected with the field to use, not
// silently overridden; tuning options pass.
func TestRouterConfigRejectsOwnedClientOpts(t *testing.T) {
	seeds := kgo.SeedBrokers("127.0.0.1:1")
	for _, tc := range []struct {
		opt  kgo.Opt
		want string // "" means accepted
	}{
		{kgo.SessionTimeout(20 * time.Second), ""},
		{kgo.HeartbeatInterval(time.Second), ""},
		{kgo.FetchMaxWait(time.Second), ""},
		{kgo.ClientID("member-service"), ""},
		{kgo.AutoCommitMarks(), ""}, // what the router sets anyway
		{kgo.BlockRebalanceOnPoll(), ""},
		{kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {}), ""}, // the router leaves it to the user
		{kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()), "kgo.ConsumeResetOffset, which the router sets itself: set RouterConfig.ResetOffset"},
		{kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), "set RouterConfig.ResetOffset"}, // even franz-go's default value
		{kgo.ConsumerGroup("g"), "kgo.ConsumerGroup, which the router sets itself: the group is the first argument of Router.Handle"},
		{kgo.InstanceID("pod-0"), "kgo.InstanceID, which the router sets itself: set RouterConfig.InstanceID"},
		{kgo.ConsumeTopics("t"), "kgo.ConsumeTopics"},
		{kgo.ConsumeRegex(), "kgo.ConsumeRegex"},
		{kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{"t": {0: kgo.NewOffset()}}), "kgo.ConsumePartitions"},
		{kgo.Balancers(kgo.RangeBalancer()), "kgo.Balancers"},
		{kgo.FetchIsolationLevel(kgo.ReadUncommitted()), "kgo.FetchIsolationLevel"},
		{kgo.DisableAutoCommit(), "kgo.DisableAutoCommit"},
		{kgo.OnPartitionsRevoked(func(context.Context, *kgo.Client, map[string][]int32) {}), "kgo.OnPartitionsRevoked, which the router sets itself: the router commits finished work on revoke; see new assignments with kgo.OnPartitionsAssigned"},
		{kgo.OnPartitionsLost(func(context.Context, *kgo.Client, map[string][]int32) {}), "kgo.OnPartitionsLost"},
		{kgo.OnPartitionsCallbackBlocked(func(context.Context, *kgo.Client) {}), "kgo.OnPartitionsCallbackBlocked"},
		{kgo.RequiredAcks(kgo.LeaderAck()), "kgo.RequiredAcks"},
		{kgo.TransactionalID("tx"), "kgo.TransactionalID"},
	} {
		cfg := RouterConfig{ClientOpts: []kgo.Opt{seeds, tc.opt}}
		err := cfg.Validate()
		if tc.want == "" && err != nil {
			t.Errorf("Validate = %v, want the option accepted", err)
		}
		if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Validate = %v, want an error containing %q", err, tc.want)
		}
	}
	// Every problem at once, not the first only.
	cfg := RouterConfig{ClientOpts: []kgo.Opt{seeds, kgo.ConsumerGroup("g"), kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd())}}
	if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), "ConsumerGroup") || !strings.Contains(err.Error(), "ResetOffset") {
		t.Errorf("Validate = %v, want both options named", err)
	}
	if _, err := NewRouter(cfg); err == nil {
		t.Error("NewRouter accepted a config Validate rejects")
	}
}

// The outbox and the inbox reject a config that cannot work, naming what
// is wrong.
func TestStoreConfigValidate(t *testing.T) {
	db := &sql.DB{} // never used: validation fails before, or does not touch it
	for _, tc := range []struct {
		name string
		db   *sql.DB
		d    Dialect
		tbl  string
		want string
	}{
		{"ok", db, SQLite, "my_schema.events", ""},
		{"no DB", nil, Postgres, "t", "needs a DB"},
		{"no dialect", db, 0, "t", "unknown SQL dialect"},
		{"default table", db, SQLite, "", ""}, // "" means the default, as NewOutbox/NewInbox take it
		{"table with SQL in it", db, Postgres, "t; DROP TABLE users", `Table "t; DROP TABLE users" is not a plain SQL identifier: use letters, digits and _`},
	} {
		outbox := (&OutboxConfig{DB: tc.db, Dialect: tc.d, Table: tc.tbl}).Validate()
		inbox := (&InboxConfig{DB: tc.db, Dialect: tc.d, Table: tc.tbl}).Validate()
		for what, err := range map[string]error{"outbox": outbox, "inbox": inbox} {
			if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
				t.Errorf("%s: %s config Validate = %v, want %q", tc.name, what, err, tc.want)
			}
		}
	}
}

// A config Source that is not a URI-reference would fail every event
// published without its own source: Validate (so NewProducer and
// NewOutbox) refuses it, naming the field.
func TestConfigSourceValidate(t *testing.T) {
	seeds := []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}
	db := &sql.DB{}
	for _, tc := range []struct {
		source string
		ok     bool
	}{{"", true}, {"member-service", true}, {"/members", true}, {"member service", false}, {"member%zz", false}} {
		p := (&ProducerConfig{ClientOpts: seeds, Source: tc.source}).Validate()
		o := (&OutboxConfig{DB: db, Dialect: SQLite, Source: tc.source}).Validate()
		for field, err := range map[string]error{"ProducerConfig.Source": p, "OutboxConfig.Source": o} {
			want := field + " " + strconv.Quote(tc.source) + " is not a URI-reference"
			if tc.ok && err != nil || !tc.ok && (err == nil || !strings.Contains(err.Error(), want)) {
				t.Errorf("Validate with %s %q = %v, want ok=%v naming %q", field, tc.source, err, tc.ok, want)
			}
		}
	}
}

// A negative setting is a mistake, not its default: MaxAttempts -1 is no
// "retry forever". Validate names the field; WithRetry panics naming it.
func TestRouterConfigNegativeSettings(t *testing.T) {
	seeds := kgo.SeedBrokers("127.0.0.1:1")
	for _, tc := range []struct {
		edit func(*RouterConfig)
		want string
	}{
		{func(c *RouterConfig) { c.Retry.MaxAttempts = -1 }, "RouterConfig.Retry.MaxAttempts is -1"},
		{func(c *RouterConfig) { c.Retry.InitialBackoff = -time.Second }, "RouterConfig.Retry.InitialBackoff is -1s"},
		{func(c *RouterConfig) { c.Retry.MaxBackoff = -time.Second }, "RouterConfig.Retry.MaxBackoff"},
		{func(c *RouterConfig) { c.MaxPollRecords = -5 }, "RouterConfig.MaxPollRecords is -5"},
		{func(c *RouterConfig) { c.KeyConcurrency = -2 }, "RouterConfig.KeyConcurrency is -2"},
		{func(c *RouterConfig) { c.MaxBatch = -1 }, "RouterConfig.MaxBatch"},
		{func(c *RouterConfig) { c.RoundTimeout = -time.Second }, "RouterConfig.RoundTimeout"},
		{func(c *RouterConfig) { c.ShutdownTimeout = -time.Second }, "RouterConfig.ShutdownTimeout"},
	} {
		cfg := RouterConfig{ClientOpts: []kgo.Opt{seeds}}
		tc.edit(&cfg)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "use 0 for its default") {
			t.Errorf("Validate = %v, want an error containing %q and the fix", err, tc.want)
		}
	}
	if err := (&RouterConfig{ClientOpts: []kgo.Opt{seeds}}).Validate(); err != nil {
		t.Errorf("Validate of zero settings (the defaults) = %v", err)
	}
	defer func() {
		if v := recover(); v == nil || !strings.Contains(fmt.Sprint(v), "WithRetry RetryPolicy.MaxAttempts is -1") {
			t.Errorf("WithRetry(MaxAttempts: -1) panicked with %v, want the field named", v)
		}
	}()
	WithRetry(RetryPolicy{MaxAttempts: -1})
}
