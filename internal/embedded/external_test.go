package embedded_test

import (
	"crypto/tls"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ksuite/ksuite/internal/embedded"
	"github.com/ksuite/ksuite/internal/pki"
	"github.com/ksuite/ksuite/internal/testkit"
)

// TestExternal: the brokers advertise a host nothing listens on, yet the
// cluster starts and ClientConfig reaches it, over TLS as the admin.
func TestExternal(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "tls")
	srv, res, err := pki.NewServer(pki.Options{Dir: dir, Hosts: []string{"127.0.0.9", "127.0.0.1"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(t)
	cfg.External = &embedded.External{Host: "127.0.0.9", ListenAddress: "127.0.0.1", TLS: srv.TLSConfig(), CAFile: res.CAPath, AdminPassword: "pw"}
	c := start(t, cfg)
	for i, addr := range c.Bootstrap() {
		if addr != net.JoinHostPort("127.0.0.9", strconv.Itoa(cfg.PortBase+i)) {
			t.Fatalf("broker %d advertises %s", i, addr)
		}
	}
	cc := c.ClientConfig()
	if cc.SASL.Username != embedded.AdminUser || cc.Brokers[0] != net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.PortBase)) {
		t.Fatalf("client config %+v", cc)
	}
	cl, err := cc.Connect(testkit.Context(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(testkit.Context(t, 10*time.Second), 3, 1, nil, "t")
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("a request needing every broker, at their advertised (unreachable) addresses: %v", err)
	}
}

func TestExternalValidate(t *testing.T) {
	for _, host := range []string{"kafka.dev.example.com", "localhost", "203.0.113.7", "::1", "fe80::1", "k8s-node-1.internal", "a1"} {
		x := embedded.External{Host: host}
		if err := x.Validate(); err != nil {
			t.Errorf("--external-host %s refused: %v", host, err)
		}
	}
	tests := []struct {
		x    embedded.External
		want string
	}{
		{embedded.External{}, "--external-host is empty"},
		{embedded.External{Host: "h:9091"}, "without a port"},
		{embedded.External{Host: "h", ListenAddress: "eth0"}, "is not an IP address"},
		{embedded.External{Host: "h", TLS: &tls.Config{}}, "needs an admin password"},
		{embedded.External{Host: "bad host"}, "neither an IP address nor a host name"},
		{embedded.External{Host: "-x"}, "neither an IP address nor a host name"},
		{embedded.External{Host: "x..y"}, "neither an IP address nor a host name"},
		{embedded.External{Host: "kafka.example.com."}, "neither an IP address nor a host name"},
		{embedded.External{Host: "kafka_1"}, "neither an IP address nor a host name"},
		{embedded.External{Host: "127.0.0.256"}, "neither an IP address nor a host name"},
		{embedded.External{Host: strings.Repeat("a", 64) + ".com"}, "neither an IP address nor a host name"},
		{embedded.External{Host: "[::1]"}, "without brackets (::1)"},
		{embedded.External{Host: "http://kafka.example.com"}, "without a scheme"},
	}
	for _, tt := range tests {
		cfg := embedded.DefaultConfig()
		cfg.External = &tt.x
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: %v, want %q", tt.x, err, tt.want)
		}
	}
}

// Listen names the address actually bound, for messages: the default when
// none is set.
func TestExternalListen(t *testing.T) {
	for _, tt := range []struct{ set, want string }{
		{"", embedded.DefaultListenAddress},
		{"10.0.0.5", "10.0.0.5"},
		{"::", "::"},
	} {
		x := embedded.External{Host: "h", ListenAddress: tt.set}
		if got := x.Listen(); got != tt.want {
			t.Errorf("ListenAddress %q: Listen() = %q, want %q", tt.set, got, tt.want)
		}
	}
}
