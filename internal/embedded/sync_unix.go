//go:build !windows

package embedded

import "os"

// syncDir makes a directory's entries (files created, renamed or removed
// in it) durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
