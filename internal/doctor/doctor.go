// Package doctor checks a Kafka cluster the way a person debugging it
// would, from where the command runs, and says what to fix:
//
//   - the bootstrap answers, and every address the brokers advertise
//     resolves and answers an ApiVersions request from here (the classic
//     advertised-listener failure: the bootstrap connects, then clients
//     hang on an address they cannot reach);
//   - TLS: the handshake, the certificate's expiry and its names against
//     the advertised hosts; SASL: authentication and the mechanisms offered;
//   - brokers against replication factors, offline and under-replicated
//     partitions, min.insync.replicas against the replication factor;
//   - exposure: a listener other machines are meant to reach that anyone
//     can use (no authentication) or where ACLs are off;
//   - consumer groups with no members and records they have not read.
//
// It works on any cluster (the embedded one or Apache Kafka) with the shared
// connection settings, and every network call is bounded by the config's
// timeout.
package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ksuite/ksuite/internal/kafka"
)

// Status is a check's outcome.
type Status string

// The statuses, as they appear in JSON.
const (
	OK   Status = "ok"
	Fail Status = "fail"
	Warn Status = "warn"
)

// Check is one line of the report. Fix says what to do when Status is not
// ok ("" otherwise).
type Check struct {
	Name   string `json:"name"`
	Status Status `json:"status"`
	Detail string `json:"detail"`
	Fix    string `json:"fix"`
}

// Report is every check, in a fixed order. Marshalled to JSON it is the
// documented shape {"checks":[{"name","status","detail","fix"}]}.
type Report struct {
	Checks []Check `json:"checks"`
}

// Failed reports whether any check failed (warnings do not fail).
func (r Report) Failed() bool {
	for _, c := range r.Checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}

// WriteJSON writes the report as one JSON document.
func (r Report) WriteJSON(w io.Writer) error {
	if r.Checks == nil {
		r.Checks = []Check{}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes a checklist: ✓ ok, ✗ fail, ! warn, with one fix line
// under each problem, and a summary.
func (r Report) WriteText(w io.Writer) error {
	var fails, warns int
	for _, c := range r.Checks {
		mark := "✓"
		switch c.Status {
		case Fail:
			mark = "✗"
			fails++
		case Warn:
			mark = "!"
			warns++
		}
		if _, err := fmt.Fprintf(w, "%s %s: %s\n", mark, c.Name, c.Detail); err != nil {
			return err
		}
		if c.Status != OK && c.Fix != "" {
			if _, err := fmt.Fprintf(w, "    fix: %s\n", c.Fix); err != nil {
				return err
			}
		}
	}
	var err error
	switch {
	case fails > 0:
		_, err = fmt.Fprintf(w, "\n%d check(s) failed, %d warning(s)\n", fails, warns)
	case warns > 0:
		_, err = fmt.Fprintf(w, "\nno check failed, %d warning(s)\n", warns)
	default:
		_, err = fmt.Fprintf(w, "\nall %d checks passed\n", len(r.Checks))
	}
	return err
}

// Options tunes [Run]; the zero value is the documented behaviour.
type Options struct {
	// CertWarn is how long before a certificate expires it is reported
	// (default 30 days, when `ksuite up` renews its own).
	CertWarn time.Duration
	// MaxGroups bounds how many member-less groups have their lag computed
	// (default 200), so a cluster with thousands stays quick to check.
	MaxGroups int
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

func (o *Options) setDefaults() {
	if o.CertWarn <= 0 {
		o.CertWarn = 30 * 24 * time.Hour
	}
	if o.MaxGroups <= 0 {
		o.MaxGroups = 200
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// Run checks the cluster cfg reaches. It never returns an error: a check
// that cannot run is itself a failed check.
func Run(ctx context.Context, cfg kafka.Config, opts Options) Report {
	opts.setDefaults()
	if cfg.Timeout <= 0 {
		cfg.Timeout = kafka.DefaultTimeout
	}
	var r Report
	cl, err := cfg.Connect(ctx)
	if err != nil {
		c := connectFailure(cfg, err)
		if errors.Is(err, kerr.UnsupportedSaslMechanism) {
			tc, _ := cfg.TLSConfig()
			if offered, perr := offeredMechanisms(ctx, cfg, tc); perr == nil && len(offered) > 0 {
				c.Fix = fmt.Sprintf("use a mechanism the listener offers: --sasl-mechanism %s", strings.Join(offered, " or "))
			}
		}
		r.Checks = append(r.Checks, c)
		return r
	}
	defer cl.Close()

	seed, meta, err := seedMetadata(ctx, cl, cfg.Timeout)
	if err != nil {
		r.Checks = append(r.Checks, Check{Name: "metadata", Status: Fail,
			Detail: "the cluster does not answer a metadata request: " + cfg.Explain(err).Error(),
			Fix:    "grant the user Describe on the cluster, or check the brokers' logs"})
		return r
	}
	r.Checks = append(r.Checks, Check{Name: "bootstrap", Status: OK,
		Detail: fmt.Sprintf("%s answers: cluster %s, %d live broker(s)", strings.Join(cfg.Brokers, ","), clusterID(meta), len(meta.brokers))})

	// The checks are independent round trips: run them at once so the
	// report takes about as long as the slowest.
	var (
		wg      sync.WaitGroup
		mechs   []string
		mechErr error
		probes  []brokerProbe
		minISR  map[string]int
		isrErr  error
		acls    aclState
	)
	tc, _ := cfg.TLSConfig() // Connect succeeded, so the settings are valid
	goDo := func(fn func()) { wg.Add(1); go func() { defer wg.Done(); fn() }() }
	if cfg.SASL.Mechanism != "" {
		goDo(func() { mechs, mechErr = offeredMechanisms(ctx, cfg, tc) })
	}
	goDo(func() { probes = probeBrokers(ctx, cfg, tc, meta.brokers, opts) })
	goDo(func() { minISR, isrErr = minInsyncReplicas(ctx, seed, meta.topics, cfg.Timeout) })
	goDo(func() { acls = probeACLs(ctx, seed, cfg.Timeout) })
	wg.Wait()

	if cfg.SASL.Mechanism != "" {
		r.Checks = append(r.Checks, saslCheck(cfg, mechs, mechErr))
	}
	var unreachable []string
	for _, p := range probes {
		r.Checks = append(r.Checks, p.check)
		if p.check.Status != OK {
			unreachable = append(unreachable, strconv.Itoa(int(p.node)))
		}
	}
	if tc != nil {
		r.Checks = append(r.Checks, tlsCheck(probes))
	}
	r.Checks = append(r.Checks, replicationChecks(meta)...)
	r.Checks = append(r.Checks, minISRCheck(meta, minISR, isrErr))
	r.Checks = append(r.Checks, exposureCheck(cfg, tc != nil, meta.brokers, acls))
	if len(unreachable) > 0 {
		// Groups live on their coordinators, reached at their advertised
		// addresses: asking would only wait out the timeout.
		r.Checks = append(r.Checks, Check{Name: "consumer groups", Status: Warn,
			Detail: "not checked: broker " + strings.Join(unreachable, ", ") + " cannot be reached at its advertised address",
			Fix:    "fix the broker checks above"})
	} else {
		r.Checks = append(r.Checks, checkGroups(ctx, kadm.NewClient(cl), cfg.Timeout, opts.MaxGroups))
	}
	return r
}

func clusterID(m clusterMeta) string {
	if m.id == "" {
		return "(no id)"
	}
	return m.id
}

// connectFailure names the part that failed to connect (the network, TLS
// or SASL) and splits the connection error's cause into what happened and
// what to do.
func connectFailure(cfg kafka.Config, err error) Check {
	c := Check{Name: "bootstrap", Status: Fail, Detail: err.Error(),
		Fix: "start the cluster, or fix --brokers (or the profile's brokers) to an address that answers from here"}
	var ce *kafka.ConnectError
	if errors.As(cfg.Explain(err), &ce) {
		what, fix, ok := strings.Cut(ce.Cause, ": ")
		c.Detail = fmt.Sprintf("cannot connect to Kafka at %s: %s", ce.Addr, what)
		if ok {
			c.Fix = fix
		}
	}
	if kind := failureKind(err); kind != "network" {
		c.Name = kind
	}
	return c
}

// names lists what a check is about, sorted, shortened after max.
func names(ss []string, max int) string {
	sort.Strings(ss)
	if len(ss) > max {
		return strings.Join(ss[:max], ", ") + fmt.Sprintf(" and %d more", len(ss)-max)
	}
	return strings.Join(ss, ", ")
}

// requestCtx bounds one request.
func requestCtx(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, timeout)
}
