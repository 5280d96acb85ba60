package cli_test

import (
	"encoding/json"
	"net"
	"strings"
	"testing"

	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/third_party/kfake"
)

type doctorJSON struct {
	Checks []map[string]string `json:"checks"`
}

func TestDoctorCommand(t *testing.T) {
	testkit.ForEachCluster(t, func(t *testing.T, c testkit.Cluster) {
		r := runKsuite(t, "doctor", "--brokers", c.Bootstrap(), "--output", "json")
		var got doctorJSON
		if err := json.Unmarshal([]byte(r.out), &got); err != nil {
			t.Fatalf("doctor --output json is not JSON (%v): %s", err, r.out)
		}
		for _, ch := range got.Checks {
			if len(ch) != 4 || ch["name"] == "" || (ch["status"] != "ok" && ch["status"] != "warn" && ch["status"] != "fail") {
				t.Fatalf("check %v is not {name, status: ok|fail|warn, detail, fix}", ch)
			}
		}
		if len(got.Checks) == 0 || got.Checks[0]["name"] != "bootstrap" || got.Checks[0]["status"] != "ok" {
			t.Fatalf("checks: %v", got.Checks)
		}
		// The shared real cluster carries other tests' topics; a fresh one passes.
		if !c.Real && r.code != 0 {
			t.Fatalf("doctor on a fresh cluster: exit %d: %s", r.code, r.out)
		}
		if r = runKsuite(t, "doctor", "--brokers", c.Bootstrap()); !strings.Contains(r.out, "✓ bootstrap: ") || !strings.Contains(r.out, "✓ broker ") {
			t.Fatalf("doctor text: %s", r.out)
		}
	})
}

// TestDoctorExitsOneOnFailure: a cluster advertising addresses nobody
// listens on fails doctor with exit 1, naming the broker and the fix.
func TestDoctorExitsOneOnFailure(t *testing.T) {
	var listen []string
	testkit.NewFake(t, kfake.ListenFn(func(network, _ string) (net.Listener, error) {
		ln, err := net.Listen(network, "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		listen = append(listen, ln.Addr().String())
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		return renamed{ln, net.JoinHostPort("127.0.0.9", port)}, nil
	}))
	r := runKsuite(t, "doctor", "--brokers", strings.Join(listen, ","), "--timeout", "2s")
	if r.code != 1 || !strings.Contains(r.out, "✗ broker 0: advertises 127.0.0.9:") || !strings.Contains(r.out, "fix: advertise an address clients can reach") {
		t.Fatalf("exit %d:\n%s\n%s", r.code, r.out, r.errOut)
	}
	if r = runKsuite(t, "doctor", "--brokers", "127.0.0.1:1", "--output", "yaml"); r.code != 1 || !strings.Contains(r.errOut, `--output "yaml"`) {
		t.Fatalf("bad --output: exit %d %q", r.code, r.errOut)
	}
}

// renamed is a listener that reports another address, as kfake then
// advertises it.
type renamed struct {
	net.Listener
	addr string
}

func (l renamed) Addr() net.Addr { return tcpName(l.addr) }

type tcpName string

func (a tcpName) Network() string { return "tcp" }
func (a tcpName) String() string  { return string(a) }
