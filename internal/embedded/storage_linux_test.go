package embedded_test

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/internal/testkit"
)

// fullDisk makes the next segment file of topic's partition 0 /dev/full,
// where every write fails with ENOSPC, as on a full disk.
func fullDisk(t *testing.T, dataDir, topic string) {
	t.Helper()
	if err := os.Symlink("/dev/full", filepath.Join(dataDir, "partitions", topic+"-0", "0.dat")); err != nil {
		t.Fatal(err)
	}
}

// TestDiskFullIsAStorageError is issue 9's twelfth finding on the broker
// side: a write the disk refuses is answered KAFKA_STORAGE_ERROR, as Kafka
// answers it, not UNKNOWN_SERVER_ERROR.
func TestDiskFullIsAStorageError(t *testing.T) {
	cfg := testConfig(t)
	c := start(t, cfg)
	ctx := testkit.Context(t, 30*time.Second)
	if _, err := kadm.NewClient(client(t, c)).CreateTopic(ctx, 1, 1, nil, "full"); err != nil {
		t.Fatal(err)
	}
	fullDisk(t, cfg.DataDir, "full")
	// Two tries: the retry must fail too, not be acknowledged as a duplicate
	// of the batch the disk refused.
	cl := client(t, c, kgo.RecordRetries(2), kgo.RetryBackoffFn(func(int) time.Duration { return 10 * time.Millisecond }),
		kgo.MetadataMinAge(10*time.Millisecond))
	err := cl.ProduceSync(ctx, &kgo.Record{Topic: "full", Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.KafkaStorageError) {
		t.Fatalf("produce onto a full disk: %v, want KAFKA_STORAGE_ERROR", err)
	}
}
