package ksuitetest_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// outsideTest is a test of a team's own module, which imports ksuitetest
// as any user would: a require of ksuite and nothing else about kfake.
const outsideTest = `package outside

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/ksuite/ksuite/ksuitetest"
)

func TestOutside(t *testing.T) {
	k := ksuitetest.Start(t, ksuitetest.Topics("orders"))
	k.PublishRaw(t, "orders", []byte("k"), []byte("v"))
	if r := k.WaitForRecord(t, "orders", 10*time.Second, func(*kgo.Record) bool { return true }); string(r.Value) != "v" {
		t.Fatalf("got %q", r.Value)
	}
}
`

// TestUsableFromAnotherModule: a module that requires ksuite builds and
// runs ksuitetest with nothing more in its go.mod. Go ignores the replace
// directives of dependencies, so the patched embedded broker must be part
// of the ksuite module itself, not a replace of upstream kfake.
func TestUsableFromAnotherModule(t *testing.T) {
	if testing.Short() {
		t.Skip("builds another module")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		goCmd = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	gomod := "module example.com/outside\n\ngo 1.26\n\nrequire github.com/ksuite/ksuite v0.0.0\n\nreplace github.com/ksuite/ksuite => " + root + "\n"
	for name, text := range map[string]string{"go.mod": gomod, "outside_test.go": outsideTest} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, args := range [][]string{{"mod", "tidy"}, {"test", "-count=1", "."}} {
		cmd := exec.Command(goCmd, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %v in a module that requires ksuite: %v\n%s", args, err, out)
		}
	}
}
