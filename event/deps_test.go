package event

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The event package must not make its importers link what only some of
// them use: pgx (package eventpg), Prometheus (package eventprom), or a SQL
// driver (the caller picks one).
func TestDependencies(t *testing.T) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	out, err := exec.Command(goCmd, "list", "-deps", "github.com/ksuite/ksuite/event").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"github.com/jackc/", "github.com/prometheus/", "modernc.org/", "github.com/lib/pq"} {
			if strings.HasPrefix(dep, banned) {
				t.Errorf("package event depends on %s", dep)
			}
		}
	}
}
