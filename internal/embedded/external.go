package embedded

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"

	"github.com/ksuite/ksuite/internal/kafka"
	"github.com/ksuite/ksuite/third_party/kfake"
)

// DefaultListenAddress is where an exposed cluster listens: every interface.
const DefaultListenAddress = "0.0.0.0"

// AdminUser is the super user of an exposed cluster.
const AdminUser = "admin"

// External exposes the brokers to other machines: they listen on
// ListenAddress and advertise Host, so clients elsewhere reach them by the
// name they know, while this process still reaches them on the listen
// address (a new cloud host's DNS often lags, and some clouds do not
// hairpin their public IP).
type External struct {
	// Host is the name or IP the brokers advertise.
	Host string
	// ListenAddress is the address the brokers bind; "" is
	// [DefaultListenAddress].
	ListenAddress string
	// TLS is the listener's configuration; nil means PLAINTEXT (only with
	// --insecure-plaintext), which also leaves SASL and ACLs off.
	TLS *tls.Config
	// CAFile is the CA that signed the listener's certificate, for this
	// process's own clients.
	CAFile string
	// AdminPassword is the SCRAM-SHA-512 password of [AdminUser], the super
	// user; every other user can do only what ACLs grant.
	AdminPassword string
}

// Secure reports whether the listener is SASL_SSL (else PLAINTEXT).
func (x *External) Secure() bool { return x.TLS != nil }

// Listen is the address the brokers bind: ListenAddress, or
// [DefaultListenAddress] when it is empty.
func (x *External) Listen() string {
	if x.ListenAddress == "" {
		return DefaultListenAddress
	}
	return x.ListenAddress
}

// Validate checks the settings without side effects, so that a bad flag
// is refused before anything is written to the data directory.
func (x *External) Validate() error {
	if err := ValidateHost(x.Host); err != nil {
		return err
	}
	if net.ParseIP(x.Listen()) == nil {
		return fmt.Errorf("--listen-address %q is not an IP address (e.g. 0.0.0.0, or this machine's private IP)", x.ListenAddress)
	}
	if x.Secure() && x.AdminPassword == "" {
		return errors.New("an exposed cluster needs an admin password")
	}
	return nil
}

// ValidateHost checks an --external-host: what can stand in a bootstrap
// list, in the ready line (space-separated fields) and in a certificate's
// names, which is an IP address or an RFC 1123 host name. Java's TLS
// refuses a name with "_", and a name that looks like an IP but does not
// parse is a typo.
func ValidateHost(h string) error {
	switch {
	case h == "":
		return errors.New("--external-host is empty: give the name or IP clients use to reach this machine")
	case strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]"):
		return fmt.Errorf("--external-host %s: give the IPv6 address without brackets (%s)", h, strings.Trim(h, "[]"))
	case strings.Contains(h, "://"):
		return fmt.Errorf("--external-host %s: give the host alone, without a scheme or port (the ports come from --port-base)", h)
	}
	if _, _, err := net.SplitHostPort(h); err == nil {
		return fmt.Errorf("--external-host %s: give the host without a port (the ports come from --port-base)", h)
	}
	if net.ParseIP(h) != nil {
		return nil
	}
	bad := fmt.Errorf("--external-host %q is neither an IP address nor a host name: use letters, digits, '-' and '.', e.g. kafka.dev.example.com or 203.0.113.7", h)
	labels := strings.Split(h, ".")
	if len(h) > 253 || strings.Trim(labels[len(labels)-1], "0123456789") == "" {
		return bad
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return bad
		}
		for _, r := range l {
			if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-') {
				return bad
			}
		}
	}
	return nil
}

// localAddress is where this process dials a broker listening on the
// listen address: loopback for a wildcard, else the address itself.
func (x *External) localAddress(port string) string {
	ip := net.ParseIP(x.Listen())
	switch {
	case ip.Equal(net.IPv4zero):
		return net.JoinHostPort("127.0.0.1", port)
	case ip.Equal(net.IPv6unspecified):
		return net.JoinHostPort("::1", port)
	}
	return net.JoinHostPort(x.Listen(), port)
}

// exposure is the kfake side of an [External]: the options, and the map
// from advertised to local broker addresses that its listeners fill.
type exposure struct {
	x        *External
	mu       sync.Mutex
	redirect map[string]string // advertised host:port → local host:port
	local    []string          // local host:port, in listen order
}

func (x *External) exposure() *exposure {
	return &exposure{x: x, redirect: map[string]string{}}
}

// opts makes kfake listen on the listen address, advertise the host and,
// when secure, speak TLS with SCRAM-SHA-512 and enforce ACLs.
func (e *exposure) opts() []kfake.Opt {
	opts := []kfake.Opt{kfake.ListenFn(e.listen)}
	if e.x.Secure() {
		opts = append(opts,
			kfake.TLS(e.x.TLS),
			kfake.EnableSASL(),
			kfake.Superuser(kafka.MechanismScramSHA512, AdminUser, e.x.AdminPassword),
			kfake.EnableACLs(),
		)
	}
	return opts
}

// listen is kfake's ListenFn: kfake asks for 127.0.0.1:PORT (PORT 0 for a
// random one) and advertises whatever address the listener reports.
func (e *exposure) listen(network, address string) (net.Listener, error) {
	_, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen(network, net.JoinHostPort(e.x.Listen(), port))
	if err != nil {
		return nil, err
	}
	_, port, _ = net.SplitHostPort(ln.Addr().String())
	adv := advertisedAddr(net.JoinHostPort(e.x.Host, port))
	e.mu.Lock()
	e.redirect[string(adv)] = e.x.localAddress(port)
	e.local = append(e.local, e.x.localAddress(port))
	e.mu.Unlock()
	return &advertisedListener{Listener: ln, addr: adv}, nil
}

// clientConfig is how this process reaches the exposed brokers: at their
// local addresses, as the admin, verifying the certificate's advertised name.
func (e *exposure) clientConfig() kafka.Config {
	e.mu.Lock()
	defer e.mu.Unlock()
	cfg := kafka.Config{Brokers: append([]string(nil), e.local...), Redirect: map[string]string{}}
	for adv, local := range e.redirect {
		cfg.Redirect[adv] = local
	}
	if e.x.Secure() {
		cfg.SASL = kafka.SASL{Mechanism: kafka.MechanismScramSHA512, Username: AdminUser, Password: e.x.AdminPassword}
		cfg.TLS = kafka.TLS{CAFile: e.x.CAFile, ServerName: e.x.Host}
	}
	return cfg
}

// advertisedListener reports the advertised address as its own, which is
// what kfake puts in metadata.
type advertisedListener struct {
	net.Listener
	addr advertisedAddr
}

func (l *advertisedListener) Addr() net.Addr { return l.addr }

type advertisedAddr string

func (a advertisedAddr) Network() string { return "tcp" }
func (a advertisedAddr) String() string  { return string(a) }
