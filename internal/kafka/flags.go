package kafka

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/ksuite/ksuite/internal/kafka/configlist"
)

// Connection flag names. Each has an environment variable KSUITE_<NAME> with
// dashes as underscores (KSUITE_BROKERS, KSUITE_SASL_PASSWORD, ...) and a key
// of the same name in a ksuite.yaml profile.
const (
	FlagBrokers       = "brokers"
	FlagSASLMechanism = "sasl-mechanism"
	FlagSASLUsername  = "sasl-username"
	FlagSASLPassword  = "sasl-password"
	FlagTLS           = "tls"
	FlagTLSCA         = "tls-ca"
	FlagTLSCAPEM      = "tls-ca-pem"
	FlagTLSCert       = "tls-cert"
	FlagTLSKey        = "tls-key"
	FlagTLSServerName = "tls-server-name"
	FlagTimeout       = "timeout"
	FlagProfile       = "profile"
	FlagConfig        = "config"
)

// DefaultConfigFile is read when it exists and --config is not given.
// A profile NAME it does not hold is also looked for in NAME.yaml, the file
// `ksuite profile export > NAME.yaml` writes.
const DefaultConfigFile = "ksuite.yaml"

// connFlags lists the flags resolved by precedence flag > env > profile.
var connFlags = []string{
	FlagBrokers, FlagSASLMechanism, FlagSASLUsername, FlagSASLPassword, FlagTLS,
	FlagTLSCA, FlagTLSCAPEM, FlagTLSCert, FlagTLSKey, FlagTLSServerName, FlagTimeout,
}

// EnvName is the environment variable for a connection flag.
func EnvName(flag string) string {
	return "KSUITE_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// AddFlags registers the shared connection flags on fs.
func AddFlags(fs *pflag.FlagSet) {
	fs.String(FlagBrokers, "", "comma-separated bootstrap brokers host:port (env KSUITE_BROKERS)")
	fs.String(FlagSASLMechanism, "", "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	fs.String(FlagSASLUsername, "", "SASL user name")
	fs.String(FlagSASLPassword, "", "SASL password (prefer env KSUITE_SASL_PASSWORD)")
	fs.Bool(FlagTLS, false, "connect with TLS (system CAs unless --tls-ca)")
	fs.String(FlagTLSCA, "", "PEM file of the CA that signed the brokers' certificates")
	fs.String(FlagTLSCAPEM, "", "the CA certificate as PEM text, instead of --tls-ca (env KSUITE_TLS_CA_PEM, profiles)")
	fs.String(FlagTLSCert, "", "PEM client certificate for mutual TLS")
	fs.String(FlagTLSKey, "", "PEM client key for mutual TLS")
	fs.String(FlagTLSServerName, "", "server name to verify in the brokers' certificates")
	fs.Duration(FlagTimeout, DefaultTimeout, "deadline for connecting and for each request")
	fs.String(FlagProfile, "", "profile in the config file (env KSUITE_PROFILE)")
	fs.String(FlagConfig, "", "config file with profiles (env KSUITE_CONFIG, default ./ksuite.yaml if present)")
}

// File is a ksuite.yaml: named connection profiles.
type File struct {
	// DefaultProfile is used when neither --profile nor KSUITE_PROFILE names one.
	DefaultProfile string `yaml:"default-profile"`
	// Profiles map a name to connection settings keyed like the flags.
	Profiles map[string]map[string]any `yaml:"profiles"`
}

// Resolve builds a Config from fs by precedence: a flag set on the command
// line, then its KSUITE_* environment variable, then the chosen profile of
// the config file, then the flag's default. getenv is os.Getenv in
// production.
func Resolve(fs *pflag.FlagSet, getenv func(string) string) (Config, error) {
	profile, err := loadProfile(fs, getenv)
	if err != nil {
		return Config{}, err
	}
	values := map[string]string{}
	for _, name := range connFlags {
		f := fs.Lookup(name)
		if f == nil {
			return Config{}, fmt.Errorf("internal: flag --%s not registered", name)
		}
		env := getenv(EnvName(name))
		pv, inProfile := profile[name]
		switch {
		case f.Changed:
			values[name] = f.Value.String()
		case env != "":
			values[name] = env
		case inProfile:
			values[name] = pv
		default:
			values[name] = f.DefValue
		}
	}
	cfg := Config{
		Brokers: configlist.Split(values[FlagBrokers]),
		SASL: SASL{
			Mechanism: strings.ToUpper(values[FlagSASLMechanism]),
			Username:  values[FlagSASLUsername],
			Password:  values[FlagSASLPassword],
		},
		TLS: TLS{
			CAFile:     values[FlagTLSCA],
			CAPEM:      values[FlagTLSCAPEM],
			CertFile:   values[FlagTLSCert],
			KeyFile:    values[FlagTLSKey],
			ServerName: values[FlagTLSServerName],
		},
	}
	if cfg.TLS.Enabled, err = parseBool(FlagTLS, values[FlagTLS]); err != nil {
		return Config{}, err
	}
	if cfg.Timeout, err = time.ParseDuration(values[FlagTimeout]); err != nil || cfg.Timeout <= 0 {
		return Config{}, fmt.Errorf("timeout %q is not a positive duration: use e.g. --timeout 10s", values[FlagTimeout])
	}
	return cfg, nil
}

// loadProfile reads the chosen profile as flag-name → string value. No file
// and no profile asked for is not an error; a named profile that is missing is.
// Without --config, a profile NAME that ./ksuite.yaml lacks (or no
// ./ksuite.yaml) is read from ./NAME.yaml, as `ksuite profile export` writes it.
func loadProfile(fs *pflag.FlagSet, getenv func(string) string) (map[string]string, error) {
	path, explicit := flagOrEnv(fs, FlagConfig, getenv)
	if path == "" {
		path = DefaultConfigFile
	}
	name, _ := flagOrEnv(fs, FlagProfile, getenv)
	f, err := readConfigFile(path, explicit)
	if err != nil {
		return nil, err
	}
	if name == "" && f != nil {
		name = f.DefaultProfile
	}
	if name == "" {
		return nil, nil
	}
	raw, ok := f.profile(name)
	if !ok && !explicit {
		alt := name + ".yaml"
		if af, err := readConfigFile(alt, false); err != nil {
			return nil, err
		} else if raw, ok = af.profile(name); ok {
			path = alt
		}
	}
	switch {
	case !ok && f == nil:
		return nil, fmt.Errorf("profile %q asked for, but there is no %s: create it or pass --config FILE", name, path)
	case !ok:
		return nil, fmt.Errorf("profile %q is not in %s: it has %s", name, path, profileNames(*f))
	}
	out := map[string]string{}
	known := map[string]bool{}
	for _, n := range connFlags {
		known[n] = true
	}
	for k, v := range raw {
		if !known[k] {
			return nil, fmt.Errorf("%s: profile %q: unknown key %q (keys are the flag names: %s)", path, name, k, strings.Join(connFlags, ", "))
		}
		out[k] = scalarString(v)
	}
	return out, nil
}

// readConfigFile parses a config file; a missing one that was not asked for
// explicitly is nil, not an error.
func readConfigFile(path string, explicit bool) (*File, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && !explicit {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	var f File
	if err := yaml.Unmarshal(data, &f); err != nil {
		return nil, fmt.Errorf("config file %s: %w", path, err)
	}
	return &f, nil
}

// profile returns the named profile; a nil file has none.
func (f *File) profile(name string) (map[string]any, bool) {
	if f == nil {
		return nil, false
	}
	p, ok := f.Profiles[name]
	return p, ok
}

// flagOrEnv returns a flag's value if set on the command line, else its env
// variable; explicit reports whether either was given.
func flagOrEnv(fs *pflag.FlagSet, name string, getenv func(string) string) (string, bool) {
	if f := fs.Lookup(name); f != nil && f.Changed {
		return f.Value.String(), true
	}
	v := getenv(EnvName(name))
	return v, v != ""
}

func profileNames(f File) string {
	if len(f.Profiles) == 0 {
		return "no profiles"
	}
	names := make([]string, 0, len(f.Profiles))
	for n := range f.Profiles {
		names = append(names, n)
	}
	sort.Strings(names)
	return "profiles " + strings.Join(names, ", ")
}

// scalarString renders a YAML value the way a flag would spell it; a list
// (brokers) is joined with commas.
func scalarString(v any) string {
	switch t := v.(type) {
	case []any:
		parts := make([]string, len(t))
		for i, e := range t {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ",")
	case nil:
		return ""
	default:
		return fmt.Sprint(t)
	}
}

func parseBool(name, v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("--%s %q is not true or false", name, v)
	}
	return b, nil
}
