package cli_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ksuite/ksuite/internal/pki"
	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/third_party/kfake"
)

// TestProfileExportConnects: the exported profile, saved as team.yaml,
// is all a developer needs besides the password.
func TestProfileExportConnects(t *testing.T) {
	for _, e := range exposedClusters(t) {
		t.Run(e.Name, func(t *testing.T) {
			c := e.SecureCluster
			user, password := c.NewUser(t)
			topic := c.CreateTopic(t, 1, 1)
			grant(t, c, "User:"+user, topic, "laptop-")

			r := runKsuite(t, "profile", "export", "--external-host", "127.0.0.1", "--port-base", strconv.Itoa(e.base), "--user", user, "--ca", c.CAFile)
			if r.code != 0 {
				t.Fatalf("profile export: exit %d: %s", r.code, r.errOut)
			}
			if strings.Contains(r.out, password) || strings.Contains(r.out, "sasl-password") {
				t.Fatal("the profile holds a password")
			}
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "team.yaml"), []byte(r.out), 0o600); err != nil {
				t.Fatal(err)
			}
			t.Chdir(dir)
			env := map[string]string{"KSUITE_SASL_PASSWORD": password}
			if p := runStdin(t, "", env, "--profile", "team", "produce", topic, "--value", "from-laptop"); p.code != 0 {
				t.Fatalf("produce with the profile: exit %d: %s", p.code, p.errOut)
			}
			cons := runStdin(t, "", env, "--profile", "team", "consume", topic, "--group", "laptop-"+user, "--from-beginning", "--count", "1")
			if cons.code != 0 || cons.out != "from-laptop\n" {
				t.Fatalf("consume with the profile: exit %d, %q, %s", cons.code, cons.out, cons.errOut)
			}
		})
	}
}

// exposed is a secure cluster whose brokers listen on consecutive ports
// from base, as ksuite up's do.
type exposed struct {
	testkit.SecureCluster
	base int
}

func exposedClusters(t *testing.T) []exposed {
	base := testkit.FreePortBase(t, 3)
	out := []exposed{{testkit.NewSecureFake(t, kfake.Ports(base, base+1, base+2)), base}}
	if real, ok := testkit.RealKafkaSecure(t); ok {
		_, p, _ := strings.Cut(real.Brokers[0], ":")
		b, err := strconv.Atoi(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, exposed{real, b})
	}
	return out
}

func TestProfileExportErrors(t *testing.T) {
	ca, err := pki.Ensure(pki.Options{Dir: t.TempDir(), Hosts: []string{"127.0.0.2"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"profile", "export", "--external-host", "bad host", "--user", "a", "--ca", ca.CAPath}, "neither an IP address nor a host name"},
		{[]string{"profile", "export", "--external-host", "h:9091", "--user", "a", "--ca", ca.CAPath}, "without a port"},
		{[]string{"profile", "export", "--external-host", "[::1]", "--user", "a", "--ca", ca.CAPath}, "without brackets"},
		{[]string{"profile", "export", "--user", "a"}, "--external-host is required"},
		{[]string{"profile", "export", "--external-host", "h", "--user", "a", "--data-dir", t.TempDir()}, "pass --data-dir of the ksuite up, or --ca FILE"},
		{[]string{"profile", "export", "--external-host", "h", "--user", "a", "--format", "xml"}, `--format "xml"`},
	}
	for _, tt := range tests {
		if r := runKsuite(t, tt.args...); r.code != 1 || !strings.Contains(r.errOut, tt.want) {
			t.Errorf("%v: exit %d, %q; want %q", tt.args, r.code, r.errOut, tt.want)
		}
	}
}

// grant lets principal produce to and consume from topic, in groups whose
// names start with groupPrefix.
func grant(t *testing.T, c testkit.SecureCluster, principal, topic, groupPrefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	adm := c.Admin(t)
	for _, b := range []*kadm.ACLBuilder{
		kadm.NewACLs().Allow(principal).AllowHosts().Topics(topic).ResourcePatternType(kadm.ACLPatternLiteral).Operations(kadm.OpWrite, kadm.OpRead),
		kadm.NewACLs().Allow(principal).AllowHosts().Groups(groupPrefix).ResourcePatternType(kadm.ACLPatternPrefixed).Operations(kadm.OpRead),
	} {
		res, err := adm.CreateACLs(ctx, b)
		if err == nil {
			for _, r := range res {
				if r.Err != nil {
					err = r.Err
				}
			}
		}
		if err != nil {
			t.Fatalf("granting %s: %v", principal, err)
		}
	}
}
