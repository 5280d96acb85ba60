package embedded_test

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"

	"github.com/ksuite/ksuite/internal/embedded"
	"github.com/ksuite/ksuite/internal/testkit"
)

// seedDataDir leaves cfg.DataDir as a cleanly stopped cluster holding topic
// "t" (one partition, n records in n batches) and group "g" with offset n
// committed.
func seedDataDir(t *testing.T, cfg embedded.Config, n int) {
	t.Helper()
	c := start(t, cfg)
	ctx := testkit.Context(t, 30*time.Second)
	adm := kadm.NewClient(client(t, c))
	if _, err := adm.CreateTopic(ctx, 1, 1, map[string]*string{"retention.ms": kadm.StringPtr("3600000")}, "t"); err != nil {
		t.Fatal(err)
	}
	// One batch per record, so that a damage can take the last batch.
	for i := range n {
		produceValues(t, c.Bootstrap(), "t", "v"+strconv.Itoa(i))
	}
	offsets := kadm.Offsets{}
	offsets.Add(kadm.Offset{Topic: "t", Partition: 0, At: int64(n), LeaderEpoch: -1})
	if _, err := adm.CommitOffsets(ctx, "g", offsets); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedDataDir is issue 9's fourth finding: every damage that would
// make the cluster silently start emptier than it stopped is refused,
// naming the file and --repair; --repair rebuilds what the segments hold,
// reports what was lost, and reports committed offsets past a partition's
// new end.
func TestDamagedDataDir(t *testing.T) {
	const n = 10
	tests := []struct {
		name string
		// crashed leaves the directory as a crash (kill -9) would, without
		// the clean shutdown's snapshots to hold segments to.
		crashed bool
		damage  func(t *testing.T, dir string)
		// refusal must appear in the start error.
		refusal string
		// report must appear in the repair report.
		report []string
		// records is how many records of t survive the repair.
		records int
	}{
		{
			name:    "meta.json deleted",
			damage:  func(t *testing.T, dir string) { remove(t, dir, "meta.json") },
			refusal: "meta.json is missing",
			report:  []string{"meta.json rebuilt"},
			records: n,
		},
		{
			name:    "topics.json deleted",
			damage:  func(t *testing.T, dir string) { remove(t, dir, "topics.json") },
			refusal: "topics.json is missing",
			report:  []string{"topics.json rebuilt from partitions/ (1 topics): their configs are lost"},
			records: n,
		},
		{
			name:    "meta.json and topics.json deleted",
			damage:  func(t *testing.T, dir string) { remove(t, dir, "meta.json"); remove(t, dir, "topics.json") },
			refusal: "meta.json is missing",
			report:  []string{"meta.json rebuilt", "topics.json rebuilt"},
			records: n,
		},
		{
			name:    "partition directory deleted",
			damage:  func(t *testing.T, dir string) { remove(t, dir, "partitions/t-0") },
			refusal: "partitions/t-0 is missing",
			report:  []string{`topic "t" partition 0 starts empty`, `group "g" committed offset 10 of topic "t" partition 0, which now ends at offset 0`},
		},
		{
			name: "segment truncated to 0 bytes",
			damage: func(t *testing.T, dir string) {
				if err := os.Truncate(filepath.Join(dir, "partitions/t-0/0.dat"), 0); err != nil {
					t.Fatal(err)
				}
			},
			refusal: "partitions/t-0/0.dat has 0 of the",
			report:  []string{"partitions/t-0/0.dat:", `group "g" committed offset 10 of topic "t" partition 0, which now ends at offset 0`},
		},
		{
			name:    "segment truncated to 0 bytes after a crash",
			crashed: true,
			damage: func(t *testing.T, dir string) {
				if err := os.Truncate(filepath.Join(dir, "partitions/t-0/0.dat"), 0); err != nil {
					t.Fatal(err)
				}
			},
			refusal: "partitions/t-0/0.dat holds 0 whole record batches, but its index lists 10",
			report:  []string{"partitions/t-0/0.dat: 10 record batch(es) from offset 0 on are lost", `group "g" committed offset 10 of topic "t" partition 0, which now ends at offset 0`},
		},
		{
			name:    "segment deleted after a crash",
			crashed: true,
			damage:  func(t *testing.T, dir string) { remove(t, dir, "partitions/t-0/0.dat") },
			refusal: "partitions/t-0/0.dat holds 0 whole record batches, but its index lists 10",
			report:  []string{"partitions/t-0/0.dat: 10 record batch(es) from offset 0 on are lost"},
		},
		{
			name:    "segment cut inside its last batch after a crash",
			crashed: true,
			damage: func(t *testing.T, dir string) {
				path := filepath.Join(dir, "partitions/t-0/0.dat")
				info, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Truncate(path, info.Size()-5); err != nil {
					t.Fatal(err)
				}
			},
			refusal: "partitions/t-0/0.dat holds 9 whole record batches, but its index lists 10",
			report:  []string{"partitions/t-0/0.dat: 1 record batch(es) from offset 9 on are lost"},
			records: n - 1,
		},
		{
			name:    "segment byte flipped after a crash",
			crashed: true,
			damage: func(t *testing.T, dir string) {
				path := filepath.Join(dir, "partitions/t-0/0.dat")
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				b[len(b)-1] ^= 0xff // the last batch's last record: its CRC no longer matches
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			refusal: "partitions/t-0/0.dat holds 9 whole record batches, but its index lists 10",
			report:  []string{"partitions/t-0/0.dat: 1 record batch(es) from offset 9 on are lost"},
			records: n - 1,
		},
		{
			name:    "groups.log deleted",
			damage:  func(t *testing.T, dir string) { remove(t, dir, "groups.log") },
			refusal: "groups.log is missing",
			report:  []string{"groups.log recreated empty"},
			records: n,
		},
		{
			name: "groups.log damaged",
			damage: func(t *testing.T, dir string) {
				path := filepath.Join(dir, "groups.log")
				b, err := os.ReadFile(path)
				if err != nil || len(b) < 20 {
					t.Fatalf("groups.log: %v, %d bytes", err, len(b))
				}
				b[5] ^= 0xff // the first entry's checksum
				if err := os.WriteFile(path, b, 0o644); err != nil {
					t.Fatal(err)
				}
			},
			refusal: "groups.log has",
			report:  []string{"groups.log:"},
			records: n,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := testConfig(t)
			seedDataDir(t, cfg, n)
			if tt.crashed {
				remove(t, cfg.DataDir, ".clean-shutdown")
			}
			tt.damage(t, cfg.DataDir)

			_, err := embedded.Start(testkit.Context(t, 30*time.Second), cfg)
			var damaged *embedded.DamagedError
			if !errors.As(err, &damaged) || !strings.Contains(err.Error(), tt.refusal) || !strings.Contains(err.Error(), "--repair") {
				t.Fatalf("start on a damaged directory: %v; want a DamagedError naming %q and --repair", err, tt.refusal)
			}

			cfg.Repair = true
			c := start(t, cfg)
			report := strings.Join(c.RepairReport(), "\n")
			for _, want := range tt.report {
				if !strings.Contains(report, want) {
					t.Errorf("repair report lacks %q:\n%s", want, report)
				}
			}
			if got := readPartition(t, c.Bootstrap(), "t"); len(got) != tt.records {
				t.Errorf("after repair topic t holds %d records, want %d", len(got), tt.records)
			}
			if err := c.Close(); err != nil {
				t.Fatal(err)
			}
			// Repaired, the directory starts like any other.
			cfg.Repair = false
			c = start(t, cfg)
			if len(c.RepairReport()) != 0 {
				t.Fatalf("second start after repair reports %v", c.RepairReport())
			}
		})
	}
}

// TestUnwritableDataDir is issue 9's fifth finding at start: a file the
// cluster cannot write is refused before the ready line, naming it,
// instead of failing produce requests later.
func TestUnwritableDataDir(t *testing.T) {
	cfg := testConfig(t)
	seedDataDir(t, cfg, 1)
	segment := filepath.Join(cfg.DataDir, "partitions", "t-0", "0.dat")
	testkit.ReadOnly(t, segment)
	_, err := embedded.Start(testkit.Context(t, 30*time.Second), cfg)
	if err == nil || !strings.Contains(err.Error(), segment+" is not writable") {
		t.Fatalf("start with a read-only segment: %v; want it named as not writable", err)
	}
}

func remove(t *testing.T, dir, name string) {
	t.Helper()
	if err := os.RemoveAll(filepath.Join(dir, name)); err != nil {
		t.Fatal(err)
	}
}
