package cli

import (
	"fmt"
	"net"
	"path/filepath"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/ksuite/ksuite/internal/embedded"
	"github.com/ksuite/ksuite/internal/pki"
	"github.com/ksuite/ksuite/internal/profile"
	"github.com/ksuite/ksuite/internal/users"
)

func (a *app) profileCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "profile",
		Short: "Write connection profiles for developers' laptops",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(a.profileExportCmd())
	return cmd
}

func (a *app) profileExportCmd() *cobra.Command {
	var (
		p        = profile.Profile{Name: "team", Mechanism: users.DefaultMechanism}
		host     string
		portBase int
		nodes    int
		dataDir  string
		caFile   string
		format   string
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Print what a laptop needs to reach a cluster exposed with ksuite up --external-host",
		Long: `Export prints a connection profile for one user of a cluster started with
ksuite up --external-host: the bootstrap list HOST:PORT..., SASL_SSL with
SCRAM-SHA-512, the user, and the cluster's CA certificate inline (read from
<data-dir>/tls/ca.pem). It never contains a password: ksuite reads it from
KSUITE_SASL_PASSWORD or asks on a terminal.

Run it on the cluster's machine and hand the file to the developer, who
saves it as NAME.yaml (or ksuite.yaml) and runs ksuite --profile NAME ....

--format properties prints the same settings for kafka-clients (Java,
Spring's spring.kafka.properties.*, Kafka's tools with --command-config),
taking the password from KSUITE_SASL_PASSWORD through Kafka's
EnvVarConfigProvider.`,
		Example: `  ksuite profile export --external-host kafka.dev.example.com --user alice > team.yaml
  KSUITE_SASL_PASSWORD=... ksuite --profile team topics plan
  ksuite profile export --external-host 203.0.113.7 --user ci --format properties > client.properties`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if host == "" {
				return fmt.Errorf("--external-host is required: the name or IP the cluster was started with (ksuite up --external-host HOST)")
			}
			if err := embedded.ValidateHost(host); err != nil {
				return err
			}
			if format != "yaml" && format != "properties" {
				return fmt.Errorf("--format %q: use yaml or properties", format)
			}
			if nodes < 1 || portBase < 1 || portBase+nodes-1 > 65535 {
				return fmt.Errorf("--port-base %d with --nodes %d leaves the port range 1-65535", portBase, nodes)
			}
			if caFile == "" {
				caFile = filepath.Join(dataDir, "tls", pki.CAFile)
			}
			ca, err := pki.ReadCA(caFile)
			if err != nil {
				return fmt.Errorf("%w: pass --data-dir of the ksuite up, or --ca FILE", err)
			}
			p.CAPEM = ca
			for i := range nodes {
				p.Brokers = append(p.Brokers, net.JoinHostPort(host, strconv.Itoa(portBase+i)))
			}
			var out []byte
			if format == "yaml" {
				out, err = p.YAML()
			} else {
				out, err = p.Properties()
			}
			if err != nil {
				return err
			}
			_, err = a.io.Out.Write(out)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&host, "external-host", "", "the host the brokers advertise (as given to ksuite up --external-host)")
	f.StringVar(&p.User, "user", "", "the SASL user the profile logs in as (ksuite users add NAME)")
	f.StringVar(&p.Name, "name", p.Name, "the profile's name, for ksuite --profile NAME")
	f.IntVar(&portBase, "port-base", embedded.DefaultPortBase, "first broker port, as given to ksuite up")
	f.IntVar(&nodes, "nodes", embedded.DefaultNodes, "number of brokers, as given to ksuite up")
	f.StringVar(&dataDir, "data-dir", embedded.DefaultDataDir, "data directory of the ksuite up, holding tls/ca.pem")
	f.StringVar(&caFile, "ca", "", "CA certificate to embed (default <data-dir>/tls/ca.pem)")
	f.StringVar(&format, "format", "yaml", "yaml (a ksuite profile) or properties (kafka-clients)")
	return cmd
}
