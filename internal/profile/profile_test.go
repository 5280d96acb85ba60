package profile

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/ksuite/ksuite/internal/kafka"
	"github.com/ksuite/ksuite/internal/pki"
)

func testProfile(t *testing.T) Profile {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tls")
	if _, err := pki.Ensure(pki.Options{Dir: dir, Hosts: []string{"203.0.113.7"}}); err != nil {
		t.Fatal(err)
	}
	ca, err := pki.ReadCA(filepath.Join(dir, pki.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	return Profile{Name: "team", Brokers: []string{"203.0.113.7:9091", "203.0.113.7:9092"}, Mechanism: "SCRAM-SHA-512", User: "alice", CAPEM: ca}
}

// TestYAMLIsAUsableProfile: what export writes is what --profile reads,
// with the password from the environment.
func TestYAMLIsAUsableProfile(t *testing.T) {
	p := testProfile(t)
	data, err := p.YAML()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "password:") {
		t.Fatalf("the profile carries a password key:\n%s", data)
	}
	t.Chdir(t.TempDir())
	if err := os.WriteFile("team.yaml", data, 0o600); err != nil {
		t.Fatal(err)
	}
	fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
	kafka.AddFlags(fs)
	if err := fs.Parse([]string{"--profile", "team"}); err != nil {
		t.Fatal(err)
	}
	got, err := kafka.Resolve(fs, func(k string) string { return map[string]string{PasswordEnv: "s3cret"}[k] })
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	want := kafka.Config{
		Brokers: p.Brokers,
		SASL:    kafka.SASL{Mechanism: "SCRAM-SHA-512", Username: "alice", Password: "s3cret"},
		TLS:     kafka.TLS{CAPEM: string(p.CAPEM)},
		Timeout: kafka.DefaultTimeout,
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("resolved\n%+v\nwant\n%+v\nfrom\n%s", got, want, data)
	}
}

func TestProperties(t *testing.T) {
	p := testProfile(t)
	data, err := p.Properties()
	if err != nil {
		t.Fatal(err)
	}
	props := parseProperties(string(data))
	want := map[string]string{
		"bootstrap.servers":           "203.0.113.7:9091,203.0.113.7:9092",
		"security.protocol":           "SASL_SSL",
		"sasl.mechanism":              "SCRAM-SHA-512",
		"sasl.jaas.config":            `org.apache.kafka.common.security.scram.ScramLoginModule required username="alice" password="${env:KSUITE_SASL_PASSWORD}";`,
		"ssl.truststore.type":         "PEM",
		"ssl.truststore.certificates": strings.TrimSpace(string(p.CAPEM)),
	}
	for k, v := range want {
		if props[k] != v {
			t.Errorf("%s = %q, want %q", k, props[k], v)
		}
	}
}

func TestValidate(t *testing.T) {
	ok := testProfile(t)
	tests := []struct {
		name string
		edit func(*Profile)
		want string
	}{
		{"no user", func(p *Profile) { p.User = "" }, "--user"},
		{"bad name", func(p *Profile) { p.Name = "my team" }, "plain word"},
		{"no CA", func(p *Profile) { p.CAPEM = []byte("x") }, "not a PEM certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ok
			tt.edit(&p)
			if _, err := p.YAML(); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %v, want %q", err, tt.want)
			}
		})
	}
}

// parseProperties reads what java.util.Properties would for the subset
// Properties writes: key=value, "\n" escapes, trailing-backslash
// continuations whose next line's leading spaces are dropped.
func parseProperties(s string) map[string]string {
	out := map[string]string{}
	lines := strings.Split(s, "\n")
	for i := 0; i < len(lines); i++ {
		l := lines[i]
		if strings.HasPrefix(l, "#") || l == "" {
			continue
		}
		for strings.HasSuffix(l, `\`) && !strings.HasSuffix(l, `\\`) && i+1 < len(lines) {
			i++
			l = l[:len(l)-1] + strings.TrimLeft(lines[i], " \t")
		}
		k, v, _ := strings.Cut(l, "=")
		out[k] = strings.ReplaceAll(v, `\n`, "\n")
	}
	return out
}
