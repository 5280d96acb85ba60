package topics_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ksuite/ksuite/internal/testkit"
	"github.com/ksuite/ksuite/topics"
)

// TestACLsPlanApplyExport: the acls: section follows the rules of topics —
// plan shows the diff, apply creates, deletes wait for AllowDelete, and an
// export plans no changes.
func TestACLsPlanApplyExport(t *testing.T) {
	testkit.ForEachSecureCluster(t, func(t *testing.T, c testkit.SecureCluster) {
		ctx := testkit.Context(t, 2*time.Minute)
		cl, err := c.AdminConfig().NewClient()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		principal := "User:ksuite-test-acl-" + testkit.RandomSuffix()
		t.Cleanup(func() { testkit.DeleteACLsOf(context.Background(), cl, principal) })
		topic := testkit.TopicName(t)

		full := fmt.Sprintf(`acls:
  - principal: %[1]s
    resource: topic
    name: %[2]s
    operations: [write, describe]
  - principal: %[1]s
    resource: group
    prefix: g-
    operations: [read]
`, principal, topic)
		plan := func(yaml string) *topics.PlanResult {
			t.Helper()
			d, err := topics.Parse("acls.yaml", []byte(yaml), "")
			if err != nil {
				t.Fatal(err)
			}
			p, err := topics.Plan(ctx, cl, d)
			if err != nil {
				t.Fatal(err)
			}
			return p
		}
		p := plan(full)
		if s := p.Summary(); s.ACLCreate != 3 || s.ACLDelete != 0 || !p.HasChanges() || p.ACLsSkipped != "" {
			t.Fatalf("first plan: %+v, skipped %q", s, p.ACLsSkipped)
		}
		var text bytes.Buffer
		if err := p.WriteText(&text); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"+ acl " + principal + " allow write on topic " + topic, "+ acl " + principal + " allow read on group g-* (prefix)", "ACLs: 3 to create, 0 to delete."} {
			if !strings.Contains(text.String(), want) {
				t.Fatalf("plan text lacks %q:\n%s", want, text.String())
			}
		}
		var js struct {
			ACLs    []map[string]string `json:"acls"`
			Summary map[string]int      `json:"summary"`
		}
		if b, err := json.Marshal(p); err != nil || json.Unmarshal(b, &js) != nil || len(js.ACLs) != 3 || js.Summary["aclCreate"] != 3 || js.ACLs[0]["action"] != "create" || js.ACLs[0]["principal"] != principal {
			t.Fatalf("plan JSON: %v %s", err, b)
		}

		res, err := topics.Apply(ctx, cl, p, topics.ApplyOptions{})
		if err != nil || res.Applied.ACLCreate != 3 {
			t.Fatalf("apply: %+v %v", res, err)
		}
		if p := plan(full); p.HasChanges() {
			t.Fatalf("plan after apply: %+v", p.ACLs)
		}

		// Export, and the exported file plans nothing for this principal.
		exported, err := topics.Export(ctx, cl, topics.ExportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		d, err := topics.Parse("export.yaml", exported, "")
		if err != nil {
			t.Fatalf("export does not parse: %v\n%s", err, exported)
		}
		mine := &topics.Desired{}
		for _, a := range d.ACLs {
			if a.Principal == principal {
				mine.ACLs = append(mine.ACLs, a)
			}
		}
		if len(mine.ACLs) != 3 {
			t.Fatalf("export has %d ACLs of %s, want 3:\n%s", len(mine.ACLs), principal, exported)
		}
		if p, err := topics.Plan(ctx, cl, mine); err != nil || p.HasChanges() {
			t.Fatalf("plan of the export: %v %+v", err, p)
		}

		// Dropping the group entry deletes its ACL, but only when allowed.
		fewer := strings.SplitN(full, "  - principal: "+principal+"\n    resource: group", 2)[0]
		p = plan(fewer)
		if s := p.Summary(); s.ACLDelete != 1 || s.ACLCreate != 0 {
			t.Fatalf("plan without the group entry: %+v", s)
		}
		res, err = topics.Apply(ctx, cl, p, topics.ApplyOptions{})
		if err != nil || res.Applied.ACLDelete != 0 || len(res.SkippedACLDeletes) != 1 {
			t.Fatalf("apply without AllowDelete: %+v %v", res, err)
		}
		res, err = topics.Apply(ctx, cl, plan(fewer), topics.ApplyOptions{AllowDelete: true})
		if err != nil || res.Applied.ACLDelete != 1 {
			t.Fatalf("apply with AllowDelete: %+v %v", res, err)
		}
		if p := plan(fewer); p.HasChanges() {
			t.Fatalf("plan after the delete: %+v", p.ACLs)
		}
	})
}

// TestACLsWithoutAuthorizer: a cluster without ACLs (ksuite up on
// loopback) plans no ACL changes and says why.
func TestACLsWithoutAuthorizer(t *testing.T) {
	c := testkit.NewFake(t)
	d, err := topics.Parse("acls.yaml", []byte("acls:\n  - {principal: User:a, resource: topic, name: t, operations: [read]}\n"), "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := topics.Plan(testkit.Context(t, 30*time.Second), c.Client(t), d)
	if err != nil {
		t.Fatal(err)
	}
	if p.HasChanges() || !strings.Contains(p.ACLsSkipped, "no authorizer") {
		t.Fatalf("plan: changes=%v skipped=%q", p.ACLs, p.ACLsSkipped)
	}
}
