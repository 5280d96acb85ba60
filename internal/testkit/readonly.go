package testkit

import (
	"os"
	"os/exec"
	"testing"
)

// ReadOnly makes path unwritable until the test ends, for tests of what a
// command does when it cannot write its files. Permission bits do not stop
// root, so as root it sets the immutable attribute (chattr +i), and skips
// the test where chattr is missing or the file system has no such
// attribute.
func ReadOnly(t testing.TB, path string) {
	t.Helper()
	if os.Geteuid() != 0 {
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, info.Mode().Perm()&^0o222); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = os.Chmod(path, info.Mode().Perm()) })
		return
	}
	if out, err := exec.Command("chattr", "+i", path).CombinedOutput(); err != nil {
		t.Skipf("cannot make %s read-only for root (chattr +i: %v %s)", path, err, out)
	}
	t.Cleanup(func() { _ = exec.Command("chattr", "-i", path).Run() })
}
