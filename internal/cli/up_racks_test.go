package cli_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/ksuite/ksuite/internal/testkit"
)

func TestUpRacksRefused(t *testing.T) {
	base := strconv.Itoa(testkit.FreePortBase(t, 3))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"fewer racks than brokers", []string{"--racks", "a,b"}, "--racks a,b: 2 rack(s) for 3 brokers; give one rack per broker, e.g. --racks a,b,c"},
		{"an empty rack", []string{"--racks", "a,,c"}, "--racks a,,c: rack 2 of 3 is empty"},
		{"with an existing cluster", []string{"--brokers", "127.0.0.1:1", "--racks", "a,b,c"}, "with --brokers the existing cluster's brokers keep their own broker.rack: drop --racks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runKsuite(t, append([]string{"up", "--in-memory", "--port-base", base}, tt.args...)...)
			if r.code != 1 || !strings.Contains(r.errOut, tt.want) || r.out != "" {
				t.Fatalf("ksuite up %s: exit %d, stdout %q, stderr %q; want exit 1 and %q", strings.Join(tt.args, " "), r.code, r.out, r.errOut, tt.want)
			}
		})
	}
}
