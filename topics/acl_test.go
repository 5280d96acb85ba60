package topics

import (
	"strings"
	"testing"
)

func TestParseACLs(t *testing.T) {
	d, err := Parse("t.yaml", []byte(`
manage:
  principals: [User:retired]
acls:
  - principal: User:members
    resource: topic
    name: signup-event
    operations: [write, describe]
  - principal: User:suiteroom
    resource: topic
    prefix: suiteroom-
    operations: read
  - principal: User:suiteroom
    resource: group
    name: suiteroom
    operations: [read]
    permission: deny
    host: 10.0.0.5
  - principal: User:members
    resource: cluster
    operations: [idempotent-write]
  - principal: User:audit
    resource: topic
    name: [a, b]
    operations: [read, describe]
`), "")
	if err != nil {
		t.Fatal(err)
	}
	got := make([]string, len(d.ACLs))
	for i, a := range d.ACLs {
		got[i] = a.String() + " @" + a.Pos.String()
	}
	want := []string{
		"User:audit allow describe on topic a @t.yaml:22",
		"User:audit allow read on topic a @t.yaml:22",
		"User:audit allow describe on topic b @t.yaml:22",
		"User:audit allow read on topic b @t.yaml:22",
		"User:members allow idempotent-write on cluster kafka-cluster @t.yaml:19",
		"User:members allow describe on topic signup-event @t.yaml:5",
		"User:members allow write on topic signup-event @t.yaml:5",
		"User:suiteroom deny read on group suiteroom from 10.0.0.5 @t.yaml:13",
		"User:suiteroom allow read on topic suiteroom-* (prefix) @t.yaml:9",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("ACLs\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !d.ownsPrincipal("User:retired") || !d.ownsPrincipal("User:members") || d.ownsPrincipal("User:other") {
		t.Fatal("owned principals are the declared ones plus manage.principals")
	}
	for _, a := range d.ACLs {
		if a.Host == "" || a.Permission == "" || a.Pattern == "" {
			t.Fatalf("defaults not filled: %+v", a)
		}
	}
}

func TestACLProblems(t *testing.T) {
	tests := []struct {
		name, entry, want string
	}{
		{"principal without type", "principal: alice\n    resource: topic\n    name: t\n    operations: [read]", `principal "alice" must be TYPE:NAME`},
		{"unknown resource", "principal: User:a\n    resource: table\n    name: t\n    operations: [read]", `resource "table": use topic, group, cluster or transactional-id`},
		{"operation not for the resource", "principal: User:a\n    resource: group\n    name: g\n    operations: [write]", `operation "write" does not apply to a group: use read, describe, delete, all`},
		{"unknown operation", "principal: User:a\n    resource: topic\n    name: t\n    operations: [readd]", `operation "readd" does not apply to a topic`},
		{"name and prefix", "principal: User:a\n    resource: topic\n    name: t\n    prefix: t\n    operations: [read]", "give exactly one of name:"},
		{"neither", "principal: User:a\n    resource: topic\n    operations: [read]", "give exactly one of name:"},
		{"empty prefix", "principal: User:a\n    resource: topic\n    prefix: \"\"\n    operations: [read]", "an empty name or prefix matches nothing"},
		{"cluster name", "principal: User:a\n    resource: cluster\n    name: prod\n    operations: [describe]", "its name is kafka-cluster"},
		{"cluster prefix", "principal: User:a\n    resource: cluster\n    prefix: k\n    operations: [describe]", "takes no prefix"},
		{"permission", "principal: User:a\n    resource: topic\n    name: t\n    operations: [read]\n    permission: maybe", `permission "maybe": use allow or deny`},
		{"no operations", "principal: User:a\n    resource: topic\n    name: t", "has no operations"},
		{"unknown key", "principal: User:a\n    resource: topic\n    name: t\n    operations: [read]\n    user: x", `unknown key "user"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("t.yaml", []byte("acls:\n  - "+tt.entry+"\n"), "")
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "t.yaml:") {
				t.Fatalf("error %v, want %q with a position", err, tt.want)
			}
		})
	}
	_, err := Parse("t.yaml", []byte("acls:\n  - {principal: User:a, resource: topic, name: t, operations: [read]}\n  - {principal: User:a, resource: topic, name: t, operations: [read, write]}\n"), "")
	if err == nil || !strings.Contains(err.Error(), "t.yaml:3: error: acl User:a allow read on topic t is declared twice (also at t.yaml:2)") {
		t.Fatalf("duplicate binding: %v", err)
	}
	_, err = Parse("t.yaml", []byte("manage:\n  principals: [alice]\n"), "")
	if err == nil || !strings.Contains(err.Error(), `manage.principals: "alice" must be TYPE:NAME`) {
		t.Fatalf("bad managed principal: %v", err)
	}
}

func acl(principal string, rt ResourceType, name string, op Operation) ACL {
	return ACL{Principal: principal, Host: "*", ResourceType: rt, Name: name, Pattern: PatternLiteral, Operation: op, Permission: PermissionAllow}
}

func TestDiffACLs(t *testing.T) {
	keep := acl("User:a", ResourceTopic, "t", "read")
	add := acl("User:a", ResourceTopic, "t", "write")
	stale := acl("User:a", ResourceGroup, "g", "read")
	retired := acl("User:retired", ResourceTopic, "t", "read")
	foreign := acl("User:someone-else", ResourceTopic, "t", "read")
	d := &Desired{ACLs: []ACL{keep, add}, ManagePrincipals: []string{"User:retired"}}
	o := observedACLs{enabled: true, acls: []ACL{keep, stale, retired, foreign}}

	changes, skipped := diffACLs(d, o)
	if skipped != "" {
		t.Fatal(skipped)
	}
	var got []string
	for _, c := range changes {
		got = append(got, string(c.Action)+" "+c.ACL.String())
	}
	want := []string{
		"create User:a allow write on topic t",
		"delete User:a allow read on group g",
		"delete User:retired allow read on topic t",
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("changes\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	changes, skipped = diffACLs(d, observedACLs{})
	if len(changes) != 0 || !strings.Contains(skipped, "no authorizer") {
		t.Fatalf("without an authorizer: %v %q", changes, skipped)
	}
}

func TestExportACLsGroupsOperations(t *testing.T) {
	as := []ACL{
		acl("User:a", ResourceTopic, "t", "read"),
		acl("User:a", ResourceTopic, "t", "write"),
		{Principal: "User:a", Host: "*", ResourceType: ResourceTopic, Name: "p-", Pattern: PatternPrefixed, Operation: "read", Permission: PermissionDeny},
		acl("User:a", ResourceCluster, ClusterResourceName, "idempotent-write"),
	}
	sortACLs(as)
	got := exportACLs(as)
	if len(got) != 3 {
		t.Fatalf("%d entries, want 3: %+v", len(got), got)
	}
	for _, e := range got {
		switch {
		case e.Resource == "cluster" && (e.Name != "" || e.Prefix != ""):
			t.Fatalf("cluster entry names a resource: %+v", e)
		case e.Prefix == "p-" && (e.Permission != "deny" || e.Name != ""):
			t.Fatalf("prefixed deny: %+v", e)
		case e.Name == "t" && strings.Join(e.Operations, ",") != "read,write":
			t.Fatalf("operations not grouped: %+v", e)
		}
	}
}
