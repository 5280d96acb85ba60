package cli

import (
	"github.com/spf13/cobra"

	"github.com/ksuite/ksuite/internal/doctor"
)

func (a *app) doctorCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check a cluster from here: advertised addresses, TLS, SASL, replication, exposure, dead consumers",
		Long: `Doctor connects with the shared connection settings and checks, from where it
runs: the bootstrap; that every address the brokers advertise resolves and
answers an ApiVersions request (naming the broker and the fix when one does
not); TLS certificates (trust, names, expiry within 30 days) and SASL; live
brokers against replication factors, offline and under-replicated
partitions, min.insync.replicas; exposure (a listener other machines are
meant to reach without authentication, or with ACLs off); and consumer
groups with no members and unread records.

It prints a checklist (✓ ok, ✗ failed, ! warning, with a fix line under
each problem) or, with --output json,
  {"checks":[{"name","status":"ok|fail|warn","detail","fix"}]}
and exits 1 when a check fails (warnings alone exit 0).`,
		Example: `  ksuite doctor
  ksuite --profile team doctor
  ksuite doctor --brokers kafka-1:9092 --output json | jq '.checks[] | select(.status != "ok")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			cfg, err := a.kafkaConfig(cmd)
			if err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			r := doctor.Run(cmd.Context(), cfg, doctor.Options{})
			if output == "json" {
				err = r.WriteJSON(a.io.Out)
			} else {
				err = r.WriteText(a.io.Out)
			}
			if err != nil {
				return err
			}
			if r.Failed() {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}
