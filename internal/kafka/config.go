// Package kafka holds the one way every ksuite command reaches a Kafka
// cluster: the connection settings (brokers, SASL, TLS, timeout), how they are
// resolved from flags, environment and a ksuite.yaml profile, the franz-go
// client options they become, and the one-line explanation of a failed
// connection.
//
// Feature packages take a [Config] (or the [kgo.Opt] slice it builds); only the
// CLI deals with flags.
package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// DefaultTimeout bounds connecting and each admin call when no --timeout is given.
const DefaultTimeout = 10 * time.Second

// SASL mechanisms ksuite speaks.
const (
	MechanismPlain       = "PLAIN"
	MechanismScramSHA256 = "SCRAM-SHA-256"
	MechanismScramSHA512 = "SCRAM-SHA-512"
)

// Config is how to reach a cluster. The zero value with Brokers set is a
// plaintext, unauthenticated connection with [DefaultTimeout].
type Config struct {
	// Brokers are the seed addresses, host:port.
	Brokers []string
	// SASL authenticates the connection when Mechanism is set.
	SASL SASL
	// TLS encrypts the connection when Enabled (or when any file is set).
	TLS TLS
	// Timeout bounds dialing, connecting and each request round trip.
	Timeout time.Duration
	// Redirect maps a broker address as the cluster advertises it
	// (host:port) to the address to dial instead. A process on the
	// brokers' own machine uses it to reach them when the advertised
	// external name does not resolve or route from there (a new cloud
	// host's DNS, a public IP the cloud does not hairpin). TLS still
	// verifies the advertised name.
	Redirect map[string]string
}

// SASL holds SASL/PLAIN or SASL/SCRAM credentials.
type SASL struct {
	Mechanism string // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty disables SASL
	Username  string
	Password  string // never printed: see [Config.String]
}

// TLS holds the TLS settings; the files are PEM.
type TLS struct {
	Enabled bool
	CAFile  string
	// CAPEM is the CA certificate itself, PEM text, for a profile or an
	// environment variable that carries it inline instead of a file.
	CAPEM      string
	CertFile   string
	KeyFile    string
	ServerName string
}

// enabled reports whether TLS is on, explicitly or because a CA or file was given.
func (t TLS) enabled() bool {
	return t.Enabled || t.CAFile != "" || t.CAPEM != "" || t.CertFile != "" || t.KeyFile != ""
}

// String describes the config for logs without the password.
func (c Config) String() string {
	s := "brokers=" + strings.Join(c.Brokers, ",")
	if c.SASL.Mechanism != "" {
		s += " sasl=" + c.SASL.Mechanism + " user=" + c.SASL.Username
	}
	if c.TLS.enabled() {
		s += " tls=on"
	}
	return s
}

// timeout is the effective timeout.
func (c Config) timeout() time.Duration {
	if c.Timeout <= 0 {
		return DefaultTimeout
	}
	return c.Timeout
}

// Validate checks the settings without touching the network.
func (c Config) Validate() error {
	if len(c.Brokers) == 0 {
		return errors.New("no brokers: pass --brokers host:port[,host:port...] or set KSUITE_BROKERS")
	}
	for _, b := range c.Brokers {
		if _, port, err := net.SplitHostPort(b); err != nil || port == "" {
			return fmt.Errorf("broker address %q is not host:port: fix --brokers (e.g. 127.0.0.1:9092)", b)
		}
	}
	switch strings.ToUpper(c.SASL.Mechanism) {
	case "":
		if c.SASL.Username != "" {
			// Without a mechanism the user would be dropped and the client
			// would connect anonymously, to fail with a puzzling message.
			return fmt.Errorf("--sasl-username %s needs --sasl-mechanism (SCRAM-SHA-512 for ksuite up --external-host; PLAIN or SCRAM-SHA-256 as the cluster allows)", c.SASL.Username)
		}
	case MechanismPlain, MechanismScramSHA256, MechanismScramSHA512:
		if c.SASL.Username == "" {
			return fmt.Errorf("--sasl-mechanism %s needs --sasl-username", c.SASL.Mechanism)
		}
	default:
		return fmt.Errorf("--sasl-mechanism %q is not supported: use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", c.SASL.Mechanism)
	}
	if (c.TLS.CertFile == "") != (c.TLS.KeyFile == "") {
		return errors.New("--tls-cert and --tls-key go together: give both or neither")
	}
	if c.TLS.CAFile != "" && c.TLS.CAPEM != "" {
		return errors.New("--tls-ca and --tls-ca-pem both name a CA: give one")
	}
	return nil
}

// ClientOpts turns the config into franz-go options: seeds, dial and request
// deadlines, SASL and TLS. Callers append their own (consumer group, producer
// settings) after these.
func (c Config) ClientOpts() ([]kgo.Opt, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	t := c.timeout()
	opts := []kgo.Opt{
		kgo.SeedBrokers(c.Brokers...),
		kgo.DialTimeout(t),
		// Bound request retries so a dead cluster surfaces as an error, not a hang.
		kgo.RetryTimeout(t),
		kgo.RequestTimeoutOverhead(t),
	}
	if m := c.SASL.mechanism(); m != nil {
		opts = append(opts, kgo.SASL(m))
	}
	tc, err := c.TLSConfig()
	if err != nil {
		return nil, err
	}
	switch {
	case len(c.Redirect) > 0:
		opts = append(opts, kgo.Dialer(redirectDialer(c.Redirect, tc, t)))
	case tc != nil:
		opts = append(opts, kgo.DialTLSConfig(tc))
	}
	return opts, nil
}

// redirectDialer dials the redirected address of a broker but, with TLS,
// verifies the name it was asked for, as kgo's own TLS dialer does.
func redirectDialer(redirect map[string]string, tc *tls.Config, timeout time.Duration) func(context.Context, string, string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		target := addr
		if to, ok := redirect[addr]; ok {
			target = to
		}
		d := &net.Dialer{Timeout: timeout}
		if tc == nil {
			return d.DialContext(ctx, network, target)
		}
		cfg := tc.Clone()
		if cfg.ServerName == "" {
			host, _, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, fmt.Errorf("broker address %q: %w", addr, err)
			}
			cfg.ServerName = host
		}
		return (&tls.Dialer{NetDialer: d, Config: cfg}).DialContext(ctx, network, target)
	}
}

// NewClient builds a client from the config plus extra options.
func (c Config) NewClient(extra ...kgo.Opt) (*kgo.Client, error) {
	opts, err := c.ClientOpts()
	if err != nil {
		return nil, err
	}
	return kgo.NewClient(append(opts, extra...)...)
}

func (s SASL) mechanism() sasl.Mechanism {
	switch strings.ToUpper(s.Mechanism) {
	case MechanismPlain:
		return plain.Auth{User: s.Username, Pass: s.Password}.AsMechanism()
	case MechanismScramSHA256:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha256Mechanism()
	case MechanismScramSHA512:
		return scram.Auth{User: s.Username, Pass: s.Password}.AsSha512Mechanism()
	}
	return nil
}

// TLSConfig is the client TLS configuration the settings describe, or nil
// when TLS is off.
func (c Config) TLSConfig() (*tls.Config, error) {
	if !c.TLS.enabled() {
		return nil, nil
	}
	return c.TLS.config()
}

func (t TLS) config() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	switch {
	case t.CAFile != "":
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s holds no PEM certificate", t.CAFile)
		}
		tc.RootCAs = pool
	case t.CAPEM != "":
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(t.CAPEM)) {
			return nil, errors.New("--tls-ca-pem holds no PEM certificate: it must be the text from -----BEGIN CERTIFICATE----- to -----END CERTIFICATE-----")
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}
