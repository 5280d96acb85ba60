//go:build !linux

package suite_test

import "time"

func processCPU() time.Duration  { return 0 }
func postgresCPU() time.Duration { return 0 }
