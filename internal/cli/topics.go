package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
	"golang.org/x/term"

	"github.com/ksuite/ksuite/topics"
)

// Exit codes of the topics commands (docs/topics.md).
const (
	exitTopicsChanges = 2 // plan --detailed-exitcode: changes present
	exitTopicsBlocked = 3 // a blocked change: plan and apply (apply changed nothing)
)

// topicsFlags are the flags every topics command that reads files shares.
type topicsFlags struct {
	files  []string
	env    string
	limits topics.Limits
}

func (f *topicsFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringArrayVarP(&f.files, "file", "f", []string{"topics.yaml"}, "topics file or directory of *.yaml files; repeat for more")
	cmd.Flags().StringVar(&f.env, "env", "", "environment overlay to apply (environments.<name> in the files)")
	addLimitFlags(cmd, &f.limits.PartitionsPerTopic, &f.limits.Partitions, topics.DefaultLimits.PartitionsPerTopic, topics.DefaultLimits.Partitions)
}

// addLimitFlags registers the partition bounds shared by the topics
// commands and up.
func addLimitFlags(cmd *cobra.Command, perTopic, total *int, perTopicDefault, totalDefault int) {
	cmd.Flags().IntVar(perTopic, "max-partitions-per-topic", perTopicDefault, "refuse a topic with more partitions than this")
	cmd.Flags().IntVar(total, "max-partitions", totalDefault, "refuse more partitions than this in all")
}

func (a *app) topicsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topics",
		Short: "Keep topics as code: validate, plan, apply and export topics.yaml",
		Long: `The topics commands keep a cluster's topics in a topics.yaml: partitions,
replication factor and configs, per environment, and its ACLs (acls:). plan shows what apply would
change; apply changes only that, in batches, and waits until the cluster
shows it. Partition decreases are blocked, topics are deleted only inside
manage prefixes and only with --allow-delete, and __* topics are never
touched. See docs/topics.md.

Exit codes: 0 success or no changes; 1 error (including validation);
2 changes present (plan --detailed-exitcode); 3 a blocked change was found
(plan and apply; apply then changes nothing).`,
		Example: `  ksuite topics validate -f topics.yaml
  ksuite topics plan -f topics/ --env prod
  ksuite topics plan --output json --detailed-exitcode
  ksuite topics apply --env dev --auto-approve
  ksuite topics export --include '^signup-' > topics.yaml`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(a.topicsValidateCmd(), a.topicsPlanCmd(), a.topicsApplyCmd(), a.topicsExportCmd())
	return cmd
}

func (a *app) topicsValidateCmd() *cobra.Command {
	var f topicsFlags
	cmd := &cobra.Command{
		Use:   "validate",
		Short: "Check topics files offline and report every problem with file:line",
		Long: `Validate checks topics files without a cluster: YAML shape, topic names
(Kafka's rules), partitions and replication factor, config keys and value types
against Kafka 4's topic configs, and min.insync.replicas against the
replication factor. It reports every problem at once, with file:line.`,
		Example: `  ksuite topics validate
  ksuite topics validate -f topics/ -f extra.yaml --env prod`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := a.loadTopics(f)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.io.Out, "ok: %d topic(s)%s valid%s\n", len(d.Topics), aclCount(len(d.ACLs)), envSuffix(f.env))
			return nil
		},
	}
	f.register(cmd)
	return cmd
}

func (a *app) topicsPlanCmd() *cobra.Command {
	var (
		f        topicsFlags
		output   string
		detailed bool
	)
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show what apply would change on the cluster",
		Long: `Plan reads the cluster (metadata, and configs of the declared topics only) and
prints what apply would do: + create, ~ update (partitions, replication
factor, configs), - delete (managed topics no longer declared), ! blocked
(with the reason). It writes nothing.

ACL bindings of the acls: section follow, + to create and - to delete, on a
cluster that enforces ACLs.

--output json prints the documented, stable shape:
  {"changes":[{"topic","action","partitions":{"from","to"},
    "replicationFactor":{"from","to"},"config":[{"key","from","to","op"}],
    "reason"}],"acls":[{"action","principal","host","resourceType","name",
    "pattern","operation","permission"}],"aclsSkipped",
    "summary":{"create","update","delete","blocked","aclCreate","aclDelete"}}`,
		Example: `  ksuite topics plan
  ksuite topics plan -f topics/ --env prod --output json | jq '.summary'
  ksuite topics plan --detailed-exitcode   # exit 2 when there are changes`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "text" && output != "json" {
				return fmt.Errorf("--output %q: use text or json", output)
			}
			d, err := a.loadTopics(f)
			if err != nil {
				return err
			}
			return a.withTopicsClient(cmd, func(ctx context.Context, cl *kgo.Client) error {
				p, err := topics.Plan(ctx, cl, d)
				if err != nil {
					return err
				}
				if output == "json" {
					err = p.WriteJSON(a.io.Out)
				} else {
					err = p.WriteText(a.io.Out)
				}
				switch {
				case err != nil:
					return err
				case p.Blocked():
					return &ExitError{Code: exitTopicsBlocked, Err: errors.New("the plan has blocked changes: fix the topics files (see the reasons above)")}
				case detailed && p.HasChanges():
					return &ExitError{Code: exitTopicsChanges}
				}
				return nil
			})
		},
	}
	f.register(cmd)
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	cmd.Flags().BoolVar(&detailed, "detailed-exitcode", false, "exit 2 when there are changes (0: none, 1: error, 3: blocked)")
	return cmd
}

func (a *app) topicsApplyCmd() *cobra.Command {
	var (
		f           topicsFlags
		autoApprove bool
		allowDelete bool
		dryRun      bool
	)
	cmd := &cobra.Command{
		Use:   "apply",
		Short: "Make the cluster match the topics files",
		Long: `Apply shows the plan, asks for confirmation on a terminal, executes it with
one CreateTopics, one CreatePartitions and one IncrementalAlterConfigs request
(plus a partition reassignment for replication-factor changes), shows progress
and waits until the cluster reflects every change.

Without a terminal (CI), --auto-approve is required. Deletes run only with
--allow-delete; otherwise they are skipped with a warning. A blocked change
makes apply exit 3 without changing anything. --dry-run sends the same
requests with the brokers' validate-only flag.`,
		Example: `  ksuite topics apply
  ksuite topics apply --env prod --auto-approve
  ksuite topics apply --allow-delete --auto-approve
  ksuite topics apply --dry-run`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			d, err := a.loadTopics(f)
			if err != nil {
				return err
			}
			return a.withTopicsClient(cmd, func(ctx context.Context, cl *kgo.Client) error {
				p, err := topics.Plan(ctx, cl, d)
				if err != nil {
					return err
				}
				if err := p.WriteText(a.io.Out); err != nil {
					return err
				}
				if p.Blocked() {
					return &ExitError{Code: exitTopicsBlocked, Err: errors.New("the plan has blocked changes, so nothing was applied: fix the topics files (see the reasons above)")}
				}
				if !p.HasChanges() {
					return nil
				}
				if !autoApprove && !dryRun {
					ok, err := a.confirm(p)
					if err != nil {
						return err
					}
					if !ok {
						fmt.Fprintln(a.io.Out, "Apply cancelled: nothing changed.")
						return nil
					}
				}
				fmt.Fprintln(a.io.Out)
				res, err := topics.Apply(ctx, cl, p, topics.ApplyOptions{AllowDelete: allowDelete, DryRun: dryRun, Progress: a.io.Err})
				s := res.Applied
				verb := "Applied"
				if dryRun {
					verb = "Dry run: brokers validated"
				}
				fmt.Fprintf(a.io.Out, "%s: %d created, %d updated, %d deleted", verb, s.Create, s.Update, s.Delete)
				if s.ACLCreate+s.ACLDelete > 0 {
					fmt.Fprintf(a.io.Out, ", %d ACL(s) created, %d ACL(s) deleted", s.ACLCreate, s.ACLDelete)
				}
				if n := len(res.SkippedACLDeletes); n > 0 {
					fmt.Fprintf(a.io.Out, ", %d ACL delete(s) skipped (pass --allow-delete)", n)
				}
				if n := len(res.SkippedDeletes); n > 0 {
					fmt.Fprintf(a.io.Out, ", %d delete(s) skipped (pass --allow-delete)", n)
				}
				fmt.Fprintln(a.io.Out, ".")
				return err
			})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&autoApprove, "auto-approve", false, "apply without asking (required without a terminal)")
	cmd.Flags().BoolVar(&allowDelete, "allow-delete", false, "delete managed topics the files no longer declare")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "send every request validate-only: the brokers check, nothing changes")
	return cmd
}

func (a *app) topicsExportCmd() *cobra.Command {
	var (
		include string
		out     string
	)
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write a topics.yaml for the cluster's existing topics",
		Long: `Export writes a topics file declaring the cluster's topics with their
partitions, replication factor and topic-level config overrides (configs at
their defaults are left out). Internal __* topics are never exported. Planning
the exported file against the same cluster shows no changes.`,
		Example: `  ksuite topics export > topics.yaml
  ksuite topics export --include '^(signup|suiteroom)-' --out topics.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var opts topics.ExportOptions
			if include != "" {
				re, err := regexp.Compile(include)
				if err != nil {
					return fmt.Errorf("--include %q is not a valid regular expression: %w", include, err)
				}
				opts.Include = re
			}
			return a.withTopicsClient(cmd, func(ctx context.Context, cl *kgo.Client) error {
				data, err := topics.Export(ctx, cl, opts)
				if err != nil {
					return err
				}
				if out == "" || out == "-" {
					_, err = a.io.Out.Write(data)
					return err
				}
				if err := os.WriteFile(out, data, 0o644); err != nil {
					return fmt.Errorf("export: %w", err)
				}
				fmt.Fprintf(a.io.Err, "wrote %s\n", out)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&include, "include", "", "export only topics whose name matches this regular expression")
	cmd.Flags().StringVar(&out, "out", "-", "file to write (- for stdout)")
	return cmd
}

// loadTopics loads and validates the files, printing warnings (and, on
// failure, every problem) to stderr.
func (a *app) loadTopics(f topicsFlags) (*topics.Desired, error) {
	d, err := topics.Load(f.env, f.files...)
	var ve *topics.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Fprintln(a.io.Err, p)
		}
		return nil, &ExitError{Code: 1, Err: fmt.Errorf("%d problem(s) in the topics files", len(ve.Problems))}
	}
	if err != nil {
		return nil, err
	}
	for _, w := range d.Warnings {
		fmt.Fprintln(a.io.Err, w)
	}
	d.Limits = f.limits
	var errs []topics.Problem
	for _, p := range topics.Validate(d) {
		if p.Severity == topics.SeverityError {
			errs = append(errs, p)
		}
	}
	if len(errs) > 0 {
		for _, p := range errs {
			fmt.Fprintln(a.io.Err, p)
		}
		return nil, &ExitError{Code: 1, Err: fmt.Errorf("%d problem(s) in the topics files", len(errs))}
	}
	return d, nil
}

// withTopicsClient connects with the shared connection settings and runs fn.
func (a *app) withTopicsClient(cmd *cobra.Command, fn func(context.Context, *kgo.Client) error) error {
	cfg, err := a.kafkaConfig(cmd)
	if err != nil {
		return err
	}
	cl, err := cfg.Connect(cmd.Context())
	if err != nil {
		return err
	}
	defer cl.Close()
	return cfg.Explain(fn(cmd.Context(), cl))
}

// terminalReader is an IO.In that knows whether it is a terminal: an
// embedding program's own terminal, or a test's.
type terminalReader interface {
	io.Reader
	IsTerminal() bool
}

// isTerminal reports whether r is an interactive terminal (a person's
// shell, not a pipe or CI).
func isTerminal(r io.Reader) bool {
	if t, ok := r.(terminalReader); ok {
		return t.IsTerminal()
	}
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// confirm asks on the terminal; without one it refuses, because an
// unattended apply must say so explicitly with --auto-approve.
func (a *app) confirm(p *topics.PlanResult) (bool, error) {
	if !isTerminal(a.io.In) {
		return false, errors.New("stdin is not a terminal, so apply cannot ask for confirmation: review the plan and pass --auto-approve")
	}
	s := p.Summary()
	acls := ""
	if s.ACLCreate+s.ACLDelete > 0 {
		acls = fmt.Sprintf(", %d ACL(s) to create, %d to delete", s.ACLCreate, s.ACLDelete)
	}
	fmt.Fprintf(a.io.Out, "\nApply %d change(s) (%d create, %d update, %d delete%s)? Only 'yes' is accepted: ", s.Total()-s.Blocked, s.Create, s.Update, s.Delete, acls)
	line, err := bufio.NewReader(a.io.In).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	return strings.TrimSpace(line) == "yes", nil
}

func envSuffix(env string) string {
	if env == "" {
		return ""
	}
	return " for environment " + env
}

// aclCount is " and N ACL(s)" for a file that declares ACLs, else "".
func aclCount(n int) string {
	if n == 0 {
		return ""
	}
	return fmt.Sprintf(" and %d ACL binding(s)", n)
}
