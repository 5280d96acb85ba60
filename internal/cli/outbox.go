package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver "pgx" for postgres:// --db
	"github.com/spf13/cobra"
	_ "modernc.org/sqlite" // driver "sqlite" for a SQLite --db

	"github.com/ksuite/ksuite/event"
	"github.com/ksuite/ksuite/internal/kafka"
)

// outboxFlags are the flags both outbox commands take.
type outboxFlags struct {
	db     string
	table  string
	output string
}

func (f *outboxFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.db, "db", "", "the service's database: a SQLite file path, or a postgres:// URL (required)")
	cmd.Flags().StringVar(&f.table, "table", "ksuite_outbox", "the outbox table (OutboxConfig.Table), schema-qualified if need be")
	cmd.Flags().StringVarP(&f.output, "output", "o", "text", "output format: text or json")
}

func (a *app) outboxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "outbox",
		Short: "List and requeue the outbox rows Kafka rejected for good",
		Long: `The outbox relay of package event parks a row Kafka rejects for good (too
large for the topic, an invalid or forbidden topic): it keeps the row with its
error and lets the rows after it go on. These commands list the parked rows
of a service's outbox and put them back in the queue once the cause is fixed;
the service's relay then publishes them. See docs/events.md.

--db is the service's database: the path of a SQLite file, or a PostgreSQL
URL (postgres://user:password@host:5432/db?sslmode=disable).

--timeout bounds connecting to the database and each statement.

Exit codes: 0 success; 1 error (bad flags, database unreachable, no outbox
table, or a row to requeue that is not parked: then nothing is requeued).`,
		Example: `  ksuite outbox list --db ./member-service.db
  ksuite outbox list --db postgres://svc@db:5432/members --output json | jq '.parked[].seq'
  ksuite outbox requeue --db ./member-service.db 12 15
  ksuite outbox requeue --db postgres://svc@db:5432/members --table app.outbox --all`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(a.outboxListCmd(), a.outboxRequeueCmd())
	return cmd
}

func (a *app) outboxListCmd() *cobra.Command {
	var (
		f     outboxFlags
		limit int
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the parked outbox rows, oldest first",
		Long: `List prints the parked rows of the outbox, oldest first: seq (what requeue
takes), topic, key, the event's type and id, when it was parked and Kafka's
error. It changes nothing.

--output json prints {"table","parked":[{"seq","topic","key","type","id",
"bytes","createdAt","failedAt","error"}]}.`,
		Example: `  ksuite outbox list --db ./member-service.db
  ksuite outbox list --db postgres://svc@db:5432/members --limit 10 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.withOutbox(cmd, f, func(ctx context.Context, o *event.Outbox) error {
				rows, err := o.Parked(ctx, limit)
				if err != nil {
					return err
				}
				if f.output == "json" {
					return writeParkedJSON(a, f.table, rows)
				}
				return writeParkedText(a, f.table, rows)
			})
		},
	}
	f.register(cmd)
	cmd.Flags().IntVar(&limit, "limit", 0, "list at most this many rows (0: all)")
	return cmd
}

func (a *app) outboxRequeueCmd() *cobra.Command {
	var (
		f   outboxFlags
		all bool
	)
	cmd := &cobra.Command{
		Use:   "requeue (SEQ... | --all)",
		Short: "Put parked outbox rows back in the queue",
		Long: `Requeue puts parked rows back in the queue, by seq (ksuite outbox list shows
them) or all of them with --all; fix the cause first (raise the topic's
max.message.bytes, grant the ACL), or the relay parks them again. It is all or
nothing: if a seq is not a parked row, nothing is requeued and the command
exits 1 naming it. A requeued row is published after the rows of its key that
went out while it was parked.

--output json prints {"table","requeued":[seq,...]}.`,
		Example: `  ksuite outbox requeue --db ./member-service.db 12 15
  ksuite outbox requeue --db postgres://svc@db:5432/members --all --output json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch {
			case all && len(args) > 0:
				return fmt.Errorf("--all requeues every parked row: give it without seq numbers (got %s)", strings.Join(args, " "))
			case !all && len(args) == 0:
				return errors.New("name the rows to requeue by seq, or pass --all (ksuite outbox list shows the parked rows)")
			}
			seqs := make([]int64, len(args))
			for i, s := range args {
				n, err := strconv.ParseInt(s, 10, 64)
				if err != nil || n <= 0 {
					return fmt.Errorf("%q is not a row seq: give the seq numbers ksuite outbox list shows", s)
				}
				seqs[i] = n
			}
			return a.withOutbox(cmd, f, func(ctx context.Context, o *event.Outbox) error {
				if all {
					var err error
					if seqs, err = o.RequeueAll(ctx); err != nil {
						return err
					}
				} else if err := o.Requeue(ctx, seqs...); err != nil {
					return err
				}
				if f.output == "json" {
					return writeOutboxJSON(a, struct {
						Table    string  `json:"table"`
						Requeued []int64 `json:"requeued"`
					}{f.table, append([]int64{}, seqs...)})
				}
				if len(seqs) == 0 {
					_, err := fmt.Fprintf(a.io.Out, "no parked rows in %s\n", f.table)
					return err
				}
				_, err := fmt.Fprintf(a.io.Out, "requeued %d row(s) of %s: %s\n", len(seqs), f.table, outboxSeqList(seqs))
				return err
			})
		},
	}
	f.register(cmd)
	cmd.Flags().BoolVar(&all, "all", false, "requeue every parked row")
	return cmd
}

// withOutbox opens the outbox f names and runs fn with it.
func (a *app) withOutbox(cmd *cobra.Command, f outboxFlags, fn func(context.Context, *event.Outbox) error) error {
	if f.output != "text" && f.output != "json" {
		return fmt.Errorf("--output %q: use text or json", f.output)
	}
	db, dialect, err := openOutboxDB(f.db)
	if err != nil {
		return err
	}
	defer db.Close()
	// --timeout bounds connecting and each statement, as it bounds the
	// Kafka commands' requests: a database that does not answer fails the
	// command instead of hanging it.
	timeout, err := cmd.Flags().GetDuration(kafka.FlagTimeout)
	if err != nil || timeout <= 0 {
		timeout = kafka.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("--db %s: %w", redactDSN(f.db), err)
	}
	o, err := event.NewOutbox(event.OutboxConfig{DB: db, Dialect: dialect, Table: f.table})
	if err != nil {
		return fmt.Errorf("--table: %w", err)
	}
	return fn(ctx, o)
}

// openOutboxDB opens --db: a postgres:// or postgresql:// URL with pgx,
// anything else as an existing SQLite file (a missing file is an error,
// not a new empty database).
func openOutboxDB(dsn string) (*sql.DB, event.Dialect, error) {
	if dsn == "" {
		return nil, 0, errors.New("--db is required: the path of the service's SQLite file, or a postgres:// URL")
	}
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, 0, fmt.Errorf("--db %s: %w", redactDSN(dsn), err)
		}
		return db, event.Postgres, nil
	}
	path := strings.TrimPrefix(dsn, "file:")
	if st, err := os.Stat(path); err != nil || st.IsDir() {
		return nil, 0, fmt.Errorf("--db %s: no SQLite database file there (--db takes a SQLite file path or a postgres:// URL)", redactDSN(dsn))
	}
	db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?mode=rw&_pragma=busy_timeout(10000)")
	if err != nil {
		return nil, 0, fmt.Errorf("--db %s: %w", redactDSN(dsn), err)
	}
	return db, event.SQLite, nil
}

// dsnPassword is a password given as a parameter: ?password=... in a URL,
// password=... in a key=value connection string.
var dsnPassword = regexp.MustCompile(`(?i)\bpassword=[^&\s]*`)

// redactDSN hides the passwords in a --db value, wherever they are
// written, before it goes into a message.
func redactDSN(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.User != nil {
		dsn = u.Redacted()
	}
	return dsnPassword.ReplaceAllString(dsn, "password=xxxxx")
}

// parkedJSON is one row of list --output json.
type parkedJSON struct {
	Seq       int64     `json:"seq"`
	Topic     string    `json:"topic"`
	Key       string    `json:"key"`
	Type      string    `json:"type,omitempty"`
	ID        string    `json:"id,omitempty"`
	Bytes     int       `json:"bytes"`
	CreatedAt time.Time `json:"createdAt"`
	FailedAt  time.Time `json:"failedAt"`
	Error     string    `json:"error"`
}

func toParkedJSON(p event.ParkedRow) parkedJSON {
	j := parkedJSON{Seq: p.Seq, Topic: p.Record.Topic, Key: string(p.Record.Key), Bytes: len(p.Record.Value),
		CreatedAt: p.CreatedAt.UTC(), FailedAt: p.FailedAt.UTC(), Error: p.Error}
	if ev, err := event.Decode(p.Record); err == nil {
		j.Type, j.ID = ev.Type, ev.ID
	}
	return j
}

func writeParkedJSON(a *app, table string, rows []event.ParkedRow) error {
	out := struct {
		Table  string       `json:"table"`
		Parked []parkedJSON `json:"parked"`
	}{Table: table, Parked: []parkedJSON{}}
	for _, p := range rows {
		out.Parked = append(out.Parked, toParkedJSON(p))
	}
	return writeOutboxJSON(a, out)
}

func writeParkedText(a *app, table string, rows []event.ParkedRow) error {
	if len(rows) == 0 {
		_, err := fmt.Fprintf(a.io.Out, "no parked rows in %s\n", table)
		return err
	}
	tw := tabwriter.NewWriter(a.io.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tTOPIC\tKEY\tTYPE\tID\tFAILED AT\tERROR")
	for _, p := range rows {
		j := toParkedJSON(p)
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", j.Seq, j.Topic, j.Key, orDash(j.Type), orDash(j.ID),
			j.FailedAt.Format(time.RFC3339), outboxOneLine(j.Error, 120))
	}
	return tw.Flush()
}

func writeOutboxJSON(a *app, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.io.Out, "%s\n", b)
	return err
}

func outboxSeqList(seqs []int64) string {
	s := make([]string, len(seqs))
	for i, n := range seqs {
		s[i] = strconv.FormatInt(n, 10)
	}
	return strings.Join(s, ", ")
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// oneLine keeps text on one table line, cut to n bytes.
func outboxOneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		return s[:n-3] + "..."
	}
	return s
}
