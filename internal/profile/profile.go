// Package profile writes what a developer's laptop needs to reach a cluster
// exposed with `ksuite up --external-host`: the bootstrap list, the SASL
// mechanism and user, and the CA certificate inline — never the password,
// which comes from the environment or a prompt.
//
// Two formats: a ksuite.yaml profile for `ksuite --profile NAME`, and the
// kafka-clients properties a Java or Spring application (or Kafka's own
// tools, --command-config) reads.
package profile

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/ksuite/ksuite/internal/kafka"
)

// PasswordEnv is where both formats take the password from.
const PasswordEnv = "KSUITE_SASL_PASSWORD"

// Profile is one exported connection.
type Profile struct {
	// Name is the profile's name in ksuite.yaml (`--profile Name`).
	Name string
	// Brokers are the advertised bootstrap addresses, host:port.
	Brokers []string
	// Mechanism is the SCRAM mechanism, e.g. SCRAM-SHA-512.
	Mechanism string
	// User is the SASL user.
	User string
	// CAPEM is the CA certificate, PEM.
	CAPEM []byte
}

// Validate checks the profile can be written and used.
func (p Profile) Validate() error {
	switch {
	case p.Name == "" || strings.ContainsAny(p.Name, " \t\n:/\\"):
		return fmt.Errorf("profile name %q: use a plain word such as team", p.Name)
	case p.User == "":
		return errors.New("no user: pass --user NAME (create it with ksuite users add NAME)")
	case len(p.Brokers) == 0:
		return errors.New("no brokers")
	}
	if b, _ := pem.Decode(p.CAPEM); b == nil || b.Type != "CERTIFICATE" {
		return errors.New("the CA is not a PEM certificate")
	}
	return nil
}

// YAML renders a ksuite.yaml with this one profile, also its default.
func (p Profile) YAML() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	str := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }
	brokers := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, b := range p.Brokers {
		brokers.Content = append(brokers.Content, str(b))
	}
	ca := str(string(bytes.TrimSpace(p.CAPEM)) + "\n")
	ca.Style = yaml.LiteralStyle
	settings := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		str(kafka.FlagBrokers), brokers,
		str(kafka.FlagSASLMechanism), str(p.Mechanism),
		str(kafka.FlagSASLUsername), str(p.User),
		str(kafka.FlagTLSCAPEM), ca,
	}}
	root := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		str("default-profile"), str(p.Name),
		str("profiles"), {Kind: yaml.MappingNode, Content: []*yaml.Node{str(p.Name), settings}},
	}}
	var buf bytes.Buffer
	fmt.Fprintf(&buf, "# ksuite connection profile %q: %s as %s over SASL_SSL (%s).\n", p.Name, strings.Join(p.Brokers, ","), p.User, p.Mechanism)
	fmt.Fprintf(&buf, "# Save it as %s.yaml (or ksuite.yaml) and run, for example:\n", p.Name)
	fmt.Fprintf(&buf, "#   ksuite --profile %s topics plan\n", p.Name)
	fmt.Fprintf(&buf, "# The password is not in this file: ksuite reads %s, or asks on a terminal.\n", PasswordEnv)
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// Properties renders kafka-clients settings. The password is read from
// KSUITE_SASL_PASSWORD by Kafka's EnvVarConfigProvider (KIP-887), so the
// file holds no secret either.
func (p Profile) Properties() ([]byte, error) {
	if err := p.Validate(); err != nil {
		return nil, err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# kafka-clients settings for %s as %s over SASL_SSL (%s).\n", strings.Join(p.Brokers, ","), p.User, p.Mechanism)
	fmt.Fprintf(&b, "# The password is read from the environment variable %s.\n", PasswordEnv)
	fmt.Fprintf(&b, "bootstrap.servers=%s\n", strings.Join(p.Brokers, ","))
	b.WriteString("security.protocol=SASL_SSL\n")
	fmt.Fprintf(&b, "sasl.mechanism=%s\n", p.Mechanism)
	fmt.Fprintf(&b, "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username=%q password=\"${env:%s}\";\n", p.User, PasswordEnv)
	b.WriteString("config.providers=env\n")
	b.WriteString("config.providers.env.class=org.apache.kafka.common.config.provider.EnvVarConfigProvider\n")
	b.WriteString("ssl.truststore.type=PEM\n")
	// One PEM line per properties line: "\n" keeps the line breaks, a
	// trailing backslash continues the value.
	lines := strings.Split(string(bytes.TrimSpace(p.CAPEM)), "\n")
	b.WriteString("ssl.truststore.certificates=")
	for i, l := range lines {
		b.WriteString(strings.TrimSpace(l))
		if i < len(lines)-1 {
			b.WriteString("\\n\\\n    ")
		}
	}
	b.WriteString("\n")
	return []byte(b.String()), nil
}
