package event

import (
	"errors"
	"fmt"
	"reflect"
	"runtime"
	"strings"

	"github.com/twmb/franz-go/pkg/kgo"
)

// routerOwnedOpts are the franz-go options the router sets on its clients
// itself, by option function name, each with what to use instead. Passed in
// RouterConfig.ClientOpts they would be overridden without a word (a
// ConsumeResetOffset meant as Spring's auto.offset.reset=latest would make
// a new group read the topic's history), so Validate rejects them.
var routerOwnedOpts = []struct{ name, fix string }{
	{"ConsumerGroup", "the group is the first argument of Router.Handle"},
	{"ConsumeTopics", "topics are registered with Router.Handle"},
	{"ConsumeRegex", "topics are registered with Router.Handle"},
	{"ConsumePartitions", "the router consumes in groups; register topics with Router.Handle"},
	{"ConsumeResetOffset", "set RouterConfig.ResetOffset"},
	{"InstanceID", "set RouterConfig.InstanceID"},
	{"Balancers", "the router balances cooperative-sticky, which its revoke handling relies on"},
	{"FetchIsolationLevel", "the router reads read_committed, so aborted transactions never reach handlers"},
	{"DisableAutoCommit", "the router commits what handlers finished (AutoCommitMarks)"},
	{"OnPartitionsRevoked", "the router commits finished work on revoke; see new assignments with kgo.OnPartitionsAssigned, which the router leaves to you"},
	{"OnPartitionsLost", "the router drops lost partitions' retries and logs the loss; see new assignments with kgo.OnPartitionsAssigned, which the router leaves to you"},
	{"OnPartitionsCallbackBlocked", "the router ends its poll round when a rebalance waits"},
	{"RequiredAcks", "the router writes dead letters with acks=all"},
	{"TransactionalID", "the dead-letter producer is not transactional"},
}

// checkRouterClientOpts rejects the options in opts that the router sets
// itself, all of them at once.
func checkRouterClientOpts(opts []kgo.Opt) error {
	var errs []error
	for _, opt := range opts {
		fn := optFuncName(opt)
		for _, o := range routerOwnedOpts {
			if strings.Contains(fn, "."+o.name+".func") {
				errs = append(errs, fmt.Errorf("event: RouterConfig.ClientOpts has kgo.%s, which the router sets itself: %s", o.name, o.fix))
			}
		}
	}
	return errors.Join(errs...)
}

// optFuncName names the code of the closure inside a kgo option, "" when
// the option is not the struct-around-a-func franz-go builds. The closure
// is named after the option function that made it, also when that function
// is inlined into its caller ("kgo.ConsumeResetOffset.func1", or
// "main.setup.ConsumeResetOffset.func3"). franz-go's own Client.OptValue
// tells options apart by their function names the same way; it cannot be
// used here because it reports values, not whether an option was given,
// and the group callbacks only as franz-go's wrappers around them.
func optFuncName(opt kgo.Opt) string {
	v := reflect.ValueOf(opt)
	if v.Kind() != reflect.Struct || v.NumField() == 0 || v.Field(0).Kind() != reflect.Func || v.Field(0).IsNil() {
		return ""
	}
	f := runtime.FuncForPC(v.Field(0).Pointer())
	if f == nil {
		return ""
	}
	return f.Name()
}
