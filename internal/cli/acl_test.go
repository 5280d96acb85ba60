package cli_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/ksuite/ksuite/internal/testkit"
)

// TestACLsGrantExactly: a new user can do nothing; after `ksuite topics
// apply` of an acls: section it can do exactly what the entries grant —
// on the embedded-like kfake and on Apache Kafka configured the same way.
func TestACLsGrantExactly(t *testing.T) {
	testkit.ForEachSecureCluster(t, func(t *testing.T, c testkit.SecureCluster) {
		admin := secureEnv(c, testkit.AdminUser, c.AdminPassword)
		user, password := c.NewUser(t)
		alice := secureEnv(c, user, password)
		alice["KSUITE_TIMEOUT"] = "20s" // a fresh cluster loads __consumer_offsets for the first group
		suffix := testkit.RandomSuffix()
		orders, payments, group := "ksuite-test-orders-"+suffix, "ksuite-test-payments-"+suffix, "billing-"+suffix
		file := writeTopics(t, fmt.Sprintf(`manage:
  prefixes: [ksuite-test-orders-%[4]s, ksuite-test-payments-%[4]s]
topics:
  - {name: %[1]s, partitions: 1, replication-factor: 1}
  - {name: %[2]s, partitions: 1, replication-factor: 1}
acls:
  - principal: User:%[5]s
    resource: topic
    name: %[1]s
    operations: [write, read, describe]
  - principal: User:%[5]s
    resource: group
    name: %[3]s
    operations: [read]
`, orders, payments, group, suffix, user))
		t.Cleanup(func() {
			runStdin(t, "", admin, "topics", "apply", "-f", writeTopics(t, "manage:\n  prefixes: [ksuite-test-orders-"+suffix+", ksuite-test-payments-"+suffix+"]\n"), "--auto-approve", "--allow-delete")
		})

		// Before any ACL, the user is refused even what it will be granted.
		if r := runStdin(t, "", admin, "topics", "apply", "-f", writeTopics(t, fmt.Sprintf("topics:\n  - {name: %s, partitions: 1, replication-factor: 1}\n", orders)), "--auto-approve"); r.code != 0 {
			t.Fatalf("creating the topic: %s", r.errOut)
		}
		if r := runStdin(t, "", alice, "produce", orders, "--value", "x"); r.code == 0 || !strings.Contains(r.errOut, "TOPIC_AUTHORIZATION_FAILED") {
			t.Fatalf("a user without ACLs produced: exit %d %s", r.code, r.errOut)
		}

		r := runStdin(t, "", admin, "topics", "apply", "-f", file, "--auto-approve")
		if r.code != 0 || !strings.Contains(r.out, "4 ACL(s) created, 0 ACL(s) deleted") {
			t.Fatalf("topics apply: exit %d\n%s\n%s", r.code, r.out, r.errOut)
		}
		if r = runStdin(t, "", admin, "topics", "plan", "-f", file, "--detailed-exitcode"); r.code != 0 {
			t.Fatalf("plan after apply: exit %d\n%s", r.code, r.out)
		}

		if r := runStdin(t, "", alice, "produce", orders, "--value", "granted"); r.code != 0 {
			t.Fatalf("produce to the granted topic: %s", r.errOut)
		}
		if r := runStdin(t, "", alice, "consume", orders, "--group", group, "--from-beginning", "--count", "1"); r.code != 0 || r.out != "granted\n" {
			t.Fatalf("consume with the granted group: exit %d %q %s", r.code, r.out, r.errOut)
		}
		denied := []struct {
			args []string
			want string
		}{
			{[]string{"produce", payments, "--value", "x"}, "TOPIC_AUTHORIZATION_FAILED"},
			{[]string{"consume", payments, "--from-beginning", "--count", "1"}, "TOPIC_AUTHORIZATION_FAILED"},
			{[]string{"consume", orders, "--group", "other-" + suffix, "--from-beginning", "--count", "1"}, "GROUP_AUTHORIZATION_FAILED"},
			// Not users list: Apache Kafka 4.1 never answers a DescribeUserScramCredentials
			// for all users from someone not allowed (NullPointerException in the broker).
			{[]string{"users", "add", "mallory", "--password", "x"}, "CLUSTER_AUTHORIZATION_FAILED"},
		}
		for _, d := range denied {
			if r := runStdin(t, "", alice, d.args...); r.code == 0 || !strings.Contains(r.errOut, d.want) {
				t.Errorf("%v: exit %d, stderr %q; want it refused with %s", d.args, r.code, r.errOut, d.want)
			}
		}
	})
}
