package event

import (
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// handledOnly observes one thing, as an outside observer written before
// later measurements were added would.
type handledOnly struct{}

func (handledOnly) Handled(string, string, time.Duration) {}

// wrongSignature looks like an observer but matches no interface.
type wrongSignature struct{}

func (wrongSignature) Handled(string, string) {}

// An Observer may implement any subset of the observer interfaces; one
// that implements none is a mistake the configs report.
func TestObserverValidate(t *testing.T) {
	seeds := []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1")}
	for _, tc := range []struct {
		name    string
		obs     Observer
		wantErr string
	}{
		{"none", nil, ""},
		{"one interface", handledOnly{}, ""},
		{"outbox only", backlogSpy{&counter{}}, ""},
		{"no interface", wrongSignature{}, "event.wrongSignature) implements none of the observer interfaces"},
		{"not even a type with methods", 42, "(int) implements none"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := RouterConfig{ClientOpts: seeds, Observer: tc.obs}
			lc := RelayConfig{Outbox: &Outbox{}, Producer: &Producer{}, Observer: tc.obs}
			for name, err := range map[string]error{"RouterConfig": rc.Validate(), "RelayConfig": lc.Validate()} {
				switch {
				case tc.wantErr == "" && err != nil:
					t.Errorf("%s.Validate() = %v, want nil", name, err)
				case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) ||
					!strings.Contains(err.Error(), name+".Observer")):
					t.Errorf("%s.Validate() = %v, want an error naming %s.Observer and containing %q", name, err, name, tc.wantErr)
				}
			}
		})
	}
	// What the router calls is what the observer has; the rest are no-ops.
	ob := resolveObserver(handledOnly{})
	if !ob.timed || ob.wantBacklog || !ob.any {
		t.Errorf("resolved handledOnly: timed %v, wantBacklog %v, any %v; want true, false, true", ob.timed, ob.wantBacklog, ob.any)
	}
	ob.consumed("g", "t", 0) // a no-op, not a nil func
}
