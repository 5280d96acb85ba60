package doctor

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ksuite/ksuite/internal/kafka"
)

// brokerProbe is what dialing one advertised address found.
type brokerProbe struct {
	node  int32
	addr  string
	host  string
	check Check
	// cert is the certificate the broker presented (TLS only, nil when it
	// could not be reached); certErr why it is not trusted, if so.
	cert    *x509.Certificate
	certErr error
	now     time.Time
	warnAt  time.Duration
}

// probeBrokers dials every advertised address as a client would after
// reading metadata: directly, without the config's Redirect.
func probeBrokers(ctx context.Context, cfg kafka.Config, tc *tls.Config, brokers []brokerMeta, opts Options) []brokerProbe {
	out := make([]brokerProbe, len(brokers))
	var wg sync.WaitGroup
	for i, b := range brokers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = probeBroker(ctx, cfg, tc, b, opts)
		}()
	}
	wg.Wait()
	return out
}

func probeBroker(ctx context.Context, cfg kafka.Config, tc *tls.Config, b brokerMeta, opts Options) brokerProbe {
	addr := net.JoinHostPort(b.host, strconv.Itoa(int(b.port)))
	p := brokerProbe{node: b.node, addr: addr, host: b.host, now: opts.Now(), warnAt: opts.CertWarn}
	name := fmt.Sprintf("broker %d", b.node)
	fix := fmt.Sprintf("advertise an address clients can reach: restart ksuite up with --external-host set to this machine's name or IP as clients see it (Apache Kafka: advertised.listeners of broker %d)", b.node)

	rctx, cancel := requestCtx(ctx, cfg.Timeout)
	_, err := net.DefaultResolver.LookupHost(rctx, b.host)
	cancel()
	if err != nil {
		p.check = Check{Name: name, Status: Fail,
			Detail: fmt.Sprintf("advertises %s, which does not resolve from here (%s)", addr, dialFailure(err, cfg.Timeout)),
			Fix:    fmt.Sprintf("make %s resolve here (DNS record, /etc/hosts), or %s", b.host, fix)}
		return p
	}

	if tc != nil {
		// Inspected even when the handshake below fails: the tls check
		// then says exactly what is wrong with the certificate.
		p.cert, p.certErr = peerCertificate(ctx, addr, b.host, tc, cfg.Timeout, p.now)
	}
	one := cfg
	one.Brokers, one.Redirect = []string{addr}, nil
	start := time.Now()
	cl, err := one.NewClient()
	if err == nil {
		pctx, cancel := requestCtx(ctx, cfg.Timeout)
		err = cl.Ping(pctx) // an ApiVersions request, after TLS and SASL
		cancel()
		cl.Close()
	}
	if err != nil {
		p.check = Check{Name: name, Status: Fail,
			Detail: fmt.Sprintf("advertises %s, which does not answer from here: %s", addr, dialFailure(err, cfg.Timeout)),
			Fix:    fix}
		if k := failureKind(err); k == "tls" || k == "sasl" {
			p.check.Fix = "see the " + k + " check"
		}
		return p
	}
	p.check = Check{Name: name, Status: OK,
		Detail: fmt.Sprintf("advertises %s, which resolves and answers ApiVersions from here (%s)", addr, time.Since(start).Round(time.Millisecond))}
	return p
}

// peerCertificate dials addr with TLS, returns the leaf it presents and
// why the client would not trust it for host (nil when it would).
func peerCertificate(ctx context.Context, addr, host string, tc *tls.Config, timeout time.Duration, now time.Time) (*x509.Certificate, error) {
	cfg := tc.Clone()
	cfg.InsecureSkipVerify = true // verified below, to say exactly what is wrong
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	dctx, cancel := requestCtx(ctx, timeout)
	defer cancel()
	raw, err := (&net.Dialer{Timeout: timeout}).DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, nil // unreachable: the broker check says so
	}
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(dctx); err != nil {
		raw.Close()
		return nil, err
	}
	defer conn.Close()
	certs := conn.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return nil, errors.New("the broker presented no certificate")
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	_, verr := certs[0].Verify(x509.VerifyOptions{Roots: tc.RootCAs, Intermediates: inter, DNSName: cfg.ServerName, CurrentTime: now})
	return certs[0], verr
}

// tlsCheck sums up the certificates of every reachable broker.
func tlsCheck(probes []brokerProbe) Check {
	c := Check{Name: "tls", Status: OK}
	var problems, fixes, hosts []string
	var earliest time.Time
	problem := func(st Status, detail, fix string) {
		if c.Status != Fail {
			c.Status = st
		}
		problems, fixes = append(problems, detail), append(fixes, fix)
	}
	for _, p := range probes {
		if p.cert == nil && p.certErr == nil {
			continue // unreachable: its broker check says so
		}
		var (
			hostErr x509.HostnameError
			invErr  x509.CertificateInvalidError
			authErr x509.UnknownAuthorityError
		)
		switch err := p.certErr; {
		case err == nil:
		case p.cert == nil:
			problem(Fail, fmt.Sprintf("broker %d (%s): TLS handshake failed: %v", p.node, p.addr, err), "check that the port is a TLS listener")
		case errors.As(err, &hostErr):
			problem(Fail, fmt.Sprintf("broker %d's certificate names %s, not %s", p.node, certNames(p.cert), p.host),
				fmt.Sprintf("ksuite up --external-host %s puts that name in its certificate on start (Apache Kafka: reissue it with subjectAltName %s)", p.host, p.host))
		case errors.As(err, &invErr) && invErr.Reason == x509.Expired:
			problem(Fail, fmt.Sprintf("broker %d's certificate expired on %s", p.node, p.cert.NotAfter.UTC().Format(time.DateOnly)),
				"restart ksuite up, which renews it (Apache Kafka: reissue the certificate)")
		case errors.As(err, &authErr):
			problem(Fail, fmt.Sprintf("broker %d's certificate is not signed by a CA you trust (issuer %q)", p.node, p.cert.Issuer.CommonName),
				"trust the cluster's CA: --tls-ca <data-dir>/tls/ca.pem of ksuite up, or a profile from ksuite profile export")
		default:
			problem(Fail, fmt.Sprintf("broker %d's certificate: %v", p.node, err), "reissue the broker's certificate")
		}
		if p.cert == nil {
			continue
		}
		hosts = append(hosts, p.host)
		if earliest.IsZero() || p.cert.NotAfter.Before(earliest) {
			earliest = p.cert.NotAfter
		}
		if left := p.cert.NotAfter.Sub(p.now); p.certErr == nil && left < p.warnAt {
			problem(Warn, fmt.Sprintf("broker %d's certificate expires in %d day(s), on %s", p.node, int(left.Hours()/24), p.cert.NotAfter.UTC().Format(time.DateOnly)),
				"ksuite up renews its certificate 30 days before expiry; Apache Kafka: reissue it")
		}
	}
	switch {
	case len(problems) > 0:
		c.Detail, c.Fix = strings.Join(problems, "; "), strings.Join(dedupe(fixes), "; ")
	case len(hosts) == 0:
		c.Status, c.Detail, c.Fix = Fail, "no broker could be reached to inspect its certificate", "fix the broker checks above"
	default:
		c.Detail = fmt.Sprintf("every broker's certificate is trusted and names its advertised host (%s); the first expires on %s", names(dedupe(hosts), 3), earliest.UTC().Format(time.DateOnly))
	}
	return c
}

// certNames lists the names a certificate is valid for.
func certNames(c *x509.Certificate) string {
	ns := append([]string(nil), c.DNSNames...)
	for _, ip := range c.IPAddresses {
		ns = append(ns, ip.String())
	}
	if len(ns) == 0 {
		return "no host"
	}
	return strings.Join(ns, ", ")
}

func dedupe(ss []string) []string {
	seen := map[string]bool{}
	out := ss[:0:0]
	for _, s := range ss {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}

// failureKind says which layer a connection failed in: "sasl", "tls" or
// "network".
func failureKind(err error) string {
	var (
		recErr   tls.RecordHeaderError
		authErr  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		certErr  x509.CertificateInvalidError
		tlsAlert tls.AlertError
	)
	switch {
	case errors.Is(err, kerr.SaslAuthenticationFailed), errors.Is(err, kerr.UnsupportedSaslMechanism), errors.Is(err, kerr.IllegalSaslState):
		return "sasl"
	case errors.As(err, &recErr), errors.As(err, &authErr), errors.As(err, &hostErr), errors.As(err, &certErr), errors.As(err, &tlsAlert):
		return "tls"
	}
	return "network"
}

// dialFailure says why an address did not answer, in a few words.
func dialFailure(err error, timeout time.Duration) string {
	var (
		dnsErr *net.DNSError
		netErr net.Error
	)
	switch {
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		return "no such host"
	case errors.As(err, &dnsErr):
		return "DNS: " + dnsErr.Err
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused (nothing listens there)"
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return "no route to the host"
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return fmt.Sprintf("no answer within %s (a firewall, or an address that does not route here)", timeout)
	case failureKind(err) == "tls":
		return "TLS failed: " + err.Error()
	case failureKind(err) == "sasl":
		return "SASL failed: " + err.Error()
	}
	return err.Error()
}

// offeredMechanisms asks the bootstrap broker which SASL mechanisms its
// listener enables, with a bare SaslHandshake on a fresh connection (kgo
// keeps the list to itself).
func offeredMechanisms(ctx context.Context, cfg kafka.Config, tc *tls.Config) ([]string, error) {
	addr := cfg.Brokers[0]
	dial := addr
	if to, ok := cfg.Redirect[addr]; ok {
		dial = to
	}
	dctx, cancel := requestCtx(ctx, cfg.Timeout)
	defer cancel()
	d := &net.Dialer{Timeout: cfg.Timeout}
	var (
		conn net.Conn
		err  error
	)
	if tc != nil {
		c := tc.Clone()
		if c.ServerName == "" {
			c.ServerName, _, _ = net.SplitHostPort(addr)
		}
		conn, err = (&tls.Dialer{NetDialer: d, Config: c}).DialContext(dctx, "tcp", dial)
	} else {
		conn, err = d.DialContext(dctx, "tcp", dial)
	}
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if dl, ok := dctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	req := kmsg.NewPtrSASLHandshakeRequest()
	req.Version = 1
	req.Mechanism = cfg.SASL.Mechanism
	if _, err := conn.Write(kmsg.NewRequestFormatter(kmsg.FormatterClientID("ksuite-doctor")).AppendRequest(nil, req, 1)); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(conn, size[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(size[:])
	if n < 4 || n > 1<<20 {
		return nil, fmt.Errorf("SaslHandshake answer of %d bytes", n)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(conn, body); err != nil {
		return nil, err
	}
	resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
	resp.Version = req.Version
	if err := resp.ReadFrom(body[4:]); err != nil { // skip the correlation id
		return nil, err
	}
	return resp.SupportedMechanisms, nil
}

func saslCheck(cfg kafka.Config, offered []string, err error) Check {
	c := Check{Name: "sasl", Status: OK,
		Detail: fmt.Sprintf("authenticated as %s with %s", cfg.SASL.Username, cfg.SASL.Mechanism)}
	if err != nil {
		c.Status = Warn
		c.Detail += fmt.Sprintf("; could not list the listener's mechanisms: %v", err)
		c.Fix = "nothing to do if clients connect; otherwise check the listener's sasl.enabled.mechanisms"
		return c
	}
	if len(offered) > 0 { // Kafka lists its enabled mechanisms; kfake only on a mismatch
		c.Detail += "; the listener offers " + strings.Join(offered, ", ")
	}
	return c
}

// aclState is whether the cluster enforces ACLs.
type aclState int

const (
	aclsUnknown aclState = iota
	aclsOn
	aclsOff
)

// probeACLs asks for the ACLs: a cluster without an authorizer answers
// SECURITY_DISABLED; one that refuses to show them to this user has one.
func probeACLs(ctx context.Context, r kmsg.Requestor, timeout time.Duration) aclState {
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType = kmsg.ACLResourceTypeAny
	req.ResourcePatternType = kmsg.ACLResourcePatternTypeAny
	req.Operation = kmsg.ACLOperationAny
	req.PermissionType = kmsg.ACLPermissionTypeAny
	rctx, cancel := requestCtx(ctx, timeout)
	defer cancel()
	resp, err := req.RequestWith(rctx, r)
	switch {
	case err != nil:
		return aclsUnknown
	case resp.ErrorCode == kerr.SecurityDisabled.Code:
		return aclsOff
	case resp.ErrorCode == 0, resp.ErrorCode == kerr.ClusterAuthorizationFailed.Code:
		return aclsOn
	}
	return aclsUnknown
}
