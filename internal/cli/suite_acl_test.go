package cli_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/internal/users"
	"github.com/ksuite/ksuite/topics"
)

// TestSuiteACLExample: the acls: section of the repository's topics.yaml
// lets each Suite service do its job and nothing else. Every name gets a
// unique prefix, so the shared cluster's own topics and users are untouched.
func TestSuiteACLExample(t *testing.T) {
	d, err := topics.Load("", "../../topics.yaml")
	if err != nil {
		t.Fatal(err)
	}
	testkit.ForEachSecureCluster(t, func(t *testing.T, c testkit.SecureCluster) {
		prefix := "ksuite-test-" + testkit.RandomSuffix() + "-"
		mine := prefixed(d, prefix)
		ctx := testkit.Context(t, 2*time.Minute)
		cl, err := c.AdminConfig().NewClient()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		adm := c.Admin(t)
		t.Cleanup(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if p, err := topics.Plan(ctx, cl, &topics.Desired{Manage: []string{prefix}}); err == nil {
				_, _ = topics.Apply(ctx, cl, p, topics.ApplyOptions{AllowDelete: true})
			}
		})
		env := map[string]map[string]string{}
		for _, service := range []string{"member-service", "suiteroom-service"} {
			name := prefix + service
			if _, err := users.Set(ctx, adm, name, service+"-pw", users.DefaultMechanism, 0); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_ = users.Delete(ctx, adm, name)
				testkit.DeleteACLsOf(ctx, cl, "User:"+name)
			})
			c.WaitAuthenticates(t, name, service+"-pw")
			env[service] = secureEnv(c, name, service+"-pw")
			env[service]["KSUITE_TIMEOUT"] = "20s"
		}
		p, err := topics.Plan(ctx, cl, mine)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := topics.Apply(ctx, cl, p, topics.ApplyOptions{}); err != nil {
			t.Fatal(err)
		}

		member, room := env["member-service"], env["suiteroom-service"]
		allowed := []struct {
			env   map[string]string
			stdin string
			args  []string
		}{
			{member, "", []string{"produce", prefix + "signup-event", "--value", "member-1"}},
			{room, "", []string{"consume", prefix + "signup-event", "--group", prefix + "suiteroom-service.signup-event", "--from-beginning", "--count", "1"}},
			{room, "", []string{"produce", prefix + "signup-event.DLT", "--value", "bad"}},
			{room, "", []string{"produce", prefix + "deposit-payment", "--value", "pay"}},
			{room, "", []string{"produce", prefix + "suiteroom-contract-creation", "--value", "contract"}},
		}
		for _, a := range allowed {
			if r := runStdin(t, a.stdin, a.env, a.args...); r.code != 0 {
				t.Fatalf("%s %v refused: %s", a.env["KSUITE_SASL_USERNAME"], a.args, r.errOut)
			}
		}
		denied := []struct {
			env  map[string]string
			args []string
			want string
		}{
			{member, []string{"consume", prefix + "signup-event", "--from-beginning", "--count", "1"}, "TOPIC_AUTHORIZATION_FAILED"},
			{member, []string{"produce", prefix + "deposit-payment", "--value", "x"}, "TOPIC_AUTHORIZATION_FAILED"},
			{room, []string{"produce", prefix + "signup-event", "--value", "x"}, "TOPIC_AUTHORIZATION_FAILED"},
			{room, []string{"consume", prefix + "deposit-payment", "--from-beginning", "--count", "1"}, "TOPIC_AUTHORIZATION_FAILED"},
			{room, []string{"consume", prefix + "suiteroom-join", "--group", prefix + "someone-else", "--count", "1"}, "GROUP_AUTHORIZATION_FAILED"},
		}
		for _, dn := range denied {
			if r := runStdin(t, "", dn.env, dn.args...); r.code == 0 || !strings.Contains(r.errOut, dn.want) {
				t.Errorf("%s %v: exit %d %q, want %s", dn.env["KSUITE_SASL_USERNAME"], dn.args, r.code, r.errOut, dn.want)
			}
		}
	})
}

// prefixed is d with prefix before every topic, ACL resource and
// principal name. A topic an ACL names that d does not declare (yet) is
// declared with one partition, so the grants can be exercised.
func prefixed(d *topics.Desired, prefix string) *topics.Desired {
	out := &topics.Desired{Manage: []string{prefix}}
	declared := map[string]bool{}
	for _, tp := range d.Topics {
		tp.Name = prefix + tp.Name
		declared[tp.Name] = true
		out.Topics = append(out.Topics, tp)
	}
	for _, a := range d.ACLs {
		a.Principal = "User:" + prefix + strings.TrimPrefix(a.Principal, "User:")
		a.Name = prefix + a.Name
		if a.ResourceType == topics.ResourceTopic && a.Pattern == topics.PatternLiteral && !declared[a.Name] {
			declared[a.Name] = true
			out.Topics = append(out.Topics, topics.Topic{Name: a.Name, Partitions: 1, ReplicationFactor: 1})
		}
		out.ACLs = append(out.ACLs, a)
	}
	return out
}
