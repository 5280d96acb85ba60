package testkit

import (
	"os"
	"testing"
)

func TestForEachClusterDBPairs(t *testing.T) {
	var got []string
	ForEachClusterDB(t, func(t *testing.T, c Cluster, db DB) {
		got = append(got, c.Name+"+"+db.Name)
		if err := db.PingContext(Context(t, 10*1e9)); err != nil {
			t.Fatal(err)
		}
	})
	want := []string{"kfake+sqlite"}
	if os.Getenv(EnvKafka) != "" && os.Getenv(EnvPostgres) != "" {
		want = append(want, "kafka+postgres")
	}
	if len(got) != len(want) || got[0] != want[0] || (len(want) == 2 && got[1] != want[1]) {
		t.Fatalf("pairs %v, want %v", got, want)
	}
}
