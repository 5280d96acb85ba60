package topics

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestAlterConfigsResultsReportsEveryFailure: a shard failing as a whole
// must not hide a topic another shard refused, nor the topics it changed.
func TestAlterConfigsResultsReportsEveryFailure(t *testing.T) {
	shard := func(ok []string, refused map[string]kerr.Error, err error) kgo.ResponseShard {
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		resp := kmsg.NewPtrIncrementalAlterConfigsResponse()
		for _, name := range ok {
			rr := kmsg.NewIncrementalAlterConfigsRequestResource()
			rr.ResourceName = name
			req.Resources = append(req.Resources, rr)
			r := kmsg.NewIncrementalAlterConfigsResponseResource()
			r.ResourceName = name
			resp.Resources = append(resp.Resources, r)
		}
		for _, name := range sortedKeys(refused) {
			rr := kmsg.NewIncrementalAlterConfigsRequestResource()
			rr.ResourceName = name
			req.Resources = append(req.Resources, rr)
			r := kmsg.NewIncrementalAlterConfigsResponseResource()
			r.ResourceName = name
			r.ErrorCode = refused[name].Code
			r.ErrorMessage = kmsg.StringPtr("refused by the test")
			resp.Resources = append(resp.Resources, r)
		}
		if err != nil {
			return kgo.ResponseShard{Req: req, Err: err}
		}
		return kgo.ResponseShard{Req: req, Resp: resp}
	}
	lost := errors.New("connection lost")
	ok, errs := alterConfigsResults([]kgo.ResponseShard{
		shard([]string{"a"}, map[string]kerr.Error{"b": *kerr.InvalidConfig}, nil),
		shard([]string{"c", "d"}, nil, lost),
		shard([]string{"e"}, map[string]kerr.Error{"f": *kerr.TopicAuthorizationFailed}, nil),
	})
	if !slices.Equal(ok, []string{"a", "e"}) {
		t.Errorf("changed = %v, want [a e]", ok)
	}
	all := errors.Join(errs...)
	for _, want := range []string{"change configs of b: INVALID_CONFIG", "refused by the test", "change configs of c, d: connection lost", "change configs of f: TOPIC_AUTHORIZATION_FAILED"} {
		if all == nil || !strings.Contains(all.Error(), want) {
			t.Errorf("errors = %v, want one containing %q", all, want)
		}
	}
	if len(errs) != 3 || !errors.Is(all, lost) || !errors.Is(all, kerr.InvalidConfig) {
		t.Errorf("errors = %v, want 3 wrapping the shard's and the brokers' errors", errs)
	}
}
