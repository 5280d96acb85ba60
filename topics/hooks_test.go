package topics

import (
	"context"

	"github.com/twmb/franz-go/pkg/kgo"
)

// PlanSeeingBrokers is [Plan] made while the cluster had brokers live
// brokers: what a plan looks like when brokers leave between plan and
// apply. Tests use it on clusters whose brokers they may not stop. The
// plan keeps the real brokers for Apply's waits.
func PlanSeeingBrokers(ctx context.Context, cl *kgo.Client, d *Desired, brokers int) (*PlanResult, error) {
	names := make([]string, len(d.Topics))
	for i, t := range d.Topics {
		names[i] = t.Name
	}
	s, err := readState(ctx, cl, names)
	if err != nil {
		return nil, err
	}
	seen := *s
	seen.brokers = append([]broker(nil), s.brokers...)
	for id := int32(1 << 20); len(seen.brokers) < brokers; id++ {
		seen.brokers = append(seen.brokers, broker{id: id})
	}
	p, err := diff(d, &seen)
	if err != nil {
		return nil, err
	}
	p.state = s
	return p, nil
}
