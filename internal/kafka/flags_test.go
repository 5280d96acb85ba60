package kafka

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
)

const profileFile = `
default-profile: dev
profiles:
  dev:
    brokers: [127.0.0.1:9091, 127.0.0.1:9092]
    timeout: 3s
  prod:
    brokers: kafka-1:9093,kafka-2:9093
    sasl-mechanism: scram-sha-512
    sasl-username: app
    sasl-password: from-file
    tls: true
    tls-server-name: kafka.example.com
`

func TestResolvePrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ksuite.yaml")
	if err := os.WriteFile(cfgPath, []byte(profileFile), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want Config
	}{
		{
			name: "defaults without profile file",
			args: []string{"--brokers", "a:1"},
			want: Config{Brokers: []string{"a:1"}, Timeout: DefaultTimeout},
		},
		{
			name: "default profile from the file",
			args: []string{"--config", cfgPath},
			want: Config{Brokers: []string{"127.0.0.1:9091", "127.0.0.1:9092"}, Timeout: 3 * time.Second},
		},
		{
			name: "named profile",
			args: []string{"--config", cfgPath, "--profile", "prod"},
			want: Config{
				Brokers: []string{"kafka-1:9093", "kafka-2:9093"},
				SASL:    SASL{Mechanism: "SCRAM-SHA-512", Username: "app", Password: "from-file"},
				TLS:     TLS{Enabled: true, ServerName: "kafka.example.com"},
				Timeout: DefaultTimeout,
			},
		},
		{
			name: "env beats profile",
			args: []string{"--config", cfgPath, "--profile", "prod"},
			env:  map[string]string{"KSUITE_SASL_PASSWORD": "from-env", "KSUITE_BROKERS": "env:1"},
			want: Config{
				Brokers: []string{"env:1"},
				SASL:    SASL{Mechanism: "SCRAM-SHA-512", Username: "app", Password: "from-env"},
				TLS:     TLS{Enabled: true, ServerName: "kafka.example.com"},
				Timeout: DefaultTimeout,
			},
		},
		{
			name: "flag beats env and profile",
			args: []string{"--config", cfgPath, "--brokers", "flag:1", "--timeout", "2s"},
			env:  map[string]string{"KSUITE_BROKERS": "env:1", "KSUITE_TIMEOUT": "5s"},
			want: Config{Brokers: []string{"flag:1"}, Timeout: 2 * time.Second},
		},
		{
			name: "profile and config from env",
			env:  map[string]string{"KSUITE_CONFIG": cfgPath, "KSUITE_PROFILE": "prod", "KSUITE_TLS": "false"},
			want: Config{
				Brokers: []string{"kafka-1:9093", "kafka-2:9093"},
				SASL:    SASL{Mechanism: "SCRAM-SHA-512", Username: "app", Password: "from-file"},
				TLS:     TLS{ServerName: "kafka.example.com"},
				Timeout: DefaultTimeout,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			got, err := Resolve(fs, func(k string) string { return tt.env[k] })
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// TestResolveExportedProfile: `ksuite profile export > team.yaml` then
// `ksuite --profile team ...` works without --config, with or without a
// ksuite.yaml beside it, and the CA comes inline.
func TestResolveExportedProfile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	team := "profiles:\n  team:\n    brokers: [h:9091]\n    sasl-mechanism: SCRAM-SHA-512\n    sasl-username: alice\n    tls-ca-pem: |\n      -----BEGIN CERTIFICATE-----\n      abc\n      -----END CERTIFICATE-----\n"
	if err := os.WriteFile("team.yaml", []byte(team), 0o600); err != nil {
		t.Fatal(err)
	}
	want := Config{
		Brokers: []string{"h:9091"},
		SASL:    SASL{Mechanism: "SCRAM-SHA-512", Username: "alice", Password: "pw"},
		TLS:     TLS{CAPEM: "-----BEGIN CERTIFICATE-----\nabc\n-----END CERTIFICATE-----\n"},
		Timeout: DefaultTimeout,
	}
	resolve := func(args ...string) (Config, error) {
		fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
		AddFlags(fs)
		if err := fs.Parse(args); err != nil {
			t.Fatal(err)
		}
		return Resolve(fs, func(k string) string { return map[string]string{"KSUITE_SASL_PASSWORD": "pw"}[k] })
	}
	for _, withKsuiteYAML := range []bool{false, true} {
		if withKsuiteYAML {
			if err := os.WriteFile("ksuite.yaml", []byte(profileFile), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		got, err := resolve("--profile", "team")
		if err != nil {
			t.Fatalf("ksuite.yaml present=%v: %v", withKsuiteYAML, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ksuite.yaml present=%v:\ngot  %+v\nwant %+v", withKsuiteYAML, got, want)
		}
	}
	// An explicit --config means that file only.
	if _, err := resolve("--config", "ksuite.yaml", "--profile", "team"); err == nil || !strings.Contains(err.Error(), `profile "team" is not in ksuite.yaml`) {
		t.Fatalf("explicit --config fell back to team.yaml: %v", err)
	}
	// ksuite.yaml's own profile wins over NAME.yaml.
	if got, err := resolve("--profile", "dev"); err != nil || got.Brokers[0] != "127.0.0.1:9091" {
		t.Fatalf("profile dev: %+v %v", got, err)
	}
}

func TestResolveErrors(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "ksuite.yaml")
	if err := os.WriteFile(cfgPath, []byte(profileFile+"  bad:\n    brokerz: x:1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"missing profile", []string{"--config", cfgPath, "--profile", "staging"}, `profile "staging" is not in`},
		{"unknown key", []string{"--config", cfgPath, "--profile", "bad"}, `unknown key "brokerz"`},
		{"explicit missing file", []string{"--config", filepath.Join(dir, "nope.yaml")}, "config file"},
		{"bad timeout", []string{"--config", cfgPath, "--timeout", "0s"}, "not a positive duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := pflag.NewFlagSet("test", pflag.ContinueOnError)
			AddFlags(fs)
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			_, err := Resolve(fs, func(string) string { return "" })
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // "" means valid
	}{
		{"ok", Config{Brokers: []string{"h:1"}}, ""},
		{"no brokers", Config{}, "no brokers"},
		{"no port", Config{Brokers: []string{"localhost"}}, `"localhost" is not host:port`},
		{"bad mechanism", Config{Brokers: []string{"h:1"}, SASL: SASL{Mechanism: "GSSAPI", Username: "u"}}, "not supported"},
		{"no user", Config{Brokers: []string{"h:1"}, SASL: SASL{Mechanism: "PLAIN"}}, "needs --sasl-username"},
		{"user without mechanism", Config{Brokers: []string{"h:1"}, SASL: SASL{Username: "alice"}}, "--sasl-username alice needs --sasl-mechanism"},
		{"password alone", Config{Brokers: []string{"h:1"}, SASL: SASL{Password: "pw"}}, ""}, // KSUITE_SASL_PASSWORD exported for another cluster
		{"cert without key", Config{Brokers: []string{"h:1"}, TLS: TLS{CertFile: "c.pem"}}, "go together"},
		{"two CAs", Config{Brokers: []string{"h:1"}, TLS: TLS{CAFile: "ca.pem", CAPEM: "-----BEGIN"}}, "give one"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestStringHidesPassword(t *testing.T) {
	c := Config{Brokers: []string{"h:1"}, SASL: SASL{Mechanism: "PLAIN", Username: "u", Password: "s3cret-value"}}
	s := c.String()
	if strings.Contains(s, "s3cret-value") {
		t.Fatalf("String() leaks the password: %s", s)
	}
	// It must still say where and as whom, or hiding is trivial.
	if want := "brokers=h:1 sasl=PLAIN user=u"; s != want {
		t.Fatalf("String() = %q, want %q", s, want)
	}
}
