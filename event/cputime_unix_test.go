//go:build unix

package event

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the test process has used: the
// client and, on kfake, the in-process brokers.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
