package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ksuite/ksuite/internal/users"
)

func (a *app) usersCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "users",
		Short: "Manage SASL/SCRAM users: add, list, delete",
		Long: `The users commands manage a cluster's SCRAM users with Kafka's own admin
requests (AlterUserScramCredentials, DescribeUserScramCredentials): they work
on ksuite up --external-host and on any Apache Kafka, with the shared
connection flags (an admin, e.g. --sasl-username admin).

A new user can do nothing until ACLs grant it: declare them in the topics
file's acls: section and run ksuite topics apply. Users persist across
restarts of ksuite up. See docs/expose.md.`,
		Example: `  printf %s "$ALICE_PASSWORD" | ksuite --profile admin users add alice --password-stdin
  ksuite --profile admin users list --output json
  ksuite --profile admin users delete alice`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(a.usersAddCmd(), a.usersListCmd(), a.usersDeleteCmd())
	return cmd
}

func (a *app) usersAddCmd() *cobra.Command {
	var (
		passwordStdin bool
		password      string
		mechanism     string
		iterations    int32
	)
	cmd := &cobra.Command{
		Use:   "add NAME",
		Short: "Create a SCRAM user, or set a new password for an existing one",
		Long: `Add creates the user with a SCRAM credential, or replaces the password of
an existing user for that mechanism. The password comes from stdin
(--password-stdin, its first line), from --password (visible in ps: scripts
only), or from a prompt on a terminal.`,
		Example: `  printf %s "$PW" | ksuite users add alice --password-stdin
  ksuite users add ci --password "$CI_PASSWORD" --mechanism SCRAM-SHA-256
  ksuite users add alice            # asks for the password on a terminal`,
		Args: exactlyOneName("user"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			pw, err := a.newPassword(cmd, passwordStdin, password, name)
			if err != nil {
				return err
			}
			return a.withAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				created, err := users.Set(ctx, adm, name, pw, mechanism, iterations)
				if err != nil {
					return err
				}
				if !created {
					fmt.Fprintf(a.io.Out, "updated the %s password of user %s\n", strings.ToUpper(mechanism), name)
					return nil
				}
				fmt.Fprintf(a.io.Out, "created user %s (%s)\n", name, strings.ToUpper(mechanism))
				fmt.Fprintf(a.io.Err, "%s can do nothing until ACLs grant it, on a cluster with ACLs on (such as ksuite up --external-host): add them to the acls: section of topics.yaml and run ksuite topics apply\n", name)
				return nil
			})
		},
	}
	f := cmd.Flags()
	f.BoolVar(&passwordStdin, "password-stdin", false, "read the password from stdin (its first line)")
	f.StringVar(&password, "password", "", "the password (visible to other users in ps: prefer --password-stdin)")
	f.StringVar(&mechanism, "mechanism", users.DefaultMechanism, "SCRAM-SHA-512 or SCRAM-SHA-256")
	f.Int32Var(&iterations, "iterations", users.MinIterations, fmt.Sprintf("SCRAM iterations (%d-%d)", users.MinIterations, users.MaxIterations))
	cmd.MarkFlagsMutuallyExclusive("password-stdin", "password")
	return cmd
}

// newPassword takes the new user's password from the one place given.
func (a *app) newPassword(cmd *cobra.Command, fromStdin bool, flag, user string) (string, error) {
	switch {
	case fromStdin:
		return a.readSecretStdin("--password-stdin")
	case cmd.Flags().Changed("password"):
		if flag == "" {
			return "", errors.New("--password is empty")
		}
		return flag, nil
	case !isTerminal(a.io.In):
		return "", errors.New("no password: pipe it with --password-stdin (or pass --password in scripts)")
	}
	pw, err := a.readSecret(fmt.Sprintf("Password for new user %s: ", user))
	if err != nil {
		return "", err
	}
	again, err := a.readSecret("Repeat it: ")
	if err != nil {
		return "", err
	}
	if pw != again {
		return "", errors.New("the passwords differ: nothing changed")
	}
	if pw == "" {
		return "", errors.New("empty password: nothing changed")
	}
	return pw, nil
}

func (a *app) usersListCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "list [NAME...]",
		Short: "List SCRAM users and their mechanisms",
		Long: `List prints every user with a SCRAM credential, or only the users named, and
their mechanisms (passwords cannot be read back). A named user that does not
exist is an error (exit 1). --output json prints
  {"users":[{"name","mechanisms":[{"mechanism","iterations"}]}]}`,
		Example: `  ksuite users list
  ksuite users list alice --output json
  ksuite users list --output json | jq -r '.users[].name'`,
		RunE: func(cmd *cobra.Command, names []string) error {
			if err := checkOutput(output); err != nil {
				return err
			}
			return a.withAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				all, err := users.List(ctx, adm, names...)
				if errors.Is(err, users.ErrNotFound) {
					return fmt.Errorf("%w on this cluster: ksuite users list (no NAME) shows every user", err)
				}
				if err != nil {
					return err
				}
				if output == "json" {
					enc := json.NewEncoder(a.io.Out)
					return enc.Encode(struct {
						Users []users.User `json:"users"`
					}{all})
				}
				tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "USER\tMECHANISMS")
				for _, u := range all {
					mechs := make([]string, len(u.Mechanisms))
					for i, m := range u.Mechanisms {
						mechs[i] = fmt.Sprintf("%s (%d iterations)", m.Mechanism, m.Iterations)
					}
					fmt.Fprintf(tw, "%s\t%s\n", u.Name, strings.Join(mechs, ", "))
				}
				return tw.Flush()
			})
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

func (a *app) usersDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a SCRAM user (every mechanism)",
		Long: `Delete removes every SCRAM credential of the user, so it can no longer log in.
Its ACLs stay, as in Kafka: remove them from the topics file and run
ksuite topics apply --allow-delete.`,
		Example: `  ksuite users delete alice`,
		Args:    exactlyOneName("user"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.withAdmin(cmd, func(ctx context.Context, adm *kadm.Client) error {
				err := users.Delete(ctx, adm, args[0])
				if errors.Is(err, users.ErrNotFound) {
					return fmt.Errorf("user %s does not exist on this cluster: ksuite users list shows who does", args[0])
				}
				if err != nil {
					return err
				}
				fmt.Fprintf(a.io.Out, "deleted user %s\n", args[0])
				return nil
			})
		},
	}
}

// withAdmin connects with the shared connection settings and runs fn with
// an admin client.
func (a *app) withAdmin(cmd *cobra.Command, fn func(context.Context, *kadm.Client) error) error {
	cfg, err := a.kafkaConfig(cmd)
	if err != nil {
		return err
	}
	cl, err := cfg.Connect(cmd.Context())
	if err != nil {
		return err
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), cfg.Timeout)
	defer cancel()
	err = fn(ctx, kadm.NewClient(cl))
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil {
		// Connected, asked, and no answer came: not a connection problem.
		return fmt.Errorf("the cluster did not answer within %s (raise --timeout; check the brokers' logs)", cfg.Timeout)
	}
	return cfg.Explain(err)
}

// exactlyOneName is cobra.ExactArgs(1) with an error that names the argument.
func exactlyOneName(what string) cobra.PositionalArgs {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != 1 {
			return fmt.Errorf("give exactly one %s name (got %d arguments)", what, len(args))
		}
		return nil
	}
}

func checkOutput(output string) error {
	if output != "text" && output != "json" {
		return fmt.Errorf("--output %q: use text or json", output)
	}
	return nil
}
