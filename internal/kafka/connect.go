package kafka

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// ConnectError is a failed connection explained in one line: the address
// tried and the cause a person can act on.
type ConnectError struct {
	Addr  string // the broker address that failed, or the seed list
	Cause string // e.g. "connection refused", "SASL authentication failed"
	Err   error  // the underlying error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("cannot connect to Kafka at %s: %s", e.Addr, e.Cause)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// Connect builds a client and proves the cluster answers within the
// config's timeout. A failure is a [*ConnectError].
func (c Config) Connect(ctx context.Context, extra ...kgo.Opt) (*kgo.Client, error) {
	cl, err := c.NewClient(extra...)
	if err != nil {
		if strings.Contains(err.Error(), "unable to parse port") {
			return nil, fmt.Errorf("--brokers %s: %w: write each broker as host:port with a numeric port, e.g. kafka-1:9092", strings.Join(c.Brokers, ","), err)
		}
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		cl.Close()
		return nil, c.Explain(err)
	}
	return cl, nil
}

// Explain turns a client error into a [*ConnectError] naming the address and
// the cause; errors that are not connection failures pass through unchanged.
func (c Config) Explain(err error) error {
	if err == nil {
		return nil
	}
	var ce *ConnectError
	if errors.As(err, &ce) {
		return err
	}
	cause := classify(err, c)
	if cause == "" {
		return err
	}
	addr := strings.Join(c.Brokers, ",")
	var opErr *net.OpError
	if errors.As(err, &opErr) && opErr.Addr != nil {
		addr = opErr.Addr.String()
	}
	return &ConnectError{Addr: addr, Cause: cause, Err: err}
}

// classify names the cause of a connection failure, or "" when err is not one.
func classify(err error, c Config) string {
	var (
		dnsErr   *net.DNSError
		netErr   net.Error
		recErr   tls.RecordHeaderError
		authErr  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		certErr  x509.CertificateInvalidError
		eofErr   *kgo.ErrFirstReadEOF
		tlsAlert tls.AlertError
	)
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed):
		return "SASL authentication failed: check --sasl-username/--sasl-password and --sasl-mechanism"
	case errors.Is(err, kerr.UnsupportedSaslMechanism):
		return fmt.Sprintf("SASL mechanism %s is not enabled on the broker: pick one the listener allows", c.SASL.Mechanism)
	case errors.Is(err, kerr.IllegalSaslState):
		return "SASL handshake rejected: is this a SASL listener?"
	case errors.As(err, &dnsErr):
		return fmt.Sprintf("DNS lookup of %q failed (%s): check the host name in --brokers", dnsErr.Name, dnsErrText(dnsErr))
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused: nothing listens there; is the cluster up and --brokers right?"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "host unreachable: check --brokers and the network path"
	case errors.As(err, &recErr):
		return "TLS handshake failed: the broker does not speak TLS on this port (drop --tls or use its TLS listener)"
	case errors.As(err, &authErr), errors.As(err, &certErr):
		return "TLS certificate not trusted: pass the cluster's CA with --tls-ca"
	case errors.As(err, &hostErr):
		return "TLS certificate does not match the host: set --tls-server-name to a name in the certificate"
	case errors.As(err, &tlsAlert):
		return "TLS handshake rejected by the broker (" + tlsAlert.Error() + "): check --tls-cert/--tls-key"
	case errors.As(err, &eofErr), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET):
		switch {
		case c.SASL.Mechanism != "" && !c.TLS.enabled():
			// A SASL_SSL listener closes a connection that does not start
			// with a TLS handshake; a wrong password is answered, not closed.
			return "the broker closed the connection before SASL authentication, as a listener that requires TLS does: pass --tls-ca with the cluster's CA (or --tls for system CAs)"
		case c.SASL.Mechanism != "":
			return "SASL authentication failed (the broker closed the connection): check --sasl-username/--sasl-password and --sasl-mechanism"
		case eofErr != nil && strings.Contains(eofErr.Error(), "SASL is required"):
			// franz-go tells a close after a request (past any TLS
			// handshake) from one right after the dial.
			return "the broker closed the connection after the first request: the listener requires SASL: pass --sasl-mechanism (SCRAM-SHA-512 for ksuite up --external-host) and --sasl-username, with the password in KSUITE_SASL_PASSWORD"
		case c.TLS.enabled():
			return "the broker closed the connection during the TLS handshake: is this port a TLS listener?"
		default:
			return "the broker closed the connection: does the listener require SASL (--sasl-mechanism) or TLS (--tls)?"
		}
	case strings.Contains(err.Error(), "appear to be a tls alert record"):
		// Kafka's TLS listener answers a plaintext request with an alert.
		return "the broker answered with a TLS alert: this listener requires TLS (SSL or SASL_SSL): pass --tls-ca with the cluster's CA (or --tls for system CAs)"
	case strings.Contains(err.Error(), "the four size bytes are 'HTTP'"):
		return "the server answered in HTTP: this is not a Kafka port (a web or REST port?); check --brokers"
	case strings.Contains(err.Error(), "invalid large response size"), strings.Contains(err.Error(), "invalid negative response size"),
		// A size that fits, but a body too short to be the response, or
		// one that answers no request the client sent.
		strings.Contains(err.Error(), "response did not contain enough data to be valid"),
		strings.Contains(err.Error(), "correlation ID mismatch"):
		return "the server's answer is not Kafka's protocol: is this a Kafka port? check --brokers"
	case strings.Contains(err.Error(), "exceeds BrokerMaxReadBytes"):
		return "a response was larger than the client accepts (BrokerMaxReadBytes): is this a Kafka port, or does a record batch exceed 100 MiB?"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		if c.TLS.enabled() {
			return fmt.Sprintf("no TLS handshake within %s: is this port a TLS listener, and reachable from here?", c.timeout())
		}
		return fmt.Sprintf("no answer within %s: is the address reachable from here and advertised correctly?", c.timeout())
	}
	return ""
}

func dnsErrText(e *net.DNSError) string {
	if e.IsNotFound {
		return "no such host"
	}
	return e.Err
}
